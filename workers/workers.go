// Package workers says which workflows and activities run where: the control worker on the
// control task queue, and GPU workers on the task queues of the lanes they serve.
package workers

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/gooni/gooni/activities/control"
	"github.com/gooni/gooni/activities/gpu"
	"github.com/gooni/gooni/activities/maintenance"
	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/workflows"
)

// HeartbeatThrottle is the longest a GPU worker holds back a heartbeat. The SDK's default is
// 0.8 × the heartbeat timeout, which would hide progress from the Web UI for tens of seconds.
// It is not lower because the SDK gives each heartbeat call max(throttle, 1 s) to reach the
// server and cancels the running activity when one times out: at 200 ms, a loaded server or a
// Temporal restart of over a second threw away healthy GPU runs (measured by make bench and the
// Temporal-restart fault test). Users see progress through the task record, which the worker
// updates every 200 ms regardless (gpu.Config.ReportInterval).
const HeartbeatThrottle = 2 * time.Second

// NewControl returns the control worker on taskQueue (workflows.ControlTaskQueue unless a
// deployment or test chooses another): GenerationWorkflow and the activities that record task
// state. Start it with Start or Run. stopTimeout is how long Stop waits for running activities
// before cancelling them (0: cancel at once; Temporal retries them).
func NewControl(c client.Client, taskQueue string, acts *control.Activities, stopTimeout time.Duration) worker.Worker {
	w := worker.New(c, taskQueue, worker.Options{WorkerStopTimeout: stopTimeout})
	w.RegisterWorkflowWithOptions(workflows.GenerationWorkflow, workflow.RegisterOptions{Name: workflows.GenerationWorkflowName})
	acts.Register(w)
	return w
}

// RegisterMaintenance adds the maintenance workflows and their activities to the control worker
// w. Warm-ups run their GPU activity on the models' lanes, like generations.
func RegisterMaintenance(w worker.Worker, acts *maintenance.Activities) {
	w.RegisterWorkflowWithOptions(workflows.ArtifactCleanupWorkflow, workflow.RegisterOptions{Name: workflows.ArtifactCleanupWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.ReconcileWorkflow, workflow.RegisterOptions{Name: workflows.ReconcileWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.WarmupWorkflow, workflow.RegisterOptions{Name: workflows.WarmupWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.AuditRetentionWorkflow, workflow.RegisterOptions{Name: workflows.AuditRetentionWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.RotateKeysWorkflow, workflow.RegisterOptions{Name: workflows.RotateKeysWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.HealthSweepWorkflow, workflow.RegisterOptions{Name: workflows.HealthSweepWorkflowName})
	acts.Register(w)
}

// Lane is one task queue a GPU worker serves.
type Lane struct {
	// TaskQueue is the lane's Temporal task queue.
	TaskQueue string
	// Concurrency is how many generations of this lane the worker runs at once.
	Concurrency int
	// StopTimeout is how long Stop waits for running generations to finish before cancelling
	// them (0: cancel at once). A cancelled or abandoned attempt is retried by Temporal.
	StopTimeout time.Duration
}

// NewGPU returns one worker per lane, each running the GPU activity.
func NewGPU(c client.Client, lanes []Lane, acts *gpu.Activities) ([]worker.Worker, error) {
	ws := make([]worker.Worker, 0, len(lanes))
	seen := map[string]bool{}
	for _, l := range lanes {
		if l.TaskQueue == "" {
			return nil, fmt.Errorf("gpu worker: a lane has no task queue")
		}
		if seen[l.TaskQueue] {
			return nil, fmt.Errorf("gpu worker: lane %s listed twice", l.TaskQueue)
		}
		seen[l.TaskQueue] = true
		w := worker.New(c, l.TaskQueue, worker.Options{
			MaxConcurrentActivityExecutionSize: max(l.Concurrency, 1),
			MaxHeartbeatThrottleInterval:       HeartbeatThrottle,
			DefaultHeartbeatThrottleInterval:   HeartbeatThrottle,
			DisableWorkflowWorker:              true,
			WorkerStopTimeout:                  l.StopTimeout,
		})
		acts.Register(w)
		ws = append(ws, w)
	}
	return ws, nil
}

// StoreReporter reports GPU progress straight to the task record. It serves GPU workers that
// share the application database (dev mode, single-host deployments).
type StoreReporter struct {
	Store *store.Store
}

// Started implements gpu.Reporter.
func (r StoreReporter) Started(ctx context.Context, taskID, lane, laneMode string, attempt int) error {
	return r.Store.MarkProcessing(ctx, taskID, lane, laneMode, attempt)
}

// AttemptFailed implements gpu.Reporter.
func (r StoreReporter) AttemptFailed(ctx context.Context, taskID string, attempt int, code, message string) error {
	return r.Store.RecordAttemptFailure(ctx, taskID, attempt, code, message)
}

// Progress implements gpu.Reporter.
func (r StoreReporter) Progress(ctx context.Context, taskID string, progress float64, stage, detail string) error {
	return r.Store.UpdateProgress(ctx, taskID, progress, stage, detail)
}
