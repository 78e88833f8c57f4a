package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/gooni/gooni/workflows"
)

// setupAccountMaintenance registers rotate-keys and health-sweep with test doubles of their activities.
func setupAccountMaintenance(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.RotateKeysWorkflow, workflow.RegisterOptions{Name: workflows.RotateKeysWorkflowName})
	env.RegisterWorkflowWithOptions(workflows.HealthSweepWorkflow, workflow.RegisterOptions{Name: workflows.HealthSweepWorkflowName})
	env.RegisterActivityWithOptions(func(context.Context, workflows.RotateKeysBatchInput) (workflows.RotateKeysBatchOutput, error) {
		return workflows.RotateKeysBatchOutput{}, errors.New("not mocked")
	}, activity.RegisterOptions{Name: workflows.RotateKeysBatchActivity})
	env.RegisterActivityWithOptions(func(context.Context, workflows.HealthSweepInput) (workflows.HealthSweepResult, error) {
		return workflows.HealthSweepResult{}, errors.New("not mocked")
	}, activity.RegisterOptions{Name: workflows.HealthSweepActivity})
	return env
}

func TestRotateKeysWorkflowPagesWithTheCursorAndSumsCounts(t *testing.T) {
	t.Parallel()
	env := setupAccountMaintenance(t)
	env.OnActivity(workflows.RotateKeysBatchActivity, mock.Anything, workflows.RotateKeysBatchInput{After: "", Limit: 2}).Return(
		workflows.RotateKeysBatchOutput{RotateKeysCounts: workflows.RotateKeysCounts{Rotated: 1, AlreadyNewest: 1}, Next: "b", More: true}, nil).Once()
	env.OnActivity(workflows.RotateKeysBatchActivity, mock.Anything, workflows.RotateKeysBatchInput{After: "b", Limit: 2}).Return(
		workflows.RotateKeysBatchOutput{RotateKeysCounts: workflows.RotateKeysCounts{Rotated: 0, Failed: 1, FailedAccounts: []string{"c"}}, Next: "c"}, nil).Once()

	env.ExecuteWorkflow(workflows.RotateKeysWorkflowName, workflows.RotateKeysInput{BatchSize: 2})
	require.NoError(t, env.GetWorkflowError())
	var res workflows.RotateKeysResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, workflows.RotateKeysResult{
		RotateKeysCounts: workflows.RotateKeysCounts{Rotated: 1, AlreadyNewest: 1, Failed: 1, FailedAccounts: []string{"c"}},
		Batches:          2, Complete: true,
	}, res)
	env.AssertExpectations(t)
}

func TestRotateKeysWorkflowStopsOnANonRetryableActivityError(t *testing.T) {
	t.Parallel()
	env := setupAccountMaintenance(t)
	env.OnActivity(workflows.RotateKeysBatchActivity, mock.Anything, mock.Anything).Return(
		workflows.RotateKeysBatchOutput{}, temporal.NewNonRetryableApplicationError("no keys", "accounts_misconfigured", nil)).Once()

	env.ExecuteWorkflow(workflows.RotateKeysWorkflowName, workflows.RotateKeysInput{})
	err := env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, "accounts_misconfigured", appErr.Type())
	env.AssertExpectations(t)
}

func TestHealthSweepWorkflowPassesItsInputAndReturnsTheSweep(t *testing.T) {
	t.Parallel()
	env := setupAccountMaintenance(t)
	in := workflows.HealthSweepInput{SilentAfter: 15 * time.Second}
	want := workflows.HealthSweepResult{Checked: 3, Silent: []string{"a"}, Recovered: []string{"b"}}
	env.OnActivity(workflows.HealthSweepActivity, mock.Anything, in).Return(
		func(ctx context.Context, _ workflows.HealthSweepInput) (workflows.HealthSweepResult, error) {
			require.Equal(t, 2*time.Minute, activity.GetInfo(ctx).StartToCloseTimeout)
			return want, nil
		}).Once()

	env.ExecuteWorkflow(workflows.HealthSweepWorkflowName, in)
	require.NoError(t, env.GetWorkflowError())
	var res workflows.HealthSweepResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, want, res)
	env.AssertExpectations(t)
}

func TestMaintenanceNamesIncludeRotateKeysAndHealthSweep(t *testing.T) {
	t.Parallel()
	require.Equal(t, workflows.RotateKeysWorkflowName, workflows.MaintenanceWorkflow(workflows.MaintenanceRotateKeys))
	require.Equal(t, workflows.HealthSweepWorkflowName, workflows.MaintenanceWorkflow(workflows.MaintenanceHealthSweep))
	require.Contains(t, workflows.MaintenanceNames(), workflows.MaintenanceRotateKeys)
	require.Contains(t, workflows.MaintenanceNames(), workflows.MaintenanceHealthSweep)
}
