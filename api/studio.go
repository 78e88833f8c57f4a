package api

import (
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/gooni/gooni/web"
)

// studioBundle returns the bundle to serve and whether it holds a built page: configured,
// else the one embedded in the binary.
func studioBundle(configured fs.FS) (fs.FS, bool) {
	if configured == nil {
		return web.Bundle()
	}
	_, err := fs.Stat(configured, "index.html")
	return configured, err == nil
}

// studioCSP allows the bundle's own scripts, styles and media and API calls to this origin,
// and nothing from anywhere else. Reference previews are blob:/data: URLs made in the page.
const studioCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// errStudioNotBuilt answers the pages when the binary was compiled before the bundle.
func errStudioNotBuilt() *Error {
	return newError(http.StatusServiceUnavailable, "studio_not_built",
		"This binary was built without the web studio.",
		"Run `make web` (or `make run`, which builds it) and rebuild the binary.")
}

// studioPage answers the single page of the studio ("/") and of the admin pages ("/admin"):
// the bundle's index.html, which routes by path and hash. It is revalidated on every load so a
// new deployment's bundle is picked up at once; the hashed assets it names are immutable.
func (s *Server) studioPage(c *fiber.Ctx) error {
	if !s.studioBuilt {
		return errStudioNotBuilt()
	}
	page, err := fs.ReadFile(s.studio, "index.html")
	if err != nil {
		return errStudioNotBuilt()
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderContentSecurityPolicy, studioCSP)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Send(page)
}

// studioAsset answers one file of the bundle's assets/ (content-hashed names, so cached for a year).
func (s *Server) studioAsset(c *fiber.Ctx) error {
	name := c.Params("file")
	if !s.studioBuilt || name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return fiber.ErrNotFound
	}
	data, err := fs.ReadFile(s.studio, path.Join("assets", name))
	if err != nil {
		return fiber.ErrNotFound
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	c.Set(fiber.HeaderContentType, ctype)
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	return c.Send(data)
}
