package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// RotateKeysWorkflow re-encrypts every worker-account secret under the newest key, one bounded
// page per activity, until none is left or MaxBatches ran. Each secret is verified before it
// is swapped in (compare and swap), so a run retried or two runs at once never lose a secret.
func RotateKeysWorkflow(ctx workflow.Context, in RotateKeysInput) (RotateKeysResult, error) {
	in.BatchSize = positive(in.BatchSize, defaultMaintenanceBatch)
	in.MaxBatches = positive(in.MaxBatches, defaultMaintenanceMaxBatches)
	ctx = workflow.WithActivityOptions(ctx, maintenanceActivityOptions(ctx))
	var res RotateKeysResult
	after := ""
	for res.Batches < in.MaxBatches {
		var out RotateKeysBatchOutput
		if err := workflow.ExecuteActivity(ctx, RotateKeysBatchActivity, RotateKeysBatchInput{After: after, Limit: in.BatchSize}).Get(ctx, &out); err != nil {
			return res, err
		}
		res.Batches++
		res.Add(out.RotateKeysCounts)
		if !out.More {
			res.Complete = true
			break
		}
		after = out.Next
	}
	workflow.GetLogger(ctx).Info("key rotation done", "rotated", res.Rotated, "already_newest", res.AlreadyNewest,
		"failed", res.Failed, "complete", res.Complete)
	return res, nil
}

// HealthSweepWorkflow checks every account's worker liveness once (one activity: accounts are
// few) and reports which it failed for silence and which it recovered.
func HealthSweepWorkflow(ctx workflow.Context, in HealthSweepInput) (HealthSweepResult, error) {
	opts := maintenanceActivityOptions(ctx)
	opts.StartToCloseTimeout = 2 * time.Minute
	ctx = workflow.WithActivityOptions(ctx, opts)
	var res HealthSweepResult
	if err := workflow.ExecuteActivity(ctx, HealthSweepActivity, in).Get(ctx, &res); err != nil {
		return res, err
	}
	if len(res.Silent) > 0 || len(res.Recovered) > 0 {
		workflow.GetLogger(ctx).Info("health sweep done", "checked", res.Checked, "silent", len(res.Silent), "recovered", len(res.Recovered))
	}
	return res, nil
}
