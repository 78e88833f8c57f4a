package workflows_test

import (
	"context"
	"errors"
	"sync"
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

// setupMaintenance registers the maintenance workflows and test doubles of their activities under their
// contract names; tests mock the activities they expect.
func setupMaintenance(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.ArtifactCleanupWorkflow, workflow.RegisterOptions{Name: workflows.ArtifactCleanupWorkflowName})
	env.RegisterWorkflowWithOptions(workflows.ReconcileWorkflow, workflow.RegisterOptions{Name: workflows.ReconcileWorkflowName})
	env.RegisterWorkflowWithOptions(workflows.WarmupWorkflow, workflow.RegisterOptions{Name: workflows.WarmupWorkflowName})
	env.RegisterWorkflowWithOptions(workflows.AuditRetentionWorkflow, workflow.RegisterOptions{Name: workflows.AuditRetentionWorkflowName})
	env.RegisterActivityWithOptions(func(context.Context, workflows.CleanupBatchInput) (workflows.CleanupBatchOutput, error) {
		return workflows.CleanupBatchOutput{}, errors.New("not mocked")
	}, activity.RegisterOptions{Name: workflows.CleanupArtifactsBatchActivity})
	env.RegisterActivityWithOptions(func(context.Context, workflows.ReconcileBatchInput) (workflows.ReconcileBatchOutput, error) {
		return workflows.ReconcileBatchOutput{}, errors.New("not mocked")
	}, activity.RegisterOptions{Name: workflows.ReconcileBatchActivity})
	env.RegisterActivityWithOptions(func(context.Context, workflows.DeleteAuditInput) (int64, error) {
		return 0, errors.New("not mocked")
	}, activity.RegisterOptions{Name: workflows.DeleteAuditActivity})
	env.RegisterActivityWithOptions(func(context.Context, workflows.RunGenerationInput) (workflows.RunGenerationOutput, error) {
		return workflows.RunGenerationOutput{}, errors.New("not mocked")
	}, activity.RegisterOptions{Name: workflows.RunGenerationActivity})
	return env
}

func TestArtifactCleanupWorkflowRunsBatchesUntilOneIsShort(t *testing.T) {
	t.Parallel()
	env := setupMaintenance(t)
	batches := []workflows.CleanupBatchOutput{{Tasks: 2, Files: 5}, {Tasks: 2, Files: 4}, {Tasks: 1, Files: 2}}
	calls := 0
	env.OnActivity(workflows.CleanupArtifactsBatchActivity, mock.Anything, workflows.CleanupBatchInput{Limit: 2}).Return(
		func(ctx context.Context, _ workflows.CleanupBatchInput) (workflows.CleanupBatchOutput, error) {
			info := activity.GetInfo(ctx)
			require.Equal(t, 5*time.Minute, info.StartToCloseTimeout)
			require.Equal(t, time.Minute, info.HeartbeatTimeout)
			calls++
			return batches[calls-1], nil
		}).Times(3)

	env.ExecuteWorkflow(workflows.ArtifactCleanupWorkflowName, workflows.CleanupInput{BatchSize: 2})
	require.NoError(t, env.GetWorkflowError())
	var res workflows.CleanupResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.CleanupResult{Batches: 3, Tasks: 5, Files: 11, Complete: true}, res)
	env.AssertExpectations(t)
}

func TestArtifactCleanupWorkflowStopsAtMaxBatches(t *testing.T) {
	t.Parallel()
	env := setupMaintenance(t)
	env.OnActivity(workflows.CleanupArtifactsBatchActivity, mock.Anything, mock.Anything).
		Return(workflows.CleanupBatchOutput{Tasks: 10, Files: 20}, nil).Times(2)

	env.ExecuteWorkflow(workflows.ArtifactCleanupWorkflowName, workflows.CleanupInput{BatchSize: 10, MaxBatches: 2})
	require.NoError(t, env.GetWorkflowError())
	var res workflows.CleanupResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.CleanupResult{Batches: 2, Tasks: 20, Files: 40, Complete: false}, res)
	env.AssertExpectations(t)
}

func TestArtifactCleanupWorkflowRetriesAFailedBatchABoundedNumberOfTimes(t *testing.T) {
	t.Parallel()
	env := setupMaintenance(t)
	calls := 0
	env.OnActivity(workflows.CleanupArtifactsBatchActivity, mock.Anything, mock.Anything).Return(
		func(context.Context, workflows.CleanupBatchInput) (workflows.CleanupBatchOutput, error) {
			calls++
			return workflows.CleanupBatchOutput{}, errors.New("storage away")
		})

	env.ExecuteWorkflow(workflows.ArtifactCleanupWorkflowName, workflows.CleanupInput{})
	require.Error(t, env.GetWorkflowError())
	require.Equal(t, 5, calls, "the maintenance retry policy allows five attempts")
}

func TestReconcileWorkflowPagesWithTheCursorAndSumsCounts(t *testing.T) {
	t.Parallel()
	env := setupMaintenance(t)
	env.OnActivity(workflows.ReconcileBatchActivity, mock.Anything,
		workflows.ReconcileBatchInput{After: "", Limit: 2, MinAge: 2 * time.Minute}).Return(
		workflows.ReconcileBatchOutput{ReconcileCounts: workflows.ReconcileCounts{Checked: 2, Consistent: 1, Finished: 1}, Next: "b", More: true}, nil).Once()
	env.OnActivity(workflows.ReconcileBatchActivity, mock.Anything,
		workflows.ReconcileBatchInput{After: "b", Limit: 2, MinAge: 2 * time.Minute}).Return(
		workflows.ReconcileBatchOutput{ReconcileCounts: workflows.ReconcileCounts{Checked: 1, Orphaned: 1}, Next: "c"}, nil).Once()

	env.ExecuteWorkflow(workflows.ReconcileWorkflowName, workflows.ReconcileInput{BatchSize: 2})
	require.NoError(t, env.GetWorkflowError())
	var res workflows.ReconcileResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.ReconcileResult{
		ReconcileCounts: workflows.ReconcileCounts{Checked: 3, Consistent: 1, Finished: 1, Orphaned: 1},
		Batches:         2, Complete: true,
	}, res)
	env.AssertExpectations(t)
}

func warmupTarget(model, lane string) workflows.WarmupTarget {
	in := sampleInput()
	in.Runtime.Lane = lane
	return workflows.WarmupTarget{Model: model, Type: "image", Mode: "txt2img", Runtime: in.Runtime,
		Request: workflows.Request{Prompt: "warm-up", Width: 512, Height: 512}}
}

func TestWarmupWorkflowRunsEachModelOnItsLaneAndReportsPerModel(t *testing.T) {
	t.Parallel()
	env := setupMaintenance(t)
	seen := map[string]string{}
	var mu sync.Mutex // the warm-ups run at once
	env.OnActivity(workflows.RunGenerationActivity, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in workflows.RunGenerationInput) (workflows.RunGenerationOutput, error) {
			require.True(t, in.Warmup, "a warm-up must be flagged so the worker reports nothing")
			require.Contains(t, in.TaskID, "warmup-"+in.Model+"-")
			mu.Lock()
			seen[in.Model] = activity.GetInfo(ctx).TaskQueue
			mu.Unlock()
			if in.Model == "flux" {
				return workflows.RunGenerationOutput{}, temporal.NewNonRetryableApplicationError("out of memory", failure.GPUMemoryExceeded, nil)
			}
			return workflows.RunGenerationOutput{RunnerName: "cpu", ElapsedMsec: 42}, nil
		})

	env.ExecuteWorkflow(workflows.WarmupWorkflowName, workflows.WarmupInput{Targets: []workflows.WarmupTarget{
		warmupTarget("pony", "gpu-pony"), warmupTarget("flux", "gpu-flux"),
	}})
	require.NoError(t, env.GetWorkflowError())
	var res workflows.WarmupResult
	require.NoError(t, env.GetWorkflowResult(&res))
	mu.Lock()
	require.Equal(t, map[string]string{"pony": "gpu-pony", "flux": "gpu-flux"}, seen)
	mu.Unlock()
	require.Equal(t, 1, res.Warm)
	require.Equal(t, 1, res.Failed)
	require.Equal(t, workflows.WarmupOutcome{Model: "pony", Lane: "gpu-pony", Status: workflows.WarmupWarm, RunnerName: "cpu", ElapsedMsec: 42}, res.Outcomes[0])
	require.Equal(t, "flux", res.Outcomes[1].Model)
	require.Equal(t, workflows.WarmupFailed, res.Outcomes[1].Status)
	require.Equal(t, failure.GPUMemoryExceeded, res.Outcomes[1].ErrorCode)
}

func TestWarmupWorkflowReportsALaneWithoutWorkers(t *testing.T) {
	t.Parallel()
	env := setupMaintenance(t)
	env.OnActivity(workflows.RunGenerationActivity, mock.Anything, mock.Anything).Return(
		workflows.RunGenerationOutput{}, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START, nil))

	env.ExecuteWorkflow(workflows.WarmupWorkflowName, workflows.WarmupInput{Targets: []workflows.WarmupTarget{warmupTarget("pony", "gpu-pony")}})
	require.NoError(t, env.GetWorkflowError())
	var res workflows.WarmupResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, failure.WorkerStartTimeout, res.Outcomes[0].ErrorCode)
	require.Contains(t, res.Outcomes[0].Message, "No GPU worker")
}

func TestAuditRetentionWorkflowDeletesBeforeAFixedCutoff(t *testing.T) {
	t.Parallel()
	env := setupMaintenance(t)
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	env.SetStartTime(start)
	var got workflows.DeleteAuditInput
	env.OnActivity(workflows.DeleteAuditActivity, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in workflows.DeleteAuditInput) (int64, error) { got = in; return 7, nil }).Once()

	env.ExecuteWorkflow(workflows.AuditRetentionWorkflowName, workflows.AuditRetentionInput{})
	require.NoError(t, env.GetWorkflowError())
	var res workflows.AuditRetentionResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, int64(7), res.Deleted)
	require.True(t, start.Add(-90*24*time.Hour).Equal(got.Before), "default retention is 90 days: %s", got.Before)
	require.True(t, res.Before.Equal(got.Before))
}

func TestMaintenanceNamesMapToWorkflows(t *testing.T) {
	t.Parallel()
	for _, n := range workflows.MaintenanceNames() {
		require.NotEmpty(t, workflows.MaintenanceWorkflow(n), n)
		require.Positive(t, workflows.MaintenanceRunTimeout(n), n)
	}
	require.Empty(t, workflows.MaintenanceWorkflow("rm-rf"))
}
