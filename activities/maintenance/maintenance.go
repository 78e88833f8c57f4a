// Package maintenance holds the activities of the maintenance workflows on the control worker:
// removing expired artifacts, reconciling task records with their workflows, pruning the
// audit log, rotating the worker-account secrets' key and sweeping the accounts' liveness. Each works in bounded batches, heartbeats per item and is idempotent, so Temporal
// may retry it and two runs at once never double the work.
package maintenance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"path"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/gooni/gooni/internal/artifact"
	"github.com/gooni/gooni/internal/failure"
	"github.com/gooni/gooni/internal/secret"
	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/workflows"
)

// DefaultRetention is how long files are kept when Config.Retention is zero.
const DefaultRetention = 30 * 24 * time.Hour

// Config configures the maintenance activities.
type Config struct {
	// Retention is how long a result is kept (the expiry FinishTask sets when reconcile records a
	// result) and how long the inputs of failed and cancelled tasks are kept. Default 30 days.
	Retention time.Duration
	// Now returns the current time. Default time.Now.
	Now func() time.Time
	// Logger receives the activities' logs. Default slog.Default().
	Logger *slog.Logger
	// Keys are the ACCOUNTS_ENCRYPT_KEY keys, newest first, that rotate-keys re-encrypts the
	// account secrets under. Nil: rotate-keys fails with accounts_misconfigured.
	Keys *secret.Keyring
	// AccountSilentAfter (GOONI_ACCOUNT_SILENT_AFTER): the health sweep fails a ready account
	// whose worker sent no heartbeat for this long. Default 15s (three missed heartbeats).
	AccountSilentAfter time.Duration
	// AccountCooldown and AccountMaxFailures are the API's (GOONI_ACCOUNT_COOLDOWN, default
	// 300s; GOONI_ACCOUNT_MAX_FAILURES, default 6) for the failures the health sweep records.
	AccountCooldown    time.Duration
	AccountMaxFailures int
}

func (c Config) withDefaults() Config {
	if c.Retention <= 0 {
		c.Retention = DefaultRetention
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.AccountSilentAfter <= 0 {
		c.AccountSilentAfter = DefaultAccountSilentAfter
	}
	if c.AccountCooldown <= 0 {
		c.AccountCooldown = DefaultAccountCooldown
	}
	if c.AccountMaxFailures <= 0 {
		c.AccountMaxFailures = DefaultAccountMaxFailures
	}
	return c
}

// Activities are the maintenance activities. Register them on the control task queue with
// Register.
type Activities struct {
	store     *store.Store
	artifacts artifact.Store
	temporal  client.Client
	cfg       Config
}

// New returns the maintenance activities: st holds the records, arts the files, tc is the
// Temporal client reconcile asks about workflows.
func New(st *store.Store, arts artifact.Store, tc client.Client, cfg Config) *Activities {
	return &Activities{store: st, artifacts: arts, temporal: tc, cfg: cfg.withDefaults()}
}

// CleanupArtifactsBatch removes the files of up to in.Limit tasks past retention and marks them
// purged. A storage failure rolls the batch back (it stays due) and is retried.
func (a *Activities) CleanupArtifactsBatch(ctx context.Context, in workflows.CleanupBatchInput) (workflows.CleanupBatchOutput, error) {
	if in.Limit <= 0 {
		return workflows.CleanupBatchOutput{}, temporal.NewNonRetryableApplicationError("limit must be positive", "invalid_input", nil)
	}
	done := 0
	tasks, files, err := a.store.PurgeExpiredArtifacts(ctx, in.Limit, a.cfg.Retention, func(ctx context.Context, t store.PurgeTask) error {
		for _, key := range t.Keys {
			if err := a.artifacts.Delete(ctx, key); err != nil {
				return fmt.Errorf("delete %s: %w", key, err)
			}
		}
		done++
		activity.RecordHeartbeat(ctx, done)
		return nil
	})
	if err != nil {
		return workflows.CleanupBatchOutput{}, err
	}
	if tasks > 0 {
		a.cfg.Logger.Info("artifacts removed", "tasks", tasks, "files", files)
	}
	return workflows.CleanupBatchOutput{Tasks: tasks, Files: files}, nil
}

// ReconcileBatch checks up to in.Limit live task records after in.After against their workflows
// and repairs those that disagree.
func (a *Activities) ReconcileBatch(ctx context.Context, in workflows.ReconcileBatchInput) (workflows.ReconcileBatchOutput, error) {
	if in.Limit <= 0 {
		return workflows.ReconcileBatchOutput{}, temporal.NewNonRetryableApplicationError("limit must be positive", "invalid_input", nil)
	}
	live, err := a.store.LiveTasks(ctx, in.After, in.Limit, in.MinAge)
	if err != nil {
		return workflows.ReconcileBatchOutput{}, err
	}
	var out workflows.ReconcileBatchOutput
	for _, t := range live {
		if err := a.reconcile(ctx, t, &out.ReconcileCounts); err != nil {
			return workflows.ReconcileBatchOutput{}, err
		}
		out.Checked++
		out.Next = t.ID
		activity.RecordHeartbeat(ctx, t.ID)
	}
	out.More = len(live) == in.Limit
	return out, nil
}

// reconcile repairs one live record from its workflow, counting what it did in c.
func (a *Activities) reconcile(ctx context.Context, t store.LiveTask, c *workflows.ReconcileCounts) error {
	log := a.cfg.Logger.With("task_id", t.ID, "workflow_id", t.WorkflowID, "record_status", t.Status)
	desc, err := a.temporal.DescribeWorkflowExecution(ctx, t.WorkflowID, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		log.Warn("reconcile: task has no workflow; failing it")
		c.Orphaned++
		return a.fail(ctx, t.ID, failure.Reconciled,
			"The task was never run: its workflow does not exist (it was not started or was removed). Submit it again.")
	}
	if err != nil {
		return fmt.Errorf("describe workflow %s: %w", t.WorkflowID, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	switch info.GetStatus() {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		c.Consistent++
		return nil
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		var res workflows.GenerationResult
		if err := a.temporal.GetWorkflow(ctx, t.WorkflowID, info.GetExecution().GetRunId()).Get(ctx, &res); err != nil {
			return fmt.Errorf("result of workflow %s: %w", t.WorkflowID, err)
		}
		log.Warn("reconcile: workflow completed but the record is live; recording its outcome", "outcome", res.Status)
		return a.record(ctx, t.ID, res, c)
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		log.Warn("reconcile: workflow was cancelled but the record is live")
		c.Cancelled++
		return a.cancel(ctx, t.ID)
	default:
		status := info.GetStatus().String()
		log.Warn("reconcile: workflow ended without recording an outcome", "workflow_status", status)
		c.Orphaned++
		return a.fail(ctx, t.ID, failure.Reconciled,
			fmt.Sprintf("The task's workflow ended (%s) without recording an outcome. Submit it again.", workflowStatusWord(info.GetStatus())))
	}
}

// record sets a live record from its completed workflow's result.
func (a *Activities) record(ctx context.Context, taskID string, res workflows.GenerationResult, c *workflows.ReconcileCounts) error {
	switch res.Status {
	case workflows.StatusDone:
		c.Finished++
		_, err := a.store.FinishTask(ctx, taskID, store.FinishFields{
			ResultKey:  res.ResultKey,
			ResultMIME: resultMIME(res.ResultKey),
			PreviewKey: res.PreviewKey,
			ExpiresAt:  a.cfg.Now().Add(a.cfg.Retention),
		})
		return settle("finish", taskID, err)
	case workflows.StatusCancelled:
		c.Cancelled++
		return a.cancel(ctx, taskID)
	default:
		c.Failed++
		code := res.ErrorCode
		if code == "" {
			code = failure.Internal
		}
		return a.fail(ctx, taskID, code, failure.Advice(code))
	}
}

func (a *Activities) fail(ctx context.Context, taskID, code, msg string) error {
	_, err := a.store.FailTask(ctx, taskID, code, msg)
	return settle("fail", taskID, err)
}

func (a *Activities) cancel(ctx context.Context, taskID string) error {
	_, err := a.store.CancelTask(ctx, taskID)
	return settle("cancel", taskID, err)
}

// settle accepts a record that ended meanwhile (the workflow or a concurrent reconcile won the
// race) or vanished; other errors are retried.
func settle(op, taskID string, err error) error {
	if err == nil || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return fmt.Errorf("reconcile: %s task %s: %w", op, taskID, err)
}

// resultMIME guesses a result's media type from its key's extension (the workflow's result
// carries keys only; GPU workers name results result.<ext>).
func resultMIME(key string) string {
	switch ext := strings.ToLower(path.Ext(key)); ext {
	case ".mp4":
		return "video/mp4"
	case ".webm":
		return "video/webm"
	default:
		return mime.TypeByExtension(ext)
	}
}

// workflowStatusWord names a closed workflow status for people.
func workflowStatusWord(s enumspb.WorkflowExecutionStatus) string {
	switch s {
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:
		return "failed"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:
		return "terminated"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return "timed out"
	case enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return "continued as new"
	}
	return "closed"
}

// DeleteAudit deletes the audit rows older than in.Before and returns how many.
func (a *Activities) DeleteAudit(ctx context.Context, in workflows.DeleteAuditInput) (int64, error) {
	if in.Before.IsZero() {
		return 0, temporal.NewNonRetryableApplicationError("no cutoff", "invalid_input", nil)
	}
	n, err := a.store.DeleteAuditBefore(ctx, in.Before)
	if err != nil {
		return 0, err
	}
	a.cfg.Logger.Info("audit rows deleted", "before", in.Before, "deleted", n)
	return n, nil
}
