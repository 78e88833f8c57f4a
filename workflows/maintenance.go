package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Defaults of the maintenance inputs.
const (
	defaultMaintenanceBatch      = 100
	defaultMaintenanceMaxBatches = 100
	defaultReconcileMinAge       = 2 * time.Minute
)

// maintenanceActivityOptions bound the maintenance activities of the control queue: one batch
// per attempt, heartbeating per item, retried a few times (a database or Temporal frontend that
// is briefly away), never forever. Permanent failures are non-retryable application errors.
func maintenanceActivityOptions(ctx workflow.Context) workflow.ActivityOptions {
	return workflow.ActivityOptions{
		TaskQueue:           workflow.GetInfo(ctx).TaskQueueName,
		StartToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    30 * time.Second,
			MaximumAttempts:    5,
		},
	}
}

// ArtifactCleanupWorkflow removes the results, previews and inputs of tasks past retention, one
// bounded batch per activity, until none is left or MaxBatches ran. Records keep their metadata;
// GET /results then answers 410 result_file_missing. Two runs at once never clean the same task
// (the store claims each batch with SKIP LOCKED).
func ArtifactCleanupWorkflow(ctx workflow.Context, in CleanupInput) (CleanupResult, error) {
	in.BatchSize = positive(in.BatchSize, defaultMaintenanceBatch)
	in.MaxBatches = positive(in.MaxBatches, defaultMaintenanceMaxBatches)
	ctx = workflow.WithActivityOptions(ctx, maintenanceActivityOptions(ctx))
	var res CleanupResult
	for res.Batches < in.MaxBatches {
		var out CleanupBatchOutput
		if err := workflow.ExecuteActivity(ctx, CleanupArtifactsBatchActivity, CleanupBatchInput{Limit: in.BatchSize}).Get(ctx, &out); err != nil {
			return res, err
		}
		res.Batches++
		res.Tasks += out.Tasks
		res.Files += out.Files
		if out.Tasks < in.BatchSize {
			res.Complete = true
			break
		}
	}
	workflow.GetLogger(ctx).Info("artifact cleanup done", "tasks", res.Tasks, "files", res.Files, "complete", res.Complete)
	return res, nil
}

// ReconcileWorkflow walks the live task records (pending, processing) unchanged for MinAge and
// repairs those that disagree with their workflow: a closed workflow's outcome is recorded, a
// record without a workflow is failed with code reconciled.
func ReconcileWorkflow(ctx workflow.Context, in ReconcileInput) (ReconcileResult, error) {
	if in.MinAge <= 0 {
		in.MinAge = defaultReconcileMinAge
	}
	in.BatchSize = positive(in.BatchSize, defaultMaintenanceBatch)
	in.MaxBatches = positive(in.MaxBatches, defaultMaintenanceMaxBatches)
	ctx = workflow.WithActivityOptions(ctx, maintenanceActivityOptions(ctx))
	var res ReconcileResult
	after := ""
	for res.Batches < in.MaxBatches {
		var out ReconcileBatchOutput
		batch := ReconcileBatchInput{After: after, Limit: in.BatchSize, MinAge: in.MinAge}
		if err := workflow.ExecuteActivity(ctx, ReconcileBatchActivity, batch).Get(ctx, &out); err != nil {
			return res, err
		}
		res.Batches++
		res.Add(out.ReconcileCounts)
		if !out.More {
			res.Complete = true
			break
		}
		after = out.Next
	}
	workflow.GetLogger(ctx).Info("reconcile done", "checked", res.Checked, "consistent", res.Consistent,
		"orphaned", res.Orphaned, "complete", res.Complete)
	return res, nil
}

// WarmupWorkflow runs each target model's warm-up request on its own lane through the GPU
// activity (flagged Warmup: nothing reported, nothing stored), all lanes at once, and reports
// per model. A lane with no worker ends failed with worker_start_timeout after the model's
// schedule-to-start limit; the workflow itself succeeds.
func WarmupWorkflow(ctx workflow.Context, in WarmupInput) (WarmupResult, error) {
	runID := workflow.GetInfo(ctx).WorkflowExecution.RunID
	if len(runID) > 8 {
		runID = runID[:8]
	}
	futures := make([]workflow.Future, len(in.Targets))
	for i, t := range in.Targets {
		opts := gpuActivityOptions(t.Runtime, t.Runtime.Lane, t.Runtime.ScheduleToStart)
		run := RunGenerationInput{TaskID: "warmup-" + t.Model + "-" + runID, Model: t.Model, Type: t.Type, Mode: t.Mode,
			Lane: t.Runtime.Lane, Request: t.Request, Warmup: true}
		futures[i] = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), RunGenerationActivity, run)
	}
	res := WarmupResult{Outcomes: make([]WarmupOutcome, 0, len(in.Targets))}
	for i, t := range in.Targets {
		o := WarmupOutcome{Model: t.Model, Lane: t.Runtime.Lane, Status: WarmupWarm}
		var out RunGenerationOutput
		if err := futures[i].Get(ctx, &out); err != nil {
			if isCancellation(ctx, err) {
				return res, err
			}
			o.Status = WarmupFailed
			o.ErrorCode, o.Message = Classify(err)
			res.Failed++
		} else {
			o.RunnerName, o.ElapsedMsec = out.RunnerName, out.ElapsedMsec
			res.Warm++
		}
		res.Outcomes = append(res.Outcomes, o)
	}
	workflow.GetLogger(ctx).Info("warm-up done", "warm", res.Warm, "failed", res.Failed)
	return res, nil
}

// AuditRetentionWorkflow deletes admin audit rows older than Retention (default 90 days). The
// cutoff is fixed once from workflow time, so a retried activity deletes the same rows.
func AuditRetentionWorkflow(ctx workflow.Context, in AuditRetentionInput) (AuditRetentionResult, error) {
	if in.Retention <= 0 {
		in.Retention = DefaultAuditRetention
	}
	ctx = workflow.WithActivityOptions(ctx, maintenanceActivityOptions(ctx))
	res := AuditRetentionResult{Before: workflow.Now(ctx).Add(-in.Retention).UTC()}
	if err := workflow.ExecuteActivity(ctx, DeleteAuditActivity, DeleteAuditInput{Before: res.Before}).Get(ctx, &res.Deleted); err != nil {
		return res, err
	}
	return res, nil
}

// positive returns v when above zero, else def.
func positive(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}
