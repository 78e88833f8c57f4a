package api

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/settings"
)

// The admin audit log. auditAdmin wraps every /admin request and writes exactly one row when it
// ends — success, refusal (no session, wrong key, rate limited, invalid input) or failure — with
// the client IP, the request id, the status and error code. Handlers name what they did with
// s.audit (action, target, details); a request that never reaches a handler is recorded under
// "METHOD /path". Details are only what the code put there: never a key, a token or a cookie.

// auditLocal is the Fiber local holding the request's *auditRecord.
const auditLocal = "gooni.audit"

// auditWriteTimeout bounds writing the row after the request's own deadline may have passed.
const auditWriteTimeout = 5 * time.Second

// auditRecord is what handlers tell the audit row.
type auditRecord struct {
	action  string
	target  string
	details map[string]any
}

// audit names the current admin request's audit row: action (e.g. "accounts.disable"), target
// (e.g. the account id) and details to merge in. Empty action or target leave the earlier value;
// call it as often as the handler learns more. Never pass a secret in details. Outside an admin
// request (no auditAdmin) it does nothing.
func (s *Server) audit(c *fiber.Ctx, action, target string, details map[string]any) {
	rec, _ := c.Locals(auditLocal).(*auditRecord)
	if rec == nil {
		return
	}
	if action != "" {
		rec.action = action
	}
	if target != "" {
		rec.target = target
	}
	if len(details) > 0 {
		if rec.details == nil {
			rec.details = map[string]any{}
		}
		maps.Copy(rec.details, details)
	}
}

// auditDetail adds one detail to the current admin request's audit row.
func (s *Server) auditDetail(c *fiber.Ctx, key string, value any) {
	s.audit(c, "", "", map[string]any{key: value})
}

// auditAdmin is the outermost middleware of /admin: it runs the request, then writes its row.
func (s *Server) auditAdmin(c *fiber.Ctx) error {
	rec := &auditRecord{}
	c.Locals(auditLocal, rec)
	err := c.Next()

	status, code := c.Response().StatusCode(), ""
	if err != nil {
		var env *Error
		var fe *fiber.Error
		switch {
		case errors.As(err, &env):
			status, code = env.Status, env.Code
		case errors.As(err, &fe):
			env := fromFiber(fe)
			status, code = env.Status, env.Code
		case errors.Is(err, context.DeadlineExceeded):
			status, code = http.StatusServiceUnavailable, "request_timeout"
		default:
			status, code = http.StatusInternalServerError, "internal_error"
		}
	}
	outcome := store.AuditSuccess
	switch {
	case status >= 500:
		outcome = store.AuditFailed
	case status >= 400:
		outcome = store.AuditRefused
	}
	action := rec.action
	if action == "" {
		action = c.Method() + " " + c.Path()
	}
	details := map[string]any{"method": c.Method(), "path": c.Path()}
	if q := string(c.Request().URI().QueryString()); q != "" {
		details["query"] = redactQuery(q)
	}
	maps.Copy(details, rec.details)
	entry := store.AuditEntry{
		ClientIP: c.IP(), Action: action, Target: rec.target, Outcome: outcome,
		Status: status, Code: code, RequestID: requestID(c), Details: details,
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.UserContext()), auditWriteTimeout)
	defer cancel()
	if werr := s.deps.Store.AddAudit(ctx, entry); werr != nil {
		s.cfg.Logger.Error("admin audit: write row", "action", action, "outcome", outcome, "request_id", entry.RequestID, "err", werr)
	}
	return err
}

// auditListResponse is GET /admin/audit.
type auditListResponse struct {
	Items []store.AuditEntry `json:"items"`
	// NextBefore pages on: pass it as before= for the next (older) page; 0 when none.
	NextBefore int64 `json:"next_before"`
	HasMore    bool  `json:"has_more"`
}

// listAudit is GET /admin/audit: newest first, filtered by action, outcome, since, until
// (RFC 3339), paged by limit (1..500, default 50) and before (an id).
func (s *Server) listAudit(c *fiber.Ctx) error {
	s.audit(c, "audit.list", "", nil)
	var f store.AuditFilter
	var fields []settings.FieldError
	bad := func(field, msg string) { fields = append(fields, settings.FieldError{Field: field, Message: msg}) }
	f.Action = c.Query("action")
	switch o := c.Query("outcome"); o {
	case "", store.AuditSuccess, store.AuditRefused, store.AuditFailed:
		f.Outcome = o
	default:
		bad("outcome", "use success, refused or failed")
	}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := c.Query(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				bad(name, "use an RFC 3339 time, e.g. 2026-01-02T15:04:05Z")
			}
			*dst = t
		}
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			bad("limit", "use a whole number from 1 to 500")
		}
		f.Limit = n
	}
	if v := c.Query("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			bad("before", "use the next_before of the previous page")
		}
		f.BeforeID = n
	}
	if len(fields) > 0 {
		return validationError(&settings.ValidationError{Fields: fields})
	}
	items, more, err := s.deps.Store.ListAudit(c.UserContext(), f)
	if err != nil {
		return err
	}
	resp := auditListResponse{Items: items, HasMore: more}
	if more && len(items) > 0 {
		resp.NextBefore = items[len(items)-1].ID
	}
	return c.JSON(resp)
}
