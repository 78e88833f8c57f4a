package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Limits shared by every API replica live here, in PostgreSQL, because a per-process counter
// lets each replica admit its own share.

// ActiveLimitError refuses a task whose client already has Limit live (pending or processing)
// tasks.
type ActiveLimitError struct {
	Active int // the client's live tasks
	Limit  int
}

func (e *ActiveLimitError) Error() string {
	return fmt.Sprintf("client has %d live tasks, the limit is %d", e.Active, e.Limit)
}

// limitActive refuses t (an *ActiveLimitError) when t.MaxActive is set and its client already
// has that many live tasks. q must be a transaction: the advisory lock it takes on the client
// is held until the transaction ends, so concurrent creates for one client, on any replica,
// count one after the other and each sees the rows the previous one committed (under READ
// COMMITTED every statement takes a fresh snapshot, and the count runs after the lock).
func limitActive(ctx context.Context, q querier, t *Task) error {
	if t.MaxActive <= 0 || t.ClientID == "" {
		return nil
	}
	var locked bool
	if err := q.QueryRow(ctx, `select true from pg_advisory_xact_lock(hashtextextended('gooni.active:' || $1, 0))`,
		t.ClientID).Scan(&locked); err != nil {
		return fmt.Errorf("store: create task %s: lock client: %w", t.ID, translate(err))
	}
	var active int
	if err := q.QueryRow(ctx, `select count(*) from tasks where client_id = $1 and `+live, t.ClientID).Scan(&active); err != nil {
		return fmt.Errorf("store: create task %s: count live tasks: %w", t.ID, translate(err))
	}
	if active >= t.MaxActive {
		return &ActiveLimitError{Active: active, Limit: t.MaxActive}
	}
	return nil
}

// createTaskLimited is CreateTask in a transaction, for limitActive's lock.
func (s *Store) createTaskLimited(ctx context.Context, t *Task) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: create task %s: %w", t.ID, translate(err))
	}
	defer tx.Rollback(ctx) //nolint:errcheck // rollback after commit is a no-op
	if err := createTask(ctx, tx, t); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: create task %s: commit: %w", t.ID, translate(err))
	}
	return nil
}

// Rate is a request rate limit: Limit requests per Period, in bursts of up to Limit.
type Rate struct {
	Limit  int
	Period time.Duration
}

// Allow counts one request of client in scope against rate and reports whether it may go on;
// when it may not, retryAfter is how long until it would be allowed (nothing is counted).
//
// The limit is GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp):
// each client has a row holding its theoretical arrival time (tat); a request moves tat one
// emission interval (Period/Limit) ahead of max(tat, now) and is allowed when that stays
// within Limit intervals of now. So a client may send Limit requests at once, then one per
// interval; unlike a fixed window it never admits 2×Limit around a window boundary, and unlike
// a sliding log it keeps one row per client. The upsert takes the row lock, so replicas never
// both spend the last token, and every decision uses the database's clock.
func (s *Store) Allow(ctx context.Context, scope, client string, rate Rate) (allowed bool, retryAfter time.Duration, err error) {
	if rate.Limit <= 0 || rate.Period <= 0 {
		return false, 0, fmt.Errorf("store: rate limit %s: %w: limit and period must be positive", scope, ErrInvalid)
	}
	interval := (rate.Period / time.Duration(rate.Limit)).Microseconds()
	window := interval * int64(rate.Limit)
	var tat time.Time
	err = s.pool.QueryRow(ctx, `insert into rate_limits as r (scope, client_id, tat)
			values ($1, $2, now() + $3 * interval '1 microsecond')
		on conflict (scope, client_id) do update
			set tat = greatest(r.tat, now()) + $3 * interval '1 microsecond'
			where greatest(r.tat, now()) + $3 * interval '1 microsecond' <= now() + $4 * interval '1 microsecond'
		returning tat`, scope, client, interval, window).Scan(&tat)
	err = translate(err)
	if err == nil {
		return true, 0, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return false, 0, fmt.Errorf("store: rate limit %s: %w", scope, err)
	}
	// Refused (the update's condition failed): wait until tat + interval − window is now.
	var waitMicros int64
	err = s.pool.QueryRow(ctx, `select greatest(0, (extract(epoch from
			greatest(tat, now()) + $3 * interval '1 microsecond' - $4 * interval '1 microsecond' - now()) * 1e6)::bigint)
		from rate_limits where scope = $1 and client_id = $2`, scope, client, interval, window).Scan(&waitMicros)
	if err != nil {
		return false, 0, fmt.Errorf("store: rate limit %s: retry time: %w", scope, translate(err))
	}
	return false, time.Duration(waitMicros) * time.Microsecond, nil
}

// PurgeRateLimits deletes rows whose tat is older than olderThan ago: such a row allows as
// much as no row does, so deleting it changes no decision.
func (s *Store) PurgeRateLimits(ctx context.Context, olderThan time.Duration) (int64, error) {
	tag, err := s.pool.Exec(ctx, `delete from rate_limits where tat < now() - $1 * interval '1 microsecond'`,
		olderThan.Microseconds())
	if err != nil {
		return 0, fmt.Errorf("store: purge rate limits: %w", translate(err))
	}
	return tag.RowsAffected(), nil
}
