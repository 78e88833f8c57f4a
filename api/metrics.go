package api

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// observeHTTP reports each answered request to observe with its route pattern (never the raw
// path: task ids would become label values), method and final status.
func observeHTTP(observe func(route, method string, status int, d time.Duration)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			// The error handler has not run yet; record the status it will choose.
			status = statusOf(err)
		}
		// Without a matching route, Fiber's current route is this middleware's own.
		route := "unmatched"
		if r := c.Route(); r != nil && r.Method != "USE" {
			route = r.Path
		}
		// Fiber's method string lives in a reused buffer: copy it before it becomes a label.
		observe(strings.Clone(route), strings.Clone(c.Method()), status, time.Since(start))
		return err
	}
}

// statusOf is the status the error handler answers err with.
func statusOf(err error) int {
	var env *Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &env):
		return env.Status
	case errors.As(err, &fe):
		return fe.Code
	case errors.Is(err, context.DeadlineExceeded):
		return fiber.StatusServiceUnavailable
	}
	return fiber.StatusInternalServerError
}
