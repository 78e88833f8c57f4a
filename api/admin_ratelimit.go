package api

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gooni/gooni/internal/store"
)

// Admin rate limits, per client IP and bucket, shared by every replica through the same
// PostgreSQL GCRA store as the public limits (store.Allow):
//   - auth: POST /admin/session (Config.AdminAuthPerMinute, default 20); a failed bootstrap
//     spends a second token, so a guesser gets half as many tries;
//   - read: GET and HEAD (Config.AdminReadPerMinute, default 60);
//   - write: every other method (Config.AdminWritePerMinute, default 30).
//
// limitAdmin runs before the session check, so requests without a session count too.

// Rate-limit scopes of the admin buckets.
const (
	rateScopeAdminAuth  = "admin_auth"
	rateScopeAdminRead  = "admin_read"
	rateScopeAdminWrite = "admin_write"
)

// adminClient is the rate-limit client id of an admin request: its IP.
func adminClient(c *fiber.Ctx) string { return "ip:" + c.IP() }

// adminRate returns the rate of a bucket.
func (s *Server) adminRate(scope string) store.Rate {
	n := s.cfg.AdminWritePerMinute
	switch scope {
	case rateScopeAdminAuth:
		n = s.cfg.AdminAuthPerMinute
	case rateScopeAdminRead:
		n = s.cfg.AdminReadPerMinute
	}
	return store.Rate{Limit: n, Period: time.Minute}
}

// adminBucket picks the bucket of a request.
func adminBucket(c *fiber.Ctx) string {
	switch {
	case c.Method() == fiber.MethodPost && c.Path() == "/admin/session":
		return rateScopeAdminAuth
	case c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead:
		return rateScopeAdminRead
	}
	return rateScopeAdminWrite
}

// limitAdmin counts the request against its IP's bucket: 429 rate_limited with Retry-After
// when it is spent.
func (s *Server) limitAdmin(c *fiber.Ctx) error {
	bucket := adminBucket(c)
	rate := s.adminRate(bucket)
	allowed, wait, err := s.deps.Store.Allow(c.UserContext(), bucket, adminClient(c), rate)
	if err != nil {
		return err
	}
	if allowed {
		return c.Next()
	}
	seconds := max(1, int(math.Ceil(wait.Seconds())))
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(seconds))
	s.auditDetail(c, "rate_bucket", bucket)
	return newError(http.StatusTooManyRequests, "rate_limited", "Too many admin requests from this address.",
		"Wait Retry-After seconds, then try again.").
		withMetadata(map[string]any{"bucket": bucket, "limit": rate.Limit, "period_seconds": 60, "retry_after_seconds": seconds})
}
