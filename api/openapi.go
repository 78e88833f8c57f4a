package api

import (
	_ "embed"
	"fmt"

	"github.com/gofiber/fiber/v2"
	"sigs.k8s.io/yaml"
)

// openAPIYAML is the API contract, maintained by hand beside the routes (see its header).
//
//go:embed openapi.yaml
var openAPIYAML []byte

// openAPIJSON is the contract as JSON, converted once: the file is part of the binary, so a
// file that does not convert is a build defect, caught by the package's tests.
var openAPIJSON = mustOpenAPIJSON(openAPIYAML)

func mustOpenAPIJSON(doc []byte) []byte {
	out, err := yaml.YAMLToJSON(doc)
	if err != nil {
		panic(fmt.Sprintf("api: openapi.yaml does not convert to JSON: %v", err))
	}
	return out
}

// OpenAPI returns the API contract as an OpenAPI 3 JSON document (a copy).
func OpenAPI() []byte { return append([]byte(nil), openAPIJSON...) }

// openAPI answers the contract, without auth.
func (s *Server) openAPI(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Send(openAPIJSON)
}
