package suite

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The baseline: the least a Temporal-orchestrated job can cost on this server — one workflow
// that runs one activity that does nothing, on a task queue of its own with a default worker.
const (
	bareTaskQueue    = "gooni-bench-bare"
	bareWorkflowName = "GooniBenchBareWorkflow"
	bareActivityName = "GooniBenchBareActivity"
)

// BareWorkflow runs BareActivity once and returns its result.
func BareWorkflow(ctx workflow.Context, in string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, bareActivityName, in).Get(ctx, &out)
	return out, err
}

// BareActivity returns its input.
func BareActivity(_ context.Context, in string) (string, error) { return in, nil }

// bare is the baseline's worker and client.
type bare struct {
	c client.Client
	w worker.Worker
}

func startBare(c client.Client) (*bare, error) {
	w := worker.New(c, bareTaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(BareWorkflow, workflow.RegisterOptions{Name: bareWorkflowName})
	w.RegisterActivityWithOptions(BareActivity, activity.RegisterOptions{Name: bareActivityName})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start bare workflow worker: %w", err)
	}
	return &bare{c: c, w: w}, nil
}

func (b *bare) stop() { b.w.Stop() }

// start starts one bare workflow.
func (b *bare) start(ctx context.Context) (client.WorkflowRun, error) {
	return b.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        "gooni-bench-bare-" + uuid.NewString(),
		TaskQueue: bareTaskQueue,
	}, bareWorkflowName, "x")
}

// once runs one bare workflow from start to result and returns how long it took.
func (b *bare) once(ctx context.Context) (time.Duration, error) {
	t0 := time.Now()
	run, err := b.start(ctx)
	if err != nil {
		return 0, fmt.Errorf("start bare workflow: %w", err)
	}
	var out string
	if err := run.Get(ctx, &out); err != nil {
		return 0, fmt.Errorf("bare workflow: %w", err)
	}
	return time.Since(t0), nil
}
