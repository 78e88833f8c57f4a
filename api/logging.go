package api

import (
	"log/slog"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/requestid"
)

// sensitiveQuery names query parameters whose values never reach a log.
var sensitiveQuery = map[string]bool{"api_key": true, "token": true, "sig": true, "signature": true}

// redactQuery returns the query string with sensitive values replaced.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "<unparsable>"
	}
	for k := range q {
		if sensitiveQuery[k] {
			q[k] = []string{"REDACTED"}
		}
	}
	return q.Encode()
}

// accessLog logs one line per request with the query string redacted.
func accessLog(logger *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			// The error handler has not run yet; log the status it will choose.
			if env, ok := err.(*Error); ok {
				status = env.Status
			} else if fe, ok := err.(*fiber.Error); ok {
				status = fe.Code
			}
		}
		logger.Info("http",
			"method", c.Method(),
			"path", c.Path(),
			"query", redactQuery(string(c.Request().URI().QueryString())),
			"status", status,
			"duration_ms", time.Since(start).Milliseconds(),
			"request_id", requestID(c),
		)
		return err
	}
}

// requestID returns the id the requestid middleware gave this request.
func requestID(c *fiber.Ctx) string {
	if id, ok := c.Locals(requestid.ConfigDefault.ContextKey).(string); ok {
		return id
	}
	return ""
}
