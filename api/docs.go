package api

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The docs page is one self-contained HTML page: its stylesheet and script are inlined, it
// loads no asset from anywhere, and its script fetches /openapi.json and renders the routes,
// parameters, bodies and responses with plain DOM calls (text only, never innerHTML).
var (
	//go:embed docs/docs.html
	docsTemplate string
	//go:embed docs/docs.css
	docsCSS string
	//go:embed docs/docs.js
	docsJS string
)

// docsPage is the assembled page and docsCSP the Content-Security-Policy that allows exactly
// its inline style and script (by hash), fetches from this origin and nothing else.
var docsPage, docsCSP = buildDocsPage()

func buildDocsPage() (page, csp string) {
	page = strings.Replace(docsTemplate, "{{STYLE}}", docsCSS, 1)
	page = strings.Replace(page, "{{SCRIPT}}", docsJS, 1)
	csp = "default-src 'none'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; " +
		"style-src '" + cspHash(docsCSS) + "'; script-src '" + cspHash(docsJS) + "'"
	return page, csp
}

// cspHash is the CSP source expression of an inline element's content.
func cspHash(content string) string {
	sum := sha256.Sum256([]byte(content))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// docs answers the HTML page that renders /openapi.json, without auth.
func (s *Server) docs(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderContentSecurityPolicy, docsCSP)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.SendString(docsPage)
}
