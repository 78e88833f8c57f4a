package api

import (
	"github.com/gofiber/fiber/v2"
)

// Response headers every answer carries.
const (
	// cacheNoStore is the default Cache-Control: answers carry task state or a key holder's data,
	// so neither browsers nor shared caches keep them. Routes that serve cacheable content
	// (results and previews) replace it.
	cacheNoStore = "no-store"
	// cacheImmutableMedia is the Cache-Control of results and previews: a task's files never
	// change once it is done, and only the key holder may keep them.
	cacheImmutableMedia = "private, max-age=31536000, immutable"
)

// securityHeaders sets, before the handler runs, the headers every response carries: no MIME
// sniffing (a result served as image/png is never run as HTML), no Referer (URLs may carry an
// api_key or a signature), no framing (clickjacking), and Cache-Control: no-store unless the
// handler sets its own. Setting them first means error answers, 404s of unknown routes, CORS
// preflights and the answers of middleware that stops the chain carry them too.
func securityHeaders(c *fiber.Ctx) error {
	h := &c.Response().Header
	h.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	h.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	h.Set(fiber.HeaderXFrameOptions, "DENY")
	h.Set(fiber.HeaderContentSecurityPolicy, "frame-ancestors 'none'")
	h.Set(fiber.HeaderCacheControl, cacheNoStore)
	return c.Next()
}
