package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gofiber/fiber/v2"
)

// Error is the one error envelope every route answers with:
// {code, detail, user_action, metadata?}. Code is stable and machine-readable; Detail and
// UserAction are for people and never carry internal error text.
type Error struct {
	Status     int            `json:"-"`
	Code       string         `json:"code"`
	Detail     string         `json:"detail"`
	UserAction string         `json:"user_action"`
	Metadata   map[string]any `json:"metadata,omitempty"`
}

// Error implements error.
func (e *Error) Error() string { return e.Code + ": " + e.Detail }

// newError returns an envelope with the given status, code, detail and advice.
func newError(status int, code, detail, action string) *Error {
	return &Error{Status: status, Code: code, Detail: detail, UserAction: action}
}

// withMetadata returns e with metadata attached.
func (e *Error) withMetadata(m map[string]any) *Error {
	e.Metadata = m
	return e
}

// Errors shared by several handlers.
var (
	errInvalidAPIKey = func() *Error {
		return newError(http.StatusForbidden, "invalid_api_key", "The API key is missing or wrong.",
			"Send your API key in the X-API-Key header.")
	}
	errTaskNotFound = func() *Error {
		return newError(http.StatusNotFound, "task_not_found", "No task has this id.",
			"Check the task id returned by POST /generate.")
	}
)

// errorHandler turns every error a handler returns into the envelope. Unknown errors are logged
// and answered as internal_error without their text.
func errorHandler(logger *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		var env *Error
		var fe *fiber.Error
		switch {
		case errors.As(err, &env):
		case errors.As(err, &fe):
			env = fromFiber(fe)
		case errors.Is(err, context.DeadlineExceeded):
			env = newError(http.StatusServiceUnavailable, "request_timeout", "The request took too long.",
				"Try again in a moment.")
		default:
			logger.Error("request failed", "method", c.Method(), "path", c.Path(),
				"request_id", requestID(c), "err", err)
			env = newError(http.StatusInternalServerError, "internal_error", "The server failed to handle the request.",
				"Try again; if it persists, contact an operator with the request id.")
			env.Metadata = map[string]any{"request_id": requestID(c)}
		}
		return c.Status(env.Status).JSON(env)
	}
}

// fromFiber maps Fiber's own errors (routing, body limits, timeouts) to the envelope.
func fromFiber(fe *fiber.Error) *Error {
	switch fe.Code {
	case http.StatusNotFound:
		return newError(fe.Code, "route_not_found", "No route matches this path.", "Check the URL against the API documentation.")
	case http.StatusMethodNotAllowed:
		return newError(fe.Code, "method_not_allowed", "This route does not accept this method.", "Check the method against the API documentation.")
	case http.StatusRequestEntityTooLarge:
		return newError(fe.Code, "payload_too_large", "The request body is larger than the server accepts.",
			"Send smaller reference images (at most 12 MiB each).")
	case http.StatusRequestTimeout:
		return newError(fe.Code, "request_timeout", "The request took too long to arrive.", "Try again.")
	case http.StatusRequestHeaderFieldsTooLarge:
		return newError(fe.Code, "headers_too_large", "The request headers are too large.", "Send smaller headers.")
	case http.StatusBadRequest:
		return newError(fe.Code, "bad_request", "The request could not be read.", "Check the request format.")
	default:
		return newError(fe.Code, "http_error", http.StatusText(fe.Code), "Check the request.")
	}
}
