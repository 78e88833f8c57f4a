package api

import (
	"github.com/gofiber/fiber/v2"
)

// settingsFile answers GET /settings: the whole catalogue file as loaded, without auth, like
// GET /models. The studio builds its forms from the file's rules (visibility, ranges, defaults,
// ui_logic), which GET /models reshapes; the runtime blocks (lanes, timeouts, retry policy,
// warm-up) stay in: they hold no secrets and tell a client how long a model may take.
func (s *Server) settingsFile(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Send(s.deps.Catalogue.Raw())
}
