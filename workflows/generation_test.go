package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/gooni/gooni/internal/failure"
	"github.com/gooni/gooni/workflows"
)

func sampleInput() workflows.GenerationInput {
	return workflows.GenerationInput{
		TaskID: "t-1",
		Model:  "pony",
		Type:   "image",
		Mode:   "txt2img",
		Runtime: workflows.Runtime{
			Lane:            "gpu-pony",
			ScheduleToStart: time.Minute,
			StartToClose:    5 * time.Minute,
			Heartbeat:       30 * time.Second,
			Retry: workflows.RetryPolicy{
				MaxAttempts:        3,
				InitialInterval:    time.Second,
				BackoffCoefficient: 2,
				MaxInterval:        10 * time.Second,
				NonRetryableCodes:  []string{failure.InvalidInput, failure.GPUMemoryExceeded},
			},
		},
		Shared: workflows.SharedLane{TaskQueue: "gpu-shared", MaxDepth: 25, MaxWait: 30 * time.Second},
		Request: workflows.Request{Prompt: "a cat", Width: 512, Height: 512, Seed: 42, OutputFormat: "png",
			Params: map[string]any{"steps": 25}},
	}
}

// setup registers the activities by their contract names with functions the test controls.
func setup(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.GenerationWorkflow, workflow.RegisterOptions{Name: workflows.GenerationWorkflowName})
	env.RegisterActivityWithOptions(func(context.Context, workflows.RunGenerationInput) (workflows.RunGenerationOutput, error) {
		return workflows.RunGenerationOutput{}, errors.New("not mocked")
	}, activity.RegisterOptions{Name: workflows.RunGenerationActivity})
	env.RegisterActivityWithOptions(func(context.Context, workflows.FinishTaskInput) error { return nil },
		activity.RegisterOptions{Name: workflows.FinishTaskActivity})
	env.RegisterActivityWithOptions(func(context.Context, workflows.FailTaskInput) error { return nil },
		activity.RegisterOptions{Name: workflows.FailTaskActivity})
	env.RegisterActivityWithOptions(func(context.Context, workflows.CancelTaskInput) (workflows.CancelTaskOutput, error) {
		return workflows.CancelTaskOutput{}, errors.New("not mocked")
	}, activity.RegisterOptions{Name: workflows.CancelTaskActivity})
	env.RegisterActivityWithOptions(func(context.Context, workflows.AdmitSharedInput) (workflows.AdmitSharedOutput, error) {
		return workflows.AdmitSharedOutput{}, errors.New("not mocked")
	}, activity.RegisterOptions{Name: workflows.AdmitSharedActivity})
	return env
}

func TestGenerationWorkflowRunsOnTheModelLaneAndRecordsTheResult(t *testing.T) {
	t.Parallel()
	env := setup(t)
	in := sampleInput()
	out := workflows.RunGenerationOutput{ResultKey: "results/t-1/result.png", PreviewKey: "previews/t-1/preview.jpg",
		ResultMIME: "image/png", Width: 512, Height: 512, LaneMode: "dedicated"}

	var seenQueue string
	env.OnActivity(workflows.RunGenerationActivity, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, got workflows.RunGenerationInput) (workflows.RunGenerationOutput, error) {
			info := activity.GetInfo(ctx)
			seenQueue = info.TaskQueue
			require.Equal(t, 5*time.Minute, info.StartToCloseTimeout)
			require.Equal(t, 30*time.Second, info.HeartbeatTimeout)
			require.Equal(t, in.Request.Prompt, got.Request.Prompt)
			require.Equal(t, "gpu-pony", got.Lane)
			return out, nil
		}).Once()
	var finishedLocally bool
	env.OnActivity(workflows.FinishTaskActivity, mock.Anything, workflows.FinishTaskInput{TaskID: "t-1", Output: out}).Return(
		func(ctx context.Context, _ workflows.FinishTaskInput) error {
			finishedLocally = activity.GetInfo(ctx).IsLocalActivity
			return nil
		}).Once()

	env.ExecuteWorkflow(workflows.GenerationWorkflowName, in)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.GenerationResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.StatusDone, res.Status)
	require.Equal(t, out.ResultKey, res.ResultKey)
	require.Equal(t, "gpu-pony", seenQueue)
	require.True(t, finishedLocally, "the result is recorded by a local activity in the workflow task that got it")
	env.AssertExpectations(t)
}

func TestGenerationWorkflowRetriesRetryableFailuresThenSucceeds(t *testing.T) {
	t.Parallel()
	env := setup(t)
	calls := 0
	env.OnActivity(workflows.RunGenerationActivity, mock.Anything, mock.Anything).Return(
		func(context.Context, workflows.RunGenerationInput) (workflows.RunGenerationOutput, error) {
			calls++
			if calls < 3 {
				return workflows.RunGenerationOutput{}, temporal.NewApplicationError("runner died", failure.RunnerCrashed)
			}
			return workflows.RunGenerationOutput{ResultKey: "r", PreviewKey: "p"}, nil
		})
	env.OnActivity(workflows.FinishTaskActivity, mock.Anything, mock.Anything).Return(nil).Once()

	env.ExecuteWorkflow(workflows.GenerationWorkflowName, sampleInput())
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, 3, calls, "two retryable failures, then success on the third of three attempts")
	env.AssertExpectations(t)
}

func TestGenerationWorkflowStopsAtTheSettingsAttemptLimit(t *testing.T) {
	t.Parallel()
	env := setup(t)
	calls := 0
	env.OnActivity(workflows.RunGenerationActivity, mock.Anything, mock.Anything).Return(
		func(context.Context, workflows.RunGenerationInput) (workflows.RunGenerationOutput, error) {
			calls++
			return workflows.RunGenerationOutput{}, temporal.NewApplicationError("runner died", failure.RunnerCrashed)
		})
	var failed workflows.FailTaskInput
	env.OnActivity(workflows.FailTaskActivity, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in workflows.FailTaskInput) error { failed = in; return nil }).Once()

	env.ExecuteWorkflow(workflows.GenerationWorkflowName, sampleInput())
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, 3, calls)
	require.Equal(t, failure.RunnerCrashed, failed.Code)
	var res workflows.GenerationResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.StatusFailed, res.Status)
}

func TestGenerationWorkflowDoesNotRetryNonRetryableCodes(t *testing.T) {
	t.Parallel()
	for _, code := range []string{failure.InvalidInput, failure.GPUMemoryExceeded} {
		env := setup(t)
		calls := 0
		env.OnActivity(workflows.RunGenerationActivity, mock.Anything, mock.Anything).Return(
			func(context.Context, workflows.RunGenerationInput) (workflows.RunGenerationOutput, error) {
				calls++
				return workflows.RunGenerationOutput{}, temporal.NewApplicationError("Reduce the resolution.", code)
			})
		var failed workflows.FailTaskInput
		env.OnActivity(workflows.FailTaskActivity, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in workflows.FailTaskInput) error { failed = in; return nil }).Once()

		env.ExecuteWorkflow(workflows.GenerationWorkflowName, sampleInput())
		require.NoError(t, env.GetWorkflowError())
		require.Equal(t, 1, calls, code)
		require.Equal(t, code, failed.Code)
		require.Equal(t, "Reduce the resolution.", failed.Message)
	}
}

func TestGenerationWorkflowFailsWithWorkerStartTimeoutWhenNoWorkerPicksItUp(t *testing.T) {
	t.Parallel()
	env := setup(t)
	in := sampleInput()
	in.Shared = workflows.SharedLane{} // no shared lane configured: no fallback
	env.OnActivity(workflows.RunGenerationActivity, mock.Anything, mock.Anything).Return(
		workflows.RunGenerationOutput{}, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil))
	var failed workflows.FailTaskInput
	env.OnActivity(workflows.FailTaskActivity, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in workflows.FailTaskInput) error { failed = in; return nil }).Once()

	env.ExecuteWorkflow(workflows.GenerationWorkflowName, in)
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, failure.WorkerStartTimeout, failed.Code)
	require.Contains(t, failed.Message, "No GPU worker")
}

func TestClassifyHidesUnknownErrorText(t *testing.T) {
	t.Parallel()
	code, msg := workflows.Classify(errors.New("pq: password authentication failed for user secret"))
	require.Equal(t, failure.Internal, code)
	require.NotContains(t, msg, "secret")
	code, _ = workflows.Classify(temporal.NewApplicationError("boom", "SomeGoPanicType"))
	require.Equal(t, failure.Internal, code)
}
