package store

import (
	"context"
	"fmt"
)

// LaneModeShared is the lane mode of a task admitted to the shared degraded lane.
const LaneModeShared = "shared"

// sharedAdmissionLock serializes admissions to the shared lane (a transaction-scoped advisory
// lock), so concurrent admissions never exceed the depth limit.
const sharedAdmissionLock = 0x6f6f6e69 // "ooni"

// SharedDepth counts the tasks admitted to the shared lane that no worker has started yet.
func (s *Store) SharedDepth(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `select count(*) from tasks where status = 'pending' and lane_mode = 'shared'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: shared depth: %w", translate(err))
	}
	return n, nil
}

// AdmitShared moves a pending task to the shared lane when fewer than maxDepth tasks wait there,
// recording the lane and why. It returns whether the task was admitted and the depth it saw.
// Admitting a task already admitted is a success (activities may be retried); a task that is no
// longer pending is not admitted.
func (s *Store) AdmitShared(ctx context.Context, id, lane, reason string, maxDepth int) (admitted bool, depth int, err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, 0, fmt.Errorf("store: admit shared %s: %w", id, translate(err))
	}
	defer tx.Rollback(ctx) //nolint:errcheck // rollback after commit is a no-op
	if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock($1)`, sharedAdmissionLock); err != nil {
		return false, 0, fmt.Errorf("store: admit shared %s: %w", id, translate(err))
	}
	var status, mode string
	if err := tx.QueryRow(ctx, `select status, lane_mode from tasks where id = $1 for update`, id).Scan(&status, &mode); err != nil {
		return false, 0, fmt.Errorf("store: admit shared %s: %w", id, translate(err))
	}
	if err := tx.QueryRow(ctx, `select count(*) from tasks where status = 'pending' and lane_mode = 'shared' and id <> $1`, id).Scan(&depth); err != nil {
		return false, 0, fmt.Errorf("store: admit shared %s: %w", id, translate(err))
	}
	if status != StatusPending && status != StatusProcessing {
		return false, depth, nil
	}
	if mode == LaneModeShared {
		return true, depth, tx.Commit(ctx)
	}
	if depth >= maxDepth {
		return false, depth, nil
	}
	if _, err := tx.Exec(ctx, `update tasks set lane = $2, lane_mode = 'shared', fallback_reason = $3, updated_at = now()
		where id = $1`, id, lane, reason); err != nil {
		return false, depth, fmt.Errorf("store: admit shared %s: %w", id, translate(err))
	}
	if err := tx.Commit(ctx); err != nil {
		return false, depth, fmt.Errorf("store: admit shared %s: %w", id, translate(err))
	}
	return true, depth, nil
}

// RecordAttemptFailure keeps the last failed attempt of a live task (attempt number, code and
// message), so the status shows why a task is being retried.
func (s *Store) RecordAttemptFailure(ctx context.Context, id string, attempt int, code, msg string) error {
	tag, err := s.pool.Exec(ctx, `update tasks set attempt = greatest(attempt, $2), last_error_code = $3,
			last_error_msg = $4, updated_at = now()
		where id = $1 and `+live, id, attempt, code, msg)
	if err != nil {
		return fmt.Errorf("store: record attempt failure %s: %w", id, translate(err))
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.status(ctx, id); err != nil {
			return fmt.Errorf("store: record attempt failure %s: %w", id, err)
		}
	}
	return nil
}

// CancelTask marks a live task cancelled. changed is false when it was already cancelled; a done
// or failed task is ErrConflict, an unknown id ErrNotFound.
func (s *Store) CancelTask(ctx context.Context, id string) (changed bool, err error) {
	tag, err := s.pool.Exec(ctx, `update tasks set status = 'cancelled', stage = 'cancelled', stage_detail = '',
			error_code = 'cancelled', error_msg = 'The task was cancelled.', finished_at = now(), updated_at = now()
		where id = $1 and `+live, id)
	if err != nil {
		return false, fmt.Errorf("store: cancel task %s: %w", id, translate(err))
	}
	return s.settled(ctx, "cancel", id, tag.RowsAffected(), StatusCancelled)
}
