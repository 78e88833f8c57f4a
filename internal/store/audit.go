package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Audit outcomes.
const (
	AuditSuccess = "success" // the request did what it asked
	AuditRefused = "refused" // refused: no or bad session, wrong key, rate limited, invalid input
	AuditFailed  = "failed"  // the server failed (5xx)
)

// AuditEntry is one row of the admin audit log. Details must never hold a key, a token or a
// cookie: callers put only what they chose to record there.
type AuditEntry struct {
	ID        int64          `json:"id"`
	At        time.Time      `json:"at"`
	ClientIP  string         `json:"client_ip"`
	Action    string         `json:"action"`
	Target    string         `json:"target"`
	Outcome   string         `json:"outcome"`
	Status    int            `json:"status"`
	Code      string         `json:"code"`
	RequestID string         `json:"request_id"`
	Details   map[string]any `json:"details"`
}

// AddAudit appends e to the audit log (At and ID are set by the database).
func (s *Store) AddAudit(ctx context.Context, e AuditEntry) error {
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	raw, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("store: add audit: details: %w", err)
	}
	_, err = s.pool.Exec(ctx, `insert into admin_audit (client_ip, action, target, outcome, status, code, request_id, details)
		values ($1, $2, $3, $4, $5, $6, $7, $8)`,
		e.ClientIP, e.Action, e.Target, e.Outcome, e.Status, e.Code, e.RequestID, raw)
	if err != nil {
		return fmt.Errorf("store: add audit: %w", translate(err))
	}
	return nil
}

// AuditFilter selects audit rows. Zero fields select everything.
type AuditFilter struct {
	Action  string    // exact action, e.g. "accounts.create"
	Outcome string    // success, refused or failed
	Since   time.Time // at >= Since
	Until   time.Time // at < Until
	// BeforeID pages backwards: rows with id < BeforeID (the next_before of the previous page).
	BeforeID int64
	Limit    int // 1..500, default 50
}

// ListAudit returns the newest rows matching f, newest first, and whether more follow.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, bool, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	if f.Limit > 500 {
		f.Limit = 500
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Action != "" {
		add("action = $%d", f.Action)
	}
	if f.Outcome != "" {
		add("outcome = $%d", f.Outcome)
	}
	if !f.Since.IsZero() {
		add("at >= $%d", f.Since)
	}
	if !f.Until.IsZero() {
		add("at < $%d", f.Until)
	}
	if f.BeforeID > 0 {
		add("id < $%d", f.BeforeID)
	}
	q := `select id, at, client_ip, action, target, outcome, status, code, request_id, details from admin_audit`
	if len(where) > 0 {
		q += " where " + strings.Join(where, " and ")
	}
	args = append(args, f.Limit+1)
	q += fmt.Sprintf(" order by id desc limit $%d", len(args))
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, false, fmt.Errorf("store: list audit: %w", translate(err))
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var raw []byte
		if err := rows.Scan(&e.ID, &e.At, &e.ClientIP, &e.Action, &e.Target, &e.Outcome, &e.Status, &e.Code, &e.RequestID, &raw); err != nil {
			return nil, false, fmt.Errorf("store: list audit: %w", translate(err))
		}
		if err := json.Unmarshal(raw, &e.Details); err != nil {
			return nil, false, fmt.Errorf("store: list audit: details of %d: %w", e.ID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("store: list audit: %w", translate(err))
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	return out, more, nil
}

// DeleteAuditBefore deletes audit rows older than cutoff (retention) and returns how many.
func (s *Store) DeleteAuditBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `delete from admin_audit where at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("store: delete audit before %s: %w", cutoff.Format(time.RFC3339), translate(err))
	}
	return tag.RowsAffected(), nil
}
