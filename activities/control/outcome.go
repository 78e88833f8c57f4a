package control

import (
	"context"
	"time"
)

// taskEnded reports a task that this activity moved to its final status (outcome: done, failed
// or cancelled) to Config.TaskEnded, with its model, lane and time from submission to end. Only
// the call that changed the record reports, so an activity retried by Temporal counts once.
func (a *Activities) taskEnded(ctx context.Context, taskID, outcome string) {
	if a.cfg.TaskEnded == nil {
		return
	}
	t, err := a.store.GetTask(ctx, taskID)
	if err != nil {
		a.cfg.Logger.Warn("read task for metrics", "task_id", taskID, "err", err)
		return
	}
	var took time.Duration
	if t.FinishedAt != nil {
		took = t.FinishedAt.Sub(t.CreatedAt)
	}
	a.cfg.TaskEnded(t.Model, t.Lane, outcome, took)
}
