package store

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
)

// taskColumns is the select list that [scanTask] reads.
const taskColumns = `id, workflow_id, status, progress, stage, stage_detail, lane, lane_mode,
	coalesce(model, ''), coalesce(type, ''), coalesce(mode, ''), coalesce(prompt, ''),
	coalesce(negative_prompt, ''), parameters, inputs, coalesce(width, 0), coalesce(height, 0),
	coalesce(seed, 0), coalesce(output_format, ''), coalesce(result_key, ''),
	coalesce(result_mime, ''), coalesce(preview_key, ''), coalesce(error_code, ''),
	coalesce(error_msg, ''), attempt, created_at, updated_at, started_at, finished_at, expires_at,
	coalesce(fallback_reason, ''), coalesce(last_error_code, ''), coalesce(last_error_msg, '')`

// live is the SQL condition of a task that may still change.
const live = `status in ('pending', 'processing')`

// CreateTask inserts t, defaulting Status to pending and Stage to queued, and
// sets t.CreatedAt and t.UpdatedAt. A taken ID or WorkflowID is
// ErrAlreadyExists; a missing ID, WorkflowID or Lane is ErrInvalid.
func (s *Store) CreateTask(ctx context.Context, t *Task) error {
	if t.MaxActive > 0 && t.ClientID != "" {
		return s.createTaskLimited(ctx, t) // needs a transaction for its lock
	}
	return createTask(ctx, s.pool, t)
}

// querier runs a query on the pool or inside a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// createTask is CreateTask through q, so a transaction can insert a task with other rows.
func createTask(ctx context.Context, q querier, t *Task) error {
	switch {
	case t.ID == "":
		return fmt.Errorf("store: create task: %w: id is required", ErrInvalid)
	case t.WorkflowID == "":
		return fmt.Errorf("store: create task %s: %w: workflow id is required", t.ID, ErrInvalid)
	case t.Lane == "":
		return fmt.Errorf("store: create task %s: %w: lane is required", t.ID, ErrInvalid)
	}
	if t.Status == "" {
		t.Status = StatusPending
	}
	if t.Stage == "" {
		t.Stage = StageQueued
	}
	if t.Parameters == nil {
		t.Parameters = map[string]any{}
	}
	if t.Inputs == nil {
		t.Inputs = []InputRef{}
	}
	if err := limitActive(ctx, q, t); err != nil {
		return err
	}
	err := q.QueryRow(ctx, `insert into tasks (
			id, workflow_id, status, progress, stage, stage_detail, lane, lane_mode,
			model, type, mode, prompt, negative_prompt, parameters, inputs,
			width, height, seed, output_format, result_key, result_mime, preview_key,
			error_code, error_msg, attempt, started_at, finished_at, expires_at, client_id)
		values ($1, $2, $3, $4, $5, $6, $7, $8,
			nullif($9, ''), nullif($10, ''), nullif($11, ''), nullif($12, ''), nullif($13, ''), $14, $15,
			nullif($16::int, 0), nullif($17::int, 0), $18, nullif($19, ''), nullif($20, ''), nullif($21, ''), nullif($22, ''),
			nullif($23, ''), nullif($24, ''), $25, $26, $27, $28, nullif($29, ''))
		returning created_at, updated_at`,
		t.ID, t.WorkflowID, t.Status, t.Progress, t.Stage, t.StageDetail, t.Lane, t.LaneMode,
		t.Model, t.Type, t.Mode, t.Prompt, t.NegativePrompt, t.Parameters, t.Inputs,
		t.Width, t.Height, t.Seed, t.OutputFormat, t.ResultKey, t.ResultMIME, t.PreviewKey,
		t.ErrorCode, t.ErrorMsg, t.Attempt, t.StartedAt, t.FinishedAt, t.ExpiresAt, t.ClientID,
	).Scan(&t.CreatedAt, &t.UpdatedAt)
	if err != nil {
		return fmt.Errorf("store: create task %s: %w", t.ID, translate(err))
	}
	return nil
}

// GetTask returns the task with id, or ErrNotFound.
func (s *Store) GetTask(ctx context.Context, id string) (*Task, error) {
	t, err := scanTask(s.pool.QueryRow(ctx, `select `+taskColumns+` from tasks where id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: get task %s: %w", id, translate(err))
	}
	return t, nil
}

// MarkProcessing records that attempt of the task started on lane: status
// processing, stage loading_model, progress 0, started_at kept from the first
// attempt. On a terminal task it does nothing and returns nil (a late retry
// must not revive it); an unknown id is ErrNotFound.
func (s *Store) MarkProcessing(ctx context.Context, id, lane, laneMode string, attempt int) error {
	tag, err := s.pool.Exec(ctx, `update tasks set
			status = 'processing', lane = $2, lane_mode = $3, attempt = $4,
			started_at = coalesce(started_at, now()),
			stage = 'loading_model', stage_detail = '', progress = 0, updated_at = now()
		where id = $1 and `+live,
		id, lane, laneMode, attempt)
	if err != nil {
		return fmt.Errorf("store: mark task %s processing: %w", id, translate(err))
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.status(ctx, id); err != nil {
			return fmt.Errorf("store: mark task %s processing: %w", id, err)
		}
	}
	return nil
}

// UpdateProgress records a worker's progress (clamped to 0..100) and stage
// ("" keeps the current one) and sets status processing. On a terminal task
// it does nothing and returns nil: late heartbeats are normal. An unknown id
// is ErrNotFound.
func (s *Store) UpdateProgress(ctx context.Context, id string, progress float64, stage, detail string) error {
	tag, err := s.pool.Exec(ctx, `update tasks set
			status = 'processing', progress = $2, stage = coalesce(nullif($3, ''), stage),
			stage_detail = $4, started_at = coalesce(started_at, now()), updated_at = now()
		where id = $1 and `+live,
		id, clampProgress(progress), stage, detail)
	if err != nil {
		return fmt.Errorf("store: update task %s progress: %w", id, translate(err))
	}
	if tag.RowsAffected() == 0 {
		if _, err := s.status(ctx, id); err != nil {
			return fmt.Errorf("store: update task %s progress: %w", id, err)
		}
	}
	return nil
}

// FinishTask marks a live task done: progress 100, stage completed, the
// result recorded, finished_at set. changed is false when the task was
// already done (a retried call); a failed or cancelled task is ErrConflict,
// an unknown id ErrNotFound.
func (s *Store) FinishTask(ctx context.Context, id string, f FinishFields) (changed bool, err error) {
	if f.ResultKey == "" {
		return false, fmt.Errorf("store: finish task %s: %w: result key is required", id, ErrInvalid)
	}
	var expires *time.Time
	if !f.ExpiresAt.IsZero() {
		expires = &f.ExpiresAt
	}
	tag, err := s.pool.Exec(ctx, `update tasks set
			status = 'done', progress = 100, stage = 'completed', stage_detail = '',
			result_key = $2, result_mime = nullif($3, ''), preview_key = nullif($4, ''),
			lane_mode = coalesce(nullif($5, ''), lane_mode),
			width = coalesce(nullif($6::int, 0), width), height = coalesce(nullif($7::int, 0), height),
			expires_at = $8, error_code = null, error_msg = null,
			attempt = greatest(attempt, $9), started_at = coalesce(started_at, $10, now()),
			finished_at = now(), updated_at = now()
		where id = $1 and `+live,
		id, f.ResultKey, f.ResultMIME, f.PreviewKey, f.LaneMode, f.Width, f.Height, expires, f.Attempt, startedAt(f.StartedAt))
	if err != nil {
		return false, fmt.Errorf("store: finish task %s: %w", id, translate(err))
	}
	return s.settled(ctx, "finish", id, tag.RowsAffected(), StatusDone)
}

// FailTask marks a live task failed with a stable error code and a message.
// changed is false when the task had already failed; a done or cancelled
// task is ErrConflict, an unknown id ErrNotFound.
func (s *Store) FailTask(ctx context.Context, id, code, msg string) (changed bool, err error) {
	if code == "" {
		return false, fmt.Errorf("store: fail task %s: %w: error code is required", id, ErrInvalid)
	}
	tag, err := s.pool.Exec(ctx, `update tasks set
			status = 'failed', stage = 'failed', stage_detail = '',
			error_code = $2, error_msg = $3, finished_at = now(), updated_at = now()
		where id = $1 and `+live,
		id, code, msg)
	if err != nil {
		return false, fmt.Errorf("store: fail task %s: %w", id, translate(err))
	}
	return s.settled(ctx, "fail", id, tag.RowsAffected(), StatusFailed)
}

// DeleteTask removes the task, or returns ErrNotFound.
func (s *Store) DeleteTask(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `delete from tasks where id = $1`, id)
	if err != nil {
		return fmt.Errorf("store: delete task %s: %w", id, translate(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: delete task %s: %w", id, ErrNotFound)
	}
	return nil
}

// settled turns the outcome of a move to the terminal status want into
// (changed, err). When no live row matched, the task is terminal or gone
// (terminal states are final), so reading its status now is race-free.
func (s *Store) settled(ctx context.Context, op, id string, affected int64, want string) (bool, error) {
	if affected > 0 {
		return true, nil
	}
	status, err := s.status(ctx, id)
	if err != nil {
		return false, fmt.Errorf("store: %s task %s: %w", op, id, err)
	}
	if status == want {
		return false, nil
	}
	return false, fmt.Errorf("store: %s task %s: task is %s: %w", op, id, status, ErrConflict)
}

// status returns the task's current status, or ErrNotFound.
func (s *Store) status(ctx context.Context, id string) (string, error) {
	var status string
	err := s.pool.QueryRow(ctx, `select status from tasks where id = $1`, id).Scan(&status)
	return status, translate(err)
}

// scanTask reads one row selected with taskColumns.
func scanTask(row pgx.Row) (*Task, error) {
	var t Task
	err := row.Scan(&t.ID, &t.WorkflowID, &t.Status, &t.Progress, &t.Stage, &t.StageDetail, &t.Lane, &t.LaneMode,
		&t.Model, &t.Type, &t.Mode, &t.Prompt, &t.NegativePrompt, &t.Parameters, &t.Inputs,
		&t.Width, &t.Height, &t.Seed, &t.OutputFormat, &t.ResultKey, &t.ResultMIME, &t.PreviewKey,
		&t.ErrorCode, &t.ErrorMsg, &t.Attempt, &t.CreatedAt, &t.UpdatedAt, &t.StartedAt, &t.FinishedAt, &t.ExpiresAt,
		&t.FallbackReason, &t.LastErrorCode, &t.LastErrorMsg)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// clampProgress bounds p to 0..100; NaN becomes 0.
func clampProgress(p float64) float64 {
	if math.IsNaN(p) || p < 0 {
		return 0
	}
	return math.Min(p, 100)
}

// startedAt is nil for a zero time, so the column's coalesce keeps what it has.
func startedAt(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
