// Package control holds the activities of the control worker: the CPU-side steps of a
// generation that record its state in PostgreSQL. They are idempotent, so Temporal may retry
// them freely (for example while PostgreSQL restarts).
package control

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/gooni/gooni/internal/artifact"
	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/workflows"
)

// DefaultRetention is how long results are kept when Config.Retention is zero.
const DefaultRetention = 30 * 24 * time.Hour

// Config configures the control activities.
type Config struct {
	// Retention is how long a result is kept before the cleanup workflow removes it.
	// Default 30 days.
	Retention time.Duration
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Logger receives the activities' logs. Default slog.Default().
	Logger *slog.Logger
	// TaskEnded, when set, is told of each task these activities end: its model, lane, outcome
	// (store.StatusDone, StatusFailed or StatusCancelled) and time from submission to end
	// (metrics.Metrics.TaskEnded). Nil records nothing.
	TaskEnded func(model, lane, outcome string, took time.Duration)
}

func (c Config) withDefaults() Config {
	if c.Retention <= 0 {
		c.Retention = DefaultRetention
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Activities records task outcomes. Register it on the control task queue with
// Register.
type Activities struct {
	store     *store.Store
	artifacts artifact.Store
	cfg       Config
}

// New returns the control activities over st; arts is where cancelled runs' files are removed.
func New(st *store.Store, arts artifact.Store, cfg Config) *Activities {
	return &Activities{store: st, artifacts: arts, cfg: cfg.withDefaults()}
}

// FinishTask records a successful generation: status done, result and preview keys, expiry.
func (a *Activities) FinishTask(ctx context.Context, in workflows.FinishTaskInput) error {
	changed, err := a.store.FinishTask(ctx, in.TaskID, store.FinishFields{
		ResultKey:  in.Output.ResultKey,
		ResultMIME: in.Output.ResultMIME,
		PreviewKey: in.Output.PreviewKey,
		LaneMode:   in.Output.LaneMode,
		Width:      in.Output.Width,
		Height:     in.Output.Height,
		ExpiresAt:  a.cfg.Now().Add(a.cfg.Retention),
		Attempt:    int(in.Output.Attempt),
		StartedAt:  in.Output.StartedAt,
	})
	if err != nil {
		return a.classify("finish task", in.TaskID, err)
	}
	a.cfg.Logger.Info("task done", "task_id", in.TaskID, "changed", changed,
		"attempt", activity.GetInfo(ctx).Attempt)
	if changed {
		a.taskEnded(ctx, in.TaskID, store.StatusDone)
	}
	return nil
}

// FailTask records a failed generation with its stable code and actionable message.
func (a *Activities) FailTask(ctx context.Context, in workflows.FailTaskInput) error {
	changed, err := a.store.FailTask(ctx, in.TaskID, in.Code, in.Message)
	if err != nil {
		return a.classify("fail task", in.TaskID, err)
	}
	a.cfg.Logger.Info("task failed", "task_id", in.TaskID, "code", in.Code, "changed", changed)
	if changed {
		a.taskEnded(ctx, in.TaskID, store.StatusFailed)
	}
	return nil
}

// CancelTask records a cancelled generation and removes the files its run had stored. A task
// that had already finished keeps its state and files; the output says which.
func (a *Activities) CancelTask(ctx context.Context, in workflows.CancelTaskInput) (workflows.CancelTaskOutput, error) {
	changed, err := a.store.CancelTask(ctx, in.TaskID)
	if errors.Is(err, store.ErrConflict) {
		t, gerr := a.store.GetTask(ctx, in.TaskID)
		if gerr != nil {
			return workflows.CancelTaskOutput{}, a.classify("cancel task", in.TaskID, gerr)
		}
		a.cfg.Logger.Info("cancel arrived after the task ended", "task_id", in.TaskID, "status", t.Status)
		return workflows.CancelTaskOutput{Cancelled: false, Status: t.Status}, nil
	}
	if err != nil {
		return workflows.CancelTaskOutput{}, a.classify("cancel task", in.TaskID, err)
	}
	for _, key := range []string{in.ResultKey, in.PreviewKey} {
		if key == "" {
			continue
		}
		if err := a.artifacts.Delete(ctx, key); err != nil {
			return workflows.CancelTaskOutput{}, fmt.Errorf("remove %s of cancelled task %s: %w", key, in.TaskID, err)
		}
	}
	a.cfg.Logger.Info("task cancelled", "task_id", in.TaskID, "changed", changed)
	if changed {
		a.taskEnded(ctx, in.TaskID, store.StatusCancelled)
	}
	return workflows.CancelTaskOutput{Cancelled: true, Status: store.StatusCancelled}, nil
}

// AdmitShared moves a task to the shared lane when fewer than MaxDepth tasks wait there.
func (a *Activities) AdmitShared(ctx context.Context, in workflows.AdmitSharedInput) (workflows.AdmitSharedOutput, error) {
	ok, depth, err := a.store.AdmitShared(ctx, in.TaskID, in.Lane, in.Reason, in.MaxDepth)
	if err != nil {
		return workflows.AdmitSharedOutput{}, a.classify("admit shared", in.TaskID, err)
	}
	a.cfg.Logger.Info("shared lane admission", "task_id", in.TaskID, "admitted", ok, "depth", depth, "reason", in.Reason)
	return workflows.AdmitSharedOutput{Admitted: ok, Depth: depth}, nil
}

// classify makes store errors that retrying cannot fix non-retryable; everything else (a
// database that is briefly away) is retried by the workflow's bounded policy.
func (a *Activities) classify(op, taskID string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s %s: task record missing", op, taskID),
			"task_missing", nil)
	}
	if errors.Is(err, store.ErrConflict) {
		// The task already ended another way (for example cancelled): the record wins.
		a.cfg.Logger.Warn("task already ended differently", "task_id", taskID, "op", op)
		return nil
	}
	return fmt.Errorf("%s %s: %w", op, taskID, err)
}
