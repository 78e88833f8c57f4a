package workflows

import (
	"errors"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/gooni/gooni/internal/failure"
)

// Task statuses a GenerationResult reports.
const (
	StatusDone   = "done"
	StatusFailed = "failed"
)

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

// gpuActivityOptions turns a model's runtime declaration into the GPU activity's options: its lane,
// its timeouts and its bounded retry policy.
func gpuActivityOptions(rt Runtime) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		TaskQueue:              rt.Lane,
		ScheduleToStartTimeout: rt.ScheduleToStart,
		StartToCloseTimeout:    rt.StartToClose,
		HeartbeatTimeout:       rt.Heartbeat,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        rt.Retry.InitialInterval,
			BackoffCoefficient:     rt.Retry.BackoffCoefficient,
			MaximumInterval:        rt.Retry.MaxInterval,
			MaximumAttempts:        rt.Retry.MaxAttempts,
			NonRetryableErrorTypes: rt.Retry.NonRetryableCodes,
		},
	}
}

// GenerationWorkflow runs one generation: the model on a GPU worker of its lane, then the task's
// final state recorded on the control queue. A failure of the model ends the workflow
// successfully with status "failed" and a stable code; the workflow itself only fails when the
// task state cannot be recorded.
func GenerationWorkflow(ctx workflow.Context, in GenerationInput) (GenerationResult, error) {
	logger := workflow.GetLogger(ctx)
	controlCtx := workflow.WithActivityOptions(ctx, controlActivityOptions(ctx))
	gpuCtx := workflow.WithActivityOptions(ctx, gpuActivityOptions(in.Runtime))

	run := RunGenerationInput{
		TaskID:  in.TaskID,
		Model:   in.Model,
		Type:    in.Type,
		Mode:    in.Mode,
		Lane:    in.Runtime.Lane,
		Request: in.Request,
	}
	var out RunGenerationOutput
	err := workflow.ExecuteActivity(gpuCtx, RunGenerationActivity, run).Get(ctx, &out)
	if err != nil {
		code, msg := Classify(err)
		logger.Warn("generation failed", "task_id", in.TaskID, "model", in.Model, "code", code)
		fail := FailTaskInput{TaskID: in.TaskID, Code: code, Message: msg}
		if err := workflow.ExecuteActivity(controlCtx, FailTaskActivity, fail).Get(ctx, nil); err != nil {
			return GenerationResult{}, err
		}
		return GenerationResult{TaskID: in.TaskID, Status: StatusFailed, ErrorCode: code}, nil
	}

	finish := FinishTaskInput{TaskID: in.TaskID, Output: out}
	if err := workflow.ExecuteActivity(controlCtx, FinishTaskActivity, finish).Get(ctx, nil); err != nil {
		return GenerationResult{}, err
	}
	return GenerationResult{
		TaskID:     in.TaskID,
		Status:     StatusDone,
		ResultKey:  out.ResultKey,
		PreviewKey: out.PreviewKey,
	}, nil
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
