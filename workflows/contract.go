// Package workflows holds Gooni's deterministic orchestration: one GenerationWorkflow per task.
//
// This file is the contract shared by the workflow, its activities, the workers that host them
// and the API that starts them: task queue, workflow and activity names and their inputs and
// outputs. Declare a Temporal name here once and import it; never repeat it as a string literal.
// Payloads carry ids, parameters and artifact keys, never media.
package workflows

import "time"

// ControlTaskQueue is the default task queue of the control worker: it hosts GenerationWorkflow
// and the CPU-side activities that record task state in PostgreSQL (they run on the workflow's
// own queue, so deployments and tests may choose another one).
const ControlTaskQueue = "gooni-control"

// Workflow and activity type names.
const (
	// GenerationWorkflowName is the registered name of GenerationWorkflow.
	GenerationWorkflowName = "GenerationWorkflow"
	// RunGenerationActivity runs the model on a GPU worker serving the model's lane.
	RunGenerationActivity = "RunGeneration"
	// FinishTaskActivity records a successful result (control queue).
	FinishTaskActivity = "FinishTask"
	// FailTaskActivity records a failure with its stable code (control queue).
	FailTaskActivity = "FailTask"
	// CancelTaskActivity records a cancellation and removes what the run stored (control queue).
	CancelTaskActivity = "CancelTask"
	// AdmitSharedActivity admits a task to the shared lane when its depth allows (control queue).
	AdmitSharedActivity = "AdmitShared"

	// Maintenance workflows (control queue), started on demand by POST /admin/maintenance/{name}
	// and some on Temporal Schedules; see maintenance.go.
	ArtifactCleanupWorkflowName = "ArtifactCleanupWorkflow"
	ReconcileWorkflowName       = "ReconcileWorkflow"
	WarmupWorkflowName          = "WarmupWorkflow"
	AuditRetentionWorkflowName  = "AuditRetentionWorkflow"
	// CleanupArtifactsBatchActivity removes the files of one batch of expired tasks.
	CleanupArtifactsBatchActivity = "CleanupArtifactsBatch"
	// ReconcileBatchActivity compares one batch of live task records with their workflows.
	ReconcileBatchActivity = "ReconcileBatch"
	// DeleteAuditActivity deletes audit rows older than a cutoff.
	DeleteAuditActivity = "DeleteAudit"
)

// Search attribute names registered on the namespace so operators can filter runs in the Web UI.
const (
	SearchAttrModel = "GooniModel"
	SearchAttrType  = "GooniType"
	SearchAttrLane  = "GooniLane"
)

// WorkflowIDPrefix prefixes the task id to form the workflow id ("generation-<task id>"), so a
// task is findable in the Web UI by its id and a duplicate submission cannot start a second run.
const WorkflowIDPrefix = "generation-"

// WorkflowID returns the workflow id of the generation for taskID.
func WorkflowID(taskID string) string { return WorkflowIDPrefix + taskID }

// RetryPolicy is a model's retry policy for its GPU activity, copied from the settings at
// submission so a run keeps the rules it started with.
type RetryPolicy struct {
	MaxAttempts        int32         `json:"max_attempts"`
	InitialInterval    time.Duration `json:"initial_interval"`
	BackoffCoefficient float64       `json:"backoff_coefficient"`
	MaxInterval        time.Duration `json:"max_interval"`
	// NonRetryableCodes are error codes (ApplicationError types) never retried.
	NonRetryableCodes []string `json:"non_retryable_codes"`
}

// Runtime is the part of a model's runtime declaration the workflow needs.
type Runtime struct {
	Lane            string        `json:"lane"`
	ScheduleToStart time.Duration `json:"schedule_to_start"`
	StartToClose    time.Duration `json:"start_to_close"`
	Heartbeat       time.Duration `json:"heartbeat"`
	Retry           RetryPolicy   `json:"retry"`
}

// InputRef points at a reference image stored as an artifact before the workflow started.
type InputRef struct {
	Field      string  `json:"field"`
	Key        string  `json:"key"`
	MIME       string  `json:"mime"`
	FrameIndex int     `json:"frame_index"`
	Strength   float64 `json:"strength"`
}

// Request is a validated generation request: the prompt, the effective parameters (defaults and
// fixed values applied), the resolved seed and the keys of stored reference images.
type Request struct {
	Prompt         string         `json:"prompt"`
	NegativePrompt string         `json:"negative_prompt"`
	Width          int            `json:"width"`
	Height         int            `json:"height"`
	Seed           int64          `json:"seed"`
	OutputFormat   string         `json:"output_format"`
	Params         map[string]any `json:"params"`
	Inputs         []InputRef     `json:"inputs"`
}

// SharedLane is the shared degraded lane a task falls back to when no dedicated worker starts it
// in time. An empty TaskQueue disables the fallback.
type SharedLane struct {
	TaskQueue string        `json:"task_queue"`
	MaxDepth  int           `json:"max_depth"`
	MaxWait   time.Duration `json:"max_wait"`
}

// GenerationInput starts a GenerationWorkflow. Everything in it is small: references to stored
// inputs are artifact keys.
type GenerationInput struct {
	TaskID  string     `json:"task_id"`
	Model   string     `json:"model"`
	Type    string     `json:"type"`
	Mode    string     `json:"mode"`
	Runtime Runtime    `json:"runtime"`
	Shared  SharedLane `json:"shared"`
	Request Request    `json:"request"`
}

// GenerationResult is what GenerationWorkflow returns.
type GenerationResult struct {
	TaskID     string `json:"task_id"`
	Status     string `json:"status"`
	ResultKey  string `json:"result_key,omitempty"`
	PreviewKey string `json:"preview_key,omitempty"`
	ErrorCode  string `json:"error_code,omitempty"`
}

// RunGenerationInput is the input of the GPU activity: everything the worker needs, so a GPU
// worker on another host needs no database.
type RunGenerationInput struct {
	TaskID  string  `json:"task_id"`
	Model   string  `json:"model"`
	Type    string  `json:"type"`
	Mode    string  `json:"mode"`
	Lane    string  `json:"lane"`
	Request Request `json:"request"`
	// Warmup marks a warm-up run (WarmupWorkflow): TaskID is synthetic, nothing is reported to
	// the tasks table and no result is stored; the runner just loads the model and runs once.
	Warmup bool `json:"warmup,omitempty"`
}

// RunGenerationOutput is what the GPU activity produced: artifact keys and facts about them.
type RunGenerationOutput struct {
	ResultKey   string `json:"result_key"`
	ResultMIME  string `json:"result_mime"`
	PreviewKey  string `json:"preview_key"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	LaneMode    string `json:"lane_mode"`
	RunnerName  string `json:"runner_name"`
	ElapsedMsec int64  `json:"elapsed_msec"`
	// Attempt and StartedAt are the successful attempt's number and start time.
	Attempt   int32     `json:"attempt,omitempty"`
	StartedAt time.Time `json:"started_at,omitzero"`
}

// FinishTaskInput records a successful generation.
type FinishTaskInput struct {
	TaskID string              `json:"task_id"`
	Output RunGenerationOutput `json:"output"`
}

// FailTaskInput records a failed generation.
type FailTaskInput struct {
	TaskID  string `json:"task_id"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// CancelTaskInput records a cancelled generation. ResultKey and PreviewKey are set when the GPU
// activity had already stored them; they are removed.
type CancelTaskInput struct {
	TaskID     string `json:"task_id"`
	ResultKey  string `json:"result_key,omitempty"`
	PreviewKey string `json:"preview_key,omitempty"`
}

// CancelTaskOutput says whether the task ended cancelled, or had already ended as Status.
type CancelTaskOutput struct {
	Cancelled bool   `json:"cancelled"`
	Status    string `json:"status"`
}

// AdmitSharedInput asks to move a task to the shared lane.
type AdmitSharedInput struct {
	TaskID   string `json:"task_id"`
	Lane     string `json:"lane"`
	Reason   string `json:"reason"`
	MaxDepth int    `json:"max_depth"`
}

// AdmitSharedOutput says whether the task was admitted and how many tasks were waiting.
type AdmitSharedOutput struct {
	Admitted bool `json:"admitted"`
	Depth    int  `json:"depth"`
}

// Progress is the heartbeat detail of the GPU activity: real model progress, visible to
// operators in the Web UI and recorded for the status API.
type Progress struct {
	Progress float64 `json:"progress"`
	Stage    string  `json:"stage"`
	Step     int     `json:"step"`
	Total    int     `json:"total"`
}
