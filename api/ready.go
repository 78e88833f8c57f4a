package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"go.temporal.io/sdk/client"

	"github.com/gooni/gooni/internal/ops"
)

// ready answers readiness without auth: 200 when PostgreSQL answers a ping and Temporal's
// frontend answers a health check, else 503 not_ready naming the failing dependencies (their
// error text goes to the log, not to the client).
func (s *Server) ready(c *fiber.Ctx) error {
	results := ops.RunChecks(c.UserContext(), s.readinessChecks())
	checks := make(map[string]any, len(results))
	failing := false
	for name, err := range results {
		if err != nil {
			failing = true
			checks[name] = "failing"
			s.cfg.Logger.Warn("readiness check failed", "check", name, "err", err)
			continue
		}
		checks[name] = "ok"
	}
	if failing {
		return newError(http.StatusServiceUnavailable, "not_ready", "A service the API depends on is not answering.",
			"Try again in a moment; if it persists, an operator should check PostgreSQL and Temporal.").
			withMetadata(map[string]any{"checks": checks})
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"status": "ready", "checks": checks})
}

// readinessChecks are the dependencies GET /ready checks.
func (s *Server) readinessChecks() []ops.Check {
	return []ops.Check{
		{Name: "postgres", Run: func(ctx context.Context) error {
			if s.deps.Store == nil {
				return errors.New("no database configured")
			}
			return s.deps.Store.Pool().Ping(ctx)
		}},
		{Name: "temporal", Run: func(ctx context.Context) error {
			if s.deps.Temporal == nil {
				return errors.New("no Temporal client configured")
			}
			_, err := s.deps.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		}},
	}
}
