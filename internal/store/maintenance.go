package store

import (
	"context"
	"fmt"
	"time"
)

// PurgeTask is a task whose artifacts are due for removal: its result, preview and inputs.
type PurgeTask struct {
	ID   string
	Keys []string
}

// PurgeExpiredArtifacts claims up to limit tasks whose files are past retention (done tasks whose
// expires_at passed; failed and cancelled tasks, which have no expiry, finished more than
// retention ago), calls remove for each and marks them purged, all in one transaction. Rows are
// claimed with FOR UPDATE SKIP LOCKED, so two cleanups at once never take the same task; when
// remove fails the transaction rolls back and the batch stays due. Records keep their metadata.
func (s *Store) PurgeExpiredArtifacts(ctx context.Context, limit int, retention time.Duration,
	remove func(context.Context, PurgeTask) error,
) (tasks, files int, err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("store: purge artifacts: %w", translate(err))
	}
	defer tx.Rollback(ctx) //nolint:errcheck // rollback after commit is a no-op
	rows, err := tx.Query(ctx, `select id, coalesce(result_key, ''), coalesce(preview_key, ''), inputs from tasks
		where artifacts_purged_at is null and (
			(expires_at is not null and expires_at <= now() and status in ('done', 'failed', 'cancelled'))
			or (expires_at is null and status in ('failed', 'cancelled')
				and finished_at <= now() - $2 * interval '1 microsecond'))
		limit $1
		for update skip locked`, limit, retention.Microseconds())
	if err != nil {
		return 0, 0, fmt.Errorf("store: purge artifacts: %w", translate(err))
	}
	var due []PurgeTask
	for rows.Next() {
		var t PurgeTask
		var result, preview string
		var inputs []InputRef
		if err := rows.Scan(&t.ID, &result, &preview, &inputs); err != nil {
			rows.Close()
			return 0, 0, fmt.Errorf("store: purge artifacts: %w", translate(err))
		}
		for _, k := range []string{result, preview} {
			if k != "" {
				t.Keys = append(t.Keys, k)
			}
		}
		for _, in := range inputs {
			if in.Key != "" {
				t.Keys = append(t.Keys, in.Key)
			}
		}
		due = append(due, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("store: purge artifacts: %w", translate(err))
	}
	ids := make([]string, 0, len(due))
	for _, t := range due {
		if err := remove(ctx, t); err != nil {
			return 0, 0, fmt.Errorf("store: purge artifacts of task %s: %w", t.ID, err)
		}
		ids = append(ids, t.ID)
		files += len(t.Keys)
	}
	if len(ids) > 0 {
		if _, err := tx.Exec(ctx, `update tasks set artifacts_purged_at = now() where id = any($1)`, ids); err != nil {
			return 0, 0, fmt.Errorf("store: purge artifacts: %w", translate(err))
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, 0, fmt.Errorf("store: purge artifacts: %w", translate(err))
	}
	return len(ids), files, nil
}

// LiveTask is a pending or processing task record as the reconciler sees it.
type LiveTask struct {
	ID         string
	WorkflowID string
	Status     string
	UpdatedAt  time.Time
}

// LiveTasks returns up to limit live tasks (pending, processing) with an id after after, in id
// order, whose record has not changed for minAge.
func (s *Store) LiveTasks(ctx context.Context, after string, limit int, minAge time.Duration) ([]LiveTask, error) {
	rows, err := s.pool.Query(ctx, `select id, workflow_id, status, updated_at from tasks
		where `+live+` and id > $1 and updated_at <= now() - $3 * interval '1 microsecond'
		order by id limit $2`, after, limit, minAge.Microseconds())
	if err != nil {
		return nil, fmt.Errorf("store: live tasks: %w", translate(err))
	}
	defer rows.Close()
	var out []LiveTask
	for rows.Next() {
		var t LiveTask
		if err := rows.Scan(&t.ID, &t.WorkflowID, &t.Status, &t.UpdatedAt); err != nil {
			return nil, fmt.Errorf("store: live tasks: %w", translate(err))
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: live tasks: %w", translate(err))
	}
	return out, nil
}

// LaneBacklog counts one lane's live tasks.
type LaneBacklog struct {
	Lane       string
	Pending    int
	Processing int
	// OldestPending is when the oldest pending task was created; nil when none waits.
	OldestPending *time.Time
}

// LaneBacklogs counts the live tasks of every lane that has any.
func (s *Store) LaneBacklogs(ctx context.Context) ([]LaneBacklog, error) {
	rows, err := s.pool.Query(ctx, `select lane,
			count(*) filter (where status = 'pending'),
			count(*) filter (where status = 'processing'),
			min(created_at) filter (where status = 'pending')
		from tasks where `+live+` group by lane order by lane`)
	if err != nil {
		return nil, fmt.Errorf("store: lane backlogs: %w", translate(err))
	}
	defer rows.Close()
	var out []LaneBacklog
	for rows.Next() {
		var b LaneBacklog
		if err := rows.Scan(&b.Lane, &b.Pending, &b.Processing, &b.OldestPending); err != nil {
			return nil, fmt.Errorf("store: lane backlogs: %w", translate(err))
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: lane backlogs: %w", translate(err))
	}
	return out, nil
}

// PendingAhead counts the pending tasks of lane created before createdAt: the queue in front of
// a task.
func (s *Store) PendingAhead(ctx context.Context, lane string, createdAt time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `select count(*) from tasks where status = 'pending' and lane = $1 and created_at < $2`,
		lane, createdAt).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: pending ahead on %s: %w", lane, translate(err))
	}
	return n, nil
}

// ArtifactsPurged reports whether the cleanup removed the task's files, or ErrNotFound.
func (s *Store) ArtifactsPurged(ctx context.Context, id string) (bool, error) {
	var purged bool
	err := s.pool.QueryRow(ctx, `select artifacts_purged_at is not null from tasks where id = $1`, id).Scan(&purged)
	if err != nil {
		return false, fmt.Errorf("store: artifacts purged %s: %w", id, translate(err))
	}
	return purged, nil
}
