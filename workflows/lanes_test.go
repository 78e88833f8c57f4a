package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/gooni/gooni/internal/failure"
	"github.com/gooni/gooni/workflows"
)

func TestGenerationFallsBackToTheSharedLaneWhenNoDedicatedWorkerStartsIt(t *testing.T) {
	t.Parallel()
	env := setup(t)
	var lanes, queues []string
	env.OnActivity(workflows.RunGenerationActivity, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in workflows.RunGenerationInput) (workflows.RunGenerationOutput, error) {
			lanes = append(lanes, in.Lane)
			queues = append(queues, activity.GetInfo(ctx).TaskQueue)
			if in.Lane == "gpu-pony" {
				return workflows.RunGenerationOutput{}, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil)
			}
			return workflows.RunGenerationOutput{ResultKey: "r", PreviewKey: "p", LaneMode: "shared"}, nil
		})
	var admit workflows.AdmitSharedInput
	env.OnActivity(workflows.AdmitSharedActivity, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in workflows.AdmitSharedInput) (workflows.AdmitSharedOutput, error) {
			admit = in
			return workflows.AdmitSharedOutput{Admitted: true, Depth: 3}, nil
		}).Once()
	env.OnActivity(workflows.FinishTaskActivity, mock.Anything, mock.Anything).Return(nil).Once()

	env.ExecuteWorkflow(workflows.GenerationWorkflowName, sampleInput())
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, []string{"gpu-pony", "gpu-shared"}, lanes)
	require.Equal(t, []string{"gpu-pony", "gpu-shared"}, queues)
	require.Equal(t, "gpu-shared", admit.Lane)
	require.Equal(t, 25, admit.MaxDepth)
	require.Contains(t, admit.Reason, "gpu-pony")
	env.AssertExpectations(t)
}

func TestGenerationFailsQueueOverloadedWhenTheSharedLaneIsFull(t *testing.T) {
	t.Parallel()
	env := setup(t)
	calls := 0
	env.OnActivity(workflows.RunGenerationActivity, mock.Anything, mock.Anything).Return(
		func(context.Context, workflows.RunGenerationInput) (workflows.RunGenerationOutput, error) {
			calls++
			return workflows.RunGenerationOutput{}, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil)
		})
	env.OnActivity(workflows.AdmitSharedActivity, mock.Anything, mock.Anything).Return(workflows.AdmitSharedOutput{Admitted: false, Depth: 25}, nil).Once()
	var failed workflows.FailTaskInput
	env.OnActivity(workflows.FailTaskActivity, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in workflows.FailTaskInput) error { failed = in; return nil }).Once()

	env.ExecuteWorkflow(workflows.GenerationWorkflowName, sampleInput())
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, 1, calls, "never queued on the full shared lane")
	require.Equal(t, failure.QueueOverloaded, failed.Code)
}

func TestGenerationFailsWorkerStartTimeoutWhenNoLaneHasAWorker(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env.OnActivity(workflows.RunGenerationActivity, mock.Anything, mock.Anything).Return(
		workflows.RunGenerationOutput{}, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil))
	env.OnActivity(workflows.AdmitSharedActivity, mock.Anything, mock.Anything).Return(workflows.AdmitSharedOutput{Admitted: true}, nil).Once()
	var failed workflows.FailTaskInput
	env.OnActivity(workflows.FailTaskActivity, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in workflows.FailTaskInput) error { failed = in; return nil }).Once()

	env.ExecuteWorkflow(workflows.GenerationWorkflowName, sampleInput())
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, failure.WorkerStartTimeout, failed.Code)
}

// The test environment neither waits for a cancelled activity nor cancels its context; that the
// runner really stops is proved end to end in internal/stack.
func TestCancellingTheWorkflowRecordsCancelledAndEndsCanceled(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env.OnActivity(workflows.RunGenerationActivity, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, _ workflows.RunGenerationInput) (workflows.RunGenerationOutput, error) {
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
			return workflows.RunGenerationOutput{}, temporal.NewCanceledError()
		})
	cancelled := make(chan workflows.CancelTaskInput, 1)
	env.OnActivity(workflows.CancelTaskActivity, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in workflows.CancelTaskInput) (workflows.CancelTaskOutput, error) {
			cancelled <- in
			return workflows.CancelTaskOutput{Cancelled: true, Status: "cancelled"}, nil
		}).Once()
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Second)

	env.ExecuteWorkflow(workflows.GenerationWorkflowName, sampleInput())
	require.True(t, env.IsWorkflowCompleted())
	require.True(t, temporal.IsCanceledError(env.GetWorkflowError()), "%v", env.GetWorkflowError())
	require.Equal(t, "t-1", (<-cancelled).TaskID)
	env.AssertExpectations(t)
}

func TestCancelAfterTheTaskFinishedKeepsTheResult(t *testing.T) {
	t.Parallel()
	env := setup(t)
	out := workflows.RunGenerationOutput{ResultKey: "results/t-1/result.png", PreviewKey: "previews/t-1/preview.jpg"}
	env.OnActivity(workflows.RunGenerationActivity, mock.Anything, mock.Anything).Return(out, nil)
	env.OnActivity(workflows.FinishTaskActivity, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, _ workflows.FinishTaskInput) error {
			<-ctx.Done()
			return ctx.Err()
		})
	cancelled := make(chan workflows.CancelTaskInput, 1)
	env.OnActivity(workflows.CancelTaskActivity, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in workflows.CancelTaskInput) (workflows.CancelTaskOutput, error) {
			cancelled <- in
			return workflows.CancelTaskOutput{Cancelled: false, Status: "done"}, nil
		}).Once()
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Second)

	env.ExecuteWorkflow(workflows.GenerationWorkflowName, sampleInput())
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, out.ResultKey, (<-cancelled).ResultKey, "the cancel is told which files the run stored")
	var res workflows.GenerationResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, "done", res.Status)
}
