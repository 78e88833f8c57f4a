package workflows

import (
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/gooni/gooni/internal/failure"
)

// Task statuses a GenerationResult reports.
const (
	StatusDone      = "done"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
)

// sharedFallbackChange versions the fallback to the shared lane: runs started before it fail
// with worker_start_timeout where newer runs fall back.
const sharedFallbackChange = "shared-lane-fallback"

// localFinishChange versions recording a success as a local activity: runs that scheduled
// FinishTask as an activity task before it keep doing so on replay.
const localFinishChange = "finish-task-local"

// controlActivityOptions bound the CPU activities that record task state: short attempts, retried
// long enough to ride out a PostgreSQL restart, never forever. They run on the workflow's own task
// queue, which the control worker serves.
func controlActivityOptions(ctx workflow.Context) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		TaskQueue:           workflow.GetInfo(ctx).TaskQueueName,
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
			MaximumAttempts:    40,
		},
	}
}

// controlLocalActivityOptions are controlActivityOptions for a local activity: the same attempt
// timeout and retry policy, run by the control worker inside the workflow task.
func controlLocalActivityOptions() workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
			MaximumAttempts:    40,
		},
	}
}

// finishTask records a successful generation. Newer runs record it as a local activity: the
// control worker that takes the workflow task carrying the GPU activity's result writes the
// record and closes the workflow in that same task. As an activity task it cost a second
// activity, its completion and one more workflow task: three more writes to Temporal's store
// per generation, for the same PostgreSQL update. FinishTask is idempotent, so a local attempt
// repeated after a lost workflow task is harmless.
func finishTask(ctx, controlCtx workflow.Context, finish FinishTaskInput) error {
	if workflow.GetVersion(ctx, localFinishChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return workflow.ExecuteActivity(controlCtx, FinishTaskActivity, finish).Get(ctx, nil)
	}
	lctx := workflow.WithLocalActivityOptions(ctx, controlLocalActivityOptions())
	return workflow.ExecuteLocalActivity(lctx, FinishTaskActivity, finish).Get(ctx, nil)
}

// gpuActivityOptions turns a model's runtime declaration into the GPU activity's options on
// lane: its timeouts and its bounded retry policy. The workflow waits for a cancelled activity to
// stop its runner before recording the cancellation.
func gpuActivityOptions(rt Runtime, lane string, scheduleToStart time.Duration) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		TaskQueue:              lane,
		ScheduleToStartTimeout: scheduleToStart,
		StartToCloseTimeout:    rt.StartToClose,
		HeartbeatTimeout:       rt.Heartbeat,
		WaitForCancellation:    true,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        rt.Retry.InitialInterval,
			BackoffCoefficient:     rt.Retry.BackoffCoefficient,
			MaximumInterval:        rt.Retry.MaxInterval,
			MaximumAttempts:        rt.Retry.MaxAttempts,
			NonRetryableErrorTypes: rt.Retry.NonRetryableCodes,
		},
	}
}

// GenerationWorkflow runs one generation: the model on a GPU worker of its lane (falling back to
// the shared lane when no dedicated worker starts it in time), then the task's final state
// recorded on the control queue. A failure of the model ends the workflow successfully with
// status "failed" and a stable code; a cancellation ends it cancelled after the runner stopped.
func GenerationWorkflow(ctx workflow.Context, in GenerationInput) (GenerationResult, error) {
	logger := workflow.GetLogger(ctx)
	controlCtx := workflow.WithActivityOptions(ctx, controlActivityOptions(ctx))

	out, err := runGeneration(ctx, in)
	if err != nil {
		if isCancellation(ctx, err) {
			return recordCancellation(ctx, in.TaskID, out)
		}
		code, msg := Classify(err)
		logger.Warn("generation failed", "task_id", in.TaskID, "model", in.Model, "code", code)
		fail := FailTaskInput{TaskID: in.TaskID, Code: code, Message: msg}
		if err := workflow.ExecuteActivity(controlCtx, FailTaskActivity, fail).Get(ctx, nil); err != nil {
			if isCancellation(ctx, err) {
				return recordCancellation(ctx, in.TaskID, out)
			}
			return GenerationResult{}, err
		}
		return GenerationResult{TaskID: in.TaskID, Status: StatusFailed, ErrorCode: code}, nil
	}

	finish := FinishTaskInput{TaskID: in.TaskID, Output: out}
	if err := finishTask(ctx, controlCtx, finish); err != nil {
		if isCancellation(ctx, err) {
			return recordCancellation(ctx, in.TaskID, out)
		}
		return GenerationResult{}, err
	}
	return GenerationResult{TaskID: in.TaskID, Status: StatusDone, ResultKey: out.ResultKey, PreviewKey: out.PreviewKey}, nil
}

// runGeneration runs the GPU activity on the model's dedicated lane and, when no worker starts
// it within the model's schedule-to-start limit, on the shared lane if admission allows.
func runGeneration(ctx workflow.Context, in GenerationInput) (RunGenerationOutput, error) {
	run := RunGenerationInput{TaskID: in.TaskID, Model: in.Model, Type: in.Type, Mode: in.Mode,
		Lane: in.Runtime.Lane, Request: in.Request}
	var out RunGenerationOutput
	dedicated := workflow.WithActivityOptions(ctx, gpuActivityOptions(in.Runtime, in.Runtime.Lane, in.Runtime.ScheduleToStart))
	err := workflow.ExecuteActivity(dedicated, RunGenerationActivity, run).Get(ctx, &out)
	if err == nil || !isScheduleToStartTimeout(err) || in.Shared.TaskQueue == "" {
		return out, err
	}
	if workflow.GetVersion(ctx, sharedFallbackChange, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return out, err
	}

	reason := fmt.Sprintf("no worker of lane %s started the task within %s", in.Runtime.Lane, in.Runtime.ScheduleToStart)
	controlCtx := workflow.WithActivityOptions(ctx, controlActivityOptions(ctx))
	var admitted AdmitSharedOutput
	admit := AdmitSharedInput{TaskID: in.TaskID, Lane: in.Shared.TaskQueue, Reason: reason, MaxDepth: in.Shared.MaxDepth}
	if err := workflow.ExecuteActivity(controlCtx, AdmitSharedActivity, admit).Get(ctx, &admitted); err != nil {
		return out, err
	}
	if !admitted.Admitted {
		workflow.GetLogger(ctx).Warn("shared lane full", "task_id", in.TaskID, "depth", admitted.Depth)
		return out, temporal.NewNonRetryableApplicationError(failure.Advice(failure.QueueOverloaded), failure.QueueOverloaded, nil)
	}
	run.Lane = in.Shared.TaskQueue
	shared := workflow.WithActivityOptions(ctx, gpuActivityOptions(in.Runtime, in.Shared.TaskQueue, in.Shared.MaxWait))
	err = workflow.ExecuteActivity(shared, RunGenerationActivity, run).Get(ctx, &out)
	return out, err
}

// recordCancellation records a cancelled task on a context that survives the cancellation and
// ends the workflow cancelled, unless the task had already finished another way.
func recordCancellation(ctx workflow.Context, taskID string, out RunGenerationOutput) (GenerationResult, error) {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	dctx = workflow.WithActivityOptions(dctx, controlActivityOptions(dctx))
	var res CancelTaskOutput
	in := CancelTaskInput{TaskID: taskID, ResultKey: out.ResultKey, PreviewKey: out.PreviewKey}
	if err := workflow.ExecuteActivity(dctx, CancelTaskActivity, in).Get(dctx, &res); err != nil {
		return GenerationResult{}, err
	}
	if !res.Cancelled {
		return GenerationResult{TaskID: taskID, Status: res.Status, ResultKey: out.ResultKey, PreviewKey: out.PreviewKey}, nil
	}
	return GenerationResult{TaskID: taskID, Status: StatusCancelled}, temporal.NewCanceledError()
}

// isCancellation reports whether err comes from the workflow being cancelled.
func isCancellation(ctx workflow.Context, err error) bool {
	return temporal.IsCanceledError(err) || errors.Is(ctx.Err(), workflow.ErrCanceled)
}

// isScheduleToStartTimeout reports whether no worker started the activity in time.
func isScheduleToStartTimeout(err error) bool {
	var timeoutErr *temporal.TimeoutError
	return errors.As(err, &timeoutErr) && timeoutErr.TimeoutType() == enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START
}

// Classify maps the GPU activity's error to a stable failure code and a message a person can act
// on. Application errors carry their code as their type and a message already safe to show;
// timeouts are named after what timed out.
func Classify(err error) (code, message string) {
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		switch timeoutErr.TimeoutType() {
		case enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START:
			code = failure.WorkerStartTimeout
		case enumspb.TIMEOUT_TYPE_HEARTBEAT:
			code = failure.WorkerLost
		default:
			code = failure.GenerationTimeout
		}
		return code, failure.Advice(code)
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && failure.Known(appErr.Type()) {
		if msg := appErr.Message(); msg != "" {
			return appErr.Type(), msg
		}
		return appErr.Type(), failure.Advice(appErr.Type())
	}
	return failure.Internal, failure.Advice(failure.Internal)
}
