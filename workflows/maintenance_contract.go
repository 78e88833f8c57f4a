package workflows

import "time"

// Maintenance names as operators use them (POST /admin/maintenance/{name}) and the workflow each
// one starts.
const (
	MaintenanceCleanup        = "cleanup"
	MaintenanceReconcile      = "reconcile"
	MaintenanceWarmup         = "warmup"
	MaintenanceAuditRetention = "audit-retention"
)

// MaintenanceWorkflowIDPrefix prefixes every maintenance workflow id: "maintenance-<name>" for a
// run started on demand, "maintenance-<name>-<time>" for a scheduled one.
const MaintenanceWorkflowIDPrefix = "maintenance-"

// MaintenanceNames lists the maintenance names in a stable order.
func MaintenanceNames() []string {
	return []string{MaintenanceCleanup, MaintenanceReconcile, MaintenanceWarmup, MaintenanceAuditRetention,
		MaintenanceRotateKeys, MaintenanceHealthSweep}
}

// MaintenanceWorkflow returns the workflow type name of the maintenance called name, or "".
func MaintenanceWorkflow(name string) string {
	switch name {
	case MaintenanceCleanup:
		return ArtifactCleanupWorkflowName
	case MaintenanceReconcile:
		return ReconcileWorkflowName
	case MaintenanceWarmup:
		return WarmupWorkflowName
	case MaintenanceAuditRetention:
		return AuditRetentionWorkflowName
	case MaintenanceRotateKeys:
		return RotateKeysWorkflowName
	case MaintenanceHealthSweep:
		return HealthSweepWorkflowName
	}
	return ""
}

// MaintenanceWorkflowID is the workflow id of an on-demand run of the maintenance called name.
// One id per name: a second start while one runs joins it instead of doubling the work.
func MaintenanceWorkflowID(name string) string { return MaintenanceWorkflowIDPrefix + name }

// CleanupInput starts ArtifactCleanupWorkflow. Zero fields take their defaults.
type CleanupInput struct {
	// BatchSize is how many tasks one activity cleans. Default 100.
	BatchSize int `json:"batch_size,omitempty"`
	// MaxBatches bounds one run; what is left waits for the next run. Default 100.
	MaxBatches int `json:"max_batches,omitempty"`
}

// CleanupBatchInput asks the cleanup activity for one batch.
type CleanupBatchInput struct {
	Limit int `json:"limit"`
}

// CleanupBatchOutput is what one cleanup batch did.
type CleanupBatchOutput struct {
	// Tasks whose artifacts were removed (their records keep their metadata).
	Tasks int `json:"tasks"`
	// Files is how many artifact keys were deleted (absent ones included: deleting is idempotent).
	Files int `json:"files"`
}

// CleanupResult is what ArtifactCleanupWorkflow returns.
type CleanupResult struct {
	Batches int `json:"batches"`
	Tasks   int `json:"tasks"`
	Files   int `json:"files"`
	// Complete is false when the run stopped at MaxBatches with expired tasks left.
	Complete bool `json:"complete"`
}

// ReconcileInput starts ReconcileWorkflow. Zero fields take their defaults.
type ReconcileInput struct {
	// MinAge: only records unchanged for this long are checked, so a task whose workflow is being
	// started right now is never taken for an orphan. Default 2 minutes.
	MinAge time.Duration `json:"min_age,omitempty"`
	// BatchSize is how many live tasks one activity checks. Default 100.
	BatchSize int `json:"batch_size,omitempty"`
	// MaxBatches bounds one run. Default 100.
	MaxBatches int `json:"max_batches,omitempty"`
}

// ReconcileBatchInput asks the reconcile activity for the live tasks after task id After.
type ReconcileBatchInput struct {
	After  string        `json:"after"`
	Limit  int           `json:"limit"`
	MinAge time.Duration `json:"min_age"`
}

// ReconcileCounts counts what reconciling did.
type ReconcileCounts struct {
	// Checked live records; Consistent ones had a running workflow.
	Checked    int `json:"checked"`
	Consistent int `json:"consistent"`
	// Finished, Failed and Cancelled records were set from their closed workflow's outcome.
	Finished  int `json:"finished"`
	Failed    int `json:"failed"`
	Cancelled int `json:"cancelled"`
	// Orphaned records had no workflow and were failed with code reconciled.
	Orphaned int `json:"orphaned"`
}

// Add adds o to c.
func (c *ReconcileCounts) Add(o ReconcileCounts) {
	c.Checked += o.Checked
	c.Consistent += o.Consistent
	c.Finished += o.Finished
	c.Failed += o.Failed
	c.Cancelled += o.Cancelled
	c.Orphaned += o.Orphaned
}

// ReconcileBatchOutput is what one reconcile batch did; Next is the cursor of the next batch,
// More whether there may be one.
type ReconcileBatchOutput struct {
	ReconcileCounts
	Next string `json:"next"`
	More bool   `json:"more"`
}

// ReconcileResult is what ReconcileWorkflow returns.
type ReconcileResult struct {
	ReconcileCounts
	Batches  int  `json:"batches"`
	Complete bool `json:"complete"`
}

// WarmupTarget is one model to warm: its lane, timeouts and its validated warm-up request.
type WarmupTarget struct {
	Model   string  `json:"model"`
	Type    string  `json:"type"`
	Mode    string  `json:"mode"`
	Runtime Runtime `json:"runtime"`
	Request Request `json:"request"`
}

// WarmupInput starts WarmupWorkflow: the API builds the targets from the catalogue.
type WarmupInput struct {
	Targets []WarmupTarget `json:"targets"`
}

// Warm-up outcomes.
const (
	WarmupWarm   = "warm"
	WarmupFailed = "failed"
)

// WarmupOutcome is how warming one model went.
type WarmupOutcome struct {
	Model       string `json:"model"`
	Lane        string `json:"lane"`
	Status      string `json:"status"`
	ErrorCode   string `json:"error_code,omitempty"`
	Message     string `json:"message,omitempty"`
	RunnerName  string `json:"runner_name,omitempty"`
	ElapsedMsec int64  `json:"elapsed_msec,omitempty"`
}

// WarmupResult is what WarmupWorkflow returns, one outcome per target in the input's order.
type WarmupResult struct {
	Outcomes []WarmupOutcome `json:"outcomes"`
	Warm     int             `json:"warm"`
	Failed   int             `json:"failed"`
}

// DefaultAuditRetention is how long audit rows are kept when AuditRetentionInput.Retention is 0.
const DefaultAuditRetention = 90 * 24 * time.Hour

// AuditRetentionInput starts AuditRetentionWorkflow.
type AuditRetentionInput struct {
	// Retention: rows older than this are deleted. Default 90 days.
	Retention time.Duration `json:"retention,omitempty"`
}

// DeleteAuditInput asks the activity to delete audit rows older than Before.
type DeleteAuditInput struct {
	Before time.Time `json:"before"`
}

// AuditRetentionResult is what AuditRetentionWorkflow returns.
type AuditRetentionResult struct {
	Before  time.Time `json:"before"`
	Deleted int64     `json:"deleted"`
}

// MaintenanceRunTimeout bounds one run of the maintenance called name, so a stuck run ends and
// the next one (or a schedule's) can start.
func MaintenanceRunTimeout(name string) time.Duration {
	switch name {
	case MaintenanceReconcile:
		return 30 * time.Minute
	case MaintenanceWarmup:
		return 30 * time.Minute
	case MaintenanceHealthSweep:
		return 5 * time.Minute
	}
	return time.Hour
}
