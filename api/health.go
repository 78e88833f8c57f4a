package api

import (
	"github.com/gofiber/fiber/v2"
)

// health answers liveness without auth or dependencies.
func (s *Server) health(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// models answers the public part of the catalogue.
func (s *Server) models(c *fiber.Ctx) error {
	return c.JSON(s.deps.Catalogue.PublicModels())
}
