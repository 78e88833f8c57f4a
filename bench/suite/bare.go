package suite

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The baseline: the least a Temporal-orchestrated job can cost on this server — one workflow
// that runs one activity that does nothing, on a task queue of its own with a default worker.
// The SDK hands such an activity to the worker in the reply to the workflow task (eager
// activity execution), skipping a round through matching; a generation's GPU activity runs on
// another task queue and cannot. The cross-queue variant runs its activity on a second queue,
// served by a second worker, as a generation does.
const (
	bareTaskQueue         = "gooni-bench-bare"
	bareActivityQueue     = "gooni-bench-bare-activities"
	bareWorkflowName      = "GooniBenchBareWorkflow"
	bareCrossWorkflowName = "GooniBenchBareCrossQueueWorkflow"
	bareActivityName      = "GooniBenchBareActivity"
)

// BareWorkflow runs BareActivity once and returns its result.
func BareWorkflow(ctx workflow.Context, in string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, bareActivityName, in).Get(ctx, &out)
	return out, err
}

// BareCrossQueueWorkflow runs BareActivity once on the activity-only queue.
func BareCrossQueueWorkflow(ctx workflow.Context, in string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{TaskQueue: bareActivityQueue, StartToCloseTimeout: 30 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, bareActivityName, in).Get(ctx, &out)
	return out, err
}

// BareActivity returns its input.
func BareActivity(_ context.Context, in string) (string, error) { return in, nil }

// bare is the baseline's workers and client.
type bare struct {
	c       client.Client
	w, acts worker.Worker
}

func startBare(c client.Client) (*bare, error) {
	w := worker.New(c, bareTaskQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(BareWorkflow, workflow.RegisterOptions{Name: bareWorkflowName})
	w.RegisterWorkflowWithOptions(BareCrossQueueWorkflow, workflow.RegisterOptions{Name: bareCrossWorkflowName})
	w.RegisterActivityWithOptions(BareActivity, activity.RegisterOptions{Name: bareActivityName})
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start bare workflow worker: %w", err)
	}
	acts := worker.New(c, bareActivityQueue, worker.Options{DisableWorkflowWorker: true})
	acts.RegisterActivityWithOptions(BareActivity, activity.RegisterOptions{Name: bareActivityName})
	if err := acts.Start(); err != nil {
		w.Stop()
		return nil, fmt.Errorf("start bare activity worker: %w", err)
	}
	return &bare{c: c, w: w, acts: acts}, nil
}

func (b *bare) stop() {
	b.acts.Stop()
	b.w.Stop()
}

// start starts one bare workflow (the cross-queue variant with cross).
func (b *bare) start(ctx context.Context, cross bool) (client.WorkflowRun, error) {
	name := bareWorkflowName
	if cross {
		name = bareCrossWorkflowName
	}
	return b.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        "gooni-bench-bare-" + uuid.NewString(),
		TaskQueue: bareTaskQueue,
	}, name, "x")
}

// once runs one bare workflow and returns how long it took from the start request until a client
// polling DescribeWorkflowExecution every poll saw it closed — the way the benchmark watches a
// generation through GET /status. (The SDK's result call long-polls the history instead; on this
// server it sometimes misses the close and waits out its 20 s expiry.)
func (b *bare) once(ctx context.Context, cross bool, poll time.Duration) (time.Duration, error) {
	t0 := time.Now()
	run, err := b.start(ctx, cross)
	if err != nil {
		return 0, fmt.Errorf("start bare workflow: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	next := time.Now()
	for {
		desc, err := b.c.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
		if err != nil {
			return 0, fmt.Errorf("describe bare workflow: %w", err)
		}
		switch st := desc.GetWorkflowExecutionInfo().GetStatus(); st {
		case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
			return time.Since(t0), nil
		default:
			return 0, fmt.Errorf("bare workflow %s ended %s", run.GetID(), st)
		}
		next = next.Add(poll)
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("bare workflow %s: %w", run.GetID(), ctx.Err())
		case <-time.After(time.Until(next)):
		}
	}
}

// closeTime is when the server recorded the workflow of run as closed.
func (b *bare) closeTime(ctx context.Context, run client.WorkflowRun) (time.Time, error) {
	desc, err := b.c.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	if err != nil {
		return time.Time{}, fmt.Errorf("describe bare workflow: %w", err)
	}
	ct := desc.GetWorkflowExecutionInfo().GetCloseTime()
	if ct == nil {
		return time.Time{}, fmt.Errorf("bare workflow %s: no close time", run.GetID())
	}
	return ct.AsTime(), nil
}
