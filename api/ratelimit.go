package api

import (
	"context"
	"encoding/hex"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gooni/gooni/internal/store"
)

// Per-client limits, shared by every API replica through PostgreSQL (Fiber's limiter counts
// per process, so N replicas would admit N times the limit):
//   - POST /generate is rate limited (Config.GeneratePerMinute, GCRA: see store.Allow) →
//     429 rate_limited with Retry-After;
//   - a client's live (pending or processing) tasks are bounded (Config.MaxActiveTasks),
//     counted from the tasks table when the task is created → 429 active_task_limit_exceeded.
//
// A client is an API key (today there is one, so every key holder is one client) or a browser
// session. Its id is not secret material: the key's id is a prefix of its SHA-256.

// rateScopeGenerate names the POST /generate limit in the rate_limits table.
const rateScopeGenerate = "generate"

// clientKey is the context key of the request's client id.
type clientKey struct{}

// withClient returns ctx carrying the client id.
func withClient(ctx context.Context, client string) context.Context {
	return context.WithValue(ctx, clientKey{}, client)
}

// clientFrom returns the client id requireAPIKey recorded, "" when none.
func clientFrom(ctx context.Context) string {
	id, _ := ctx.Value(clientKey{}).(string)
	return id
}

// keyClient is the client id of the API key.
func (s *Server) keyClient() string {
	return "key:" + hex.EncodeToString(s.keys.digest[:8])
}

// next records client as the request's client and runs the next handler.
func (s *Server) next(c *fiber.Ctx, client string) error {
	c.SetUserContext(withClient(c.UserContext(), client))
	return c.Next()
}

// limitGenerate counts the request against its client's POST /generate rate.
func (s *Server) limitGenerate(c *fiber.Ctx) error {
	client := clientFrom(c.UserContext())
	if client == "" {
		return errors.New("limit generate: no client recorded (route without requireAPIKey)")
	}
	rate := store.Rate{Limit: s.cfg.GeneratePerMinute, Period: time.Minute}
	allowed, wait, err := s.deps.Store.Allow(c.UserContext(), rateScopeGenerate, client, rate)
	if err != nil {
		return err
	}
	if allowed {
		return c.Next()
	}
	seconds := max(1, int(math.Ceil(wait.Seconds())))
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(seconds))
	return newError(http.StatusTooManyRequests, "rate_limited", "Too many generations were submitted.",
		"Wait Retry-After seconds, then submit again.").
		withMetadata(map[string]any{"limit": rate.Limit, "period_seconds": int(rate.Period / time.Second), "retry_after_seconds": seconds})
}

// refuseActive turns the store's refusal of a task over the client's live-task limit into the
// envelope; other errors pass through.
func refuseActive(err error) error {
	var le *store.ActiveLimitError
	if !errors.As(err, &le) {
		return err
	}
	return newError(http.StatusTooManyRequests, "active_task_limit_exceeded",
		"You already have as many generations waiting or running as allowed.",
		"Wait for one to finish (or cancel one), then submit again.").
		withMetadata(map[string]any{"active": le.Active, "limit": le.Limit})
}
