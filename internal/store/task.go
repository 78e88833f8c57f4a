package store

import "time"

// Task statuses. pending and processing are live; the others are terminal
// and final: no method moves a task out of them.
const (
	StatusPending    = "pending"
	StatusProcessing = "processing"
	StatusDone       = "done"
	StatusFailed     = "failed"
	StatusCancelled  = "cancelled"
)

// Stages the store sets itself; workers report others through
// [Store.UpdateProgress].
const (
	StageQueued       = "queued"
	StageLoadingModel = "loading_model"
	StageCompleted    = "completed"
	StageFailed       = "failed"
)

// IsTerminal reports whether status is final (done, failed or cancelled).
func IsTerminal(status string) bool {
	switch status {
	case StatusDone, StatusFailed, StatusCancelled:
		return true
	}
	return false
}

// Task is one generation request and its lifecycle. Optional text columns
// read as "" when NULL, and "" is stored as NULL; Width and Height likewise
// with 0.
type Task struct {
	ID             string // uuid string, chosen by the caller
	WorkflowID     string // Temporal workflow id, unique
	Status         string // one of the Status constants; "" means pending on create
	Progress       float64
	Stage          string // "" means queued on create
	StageDetail    string
	Lane           string // required: the task queue lane
	LaneMode       string
	Model          string
	Type           string
	Mode           string
	Prompt         string
	NegativePrompt string
	Parameters     map[string]any // stored as a JSON object; nil stores {}
	Inputs         []InputRef     // reference images; nil stores []
	Width          int
	Height         int
	Seed           int64
	OutputFormat   string
	ResultKey      string
	ResultMIME     string
	PreviewKey     string
	ErrorCode      string
	ErrorMsg       string
	Attempt        int
	CreatedAt      time.Time
	UpdatedAt      time.Time
	StartedAt      *time.Time
	FinishedAt     *time.Time
	ExpiresAt      *time.Time
	FallbackReason string // why the task left its dedicated lane for the shared one
	LastErrorCode  string // the last failed attempt's code while retries go on
	LastErrorMsg   string
	// ClientID is who submitted the task (see api's client ids); "" stores NULL.
	ClientID string
	// MaxActive, on create only and not stored: when > 0 and ClientID is set, the create is
	// refused with *ActiveLimitError if the client already has this many live tasks.
	MaxActive int
}

// InputRef points at a reference image stored as an artifact before the
// workflow starts.
type InputRef struct {
	Field      string  `json:"field"`       // request field it came from, e.g. "image"
	Key        string  `json:"key"`         // artifact key
	MIME       string  `json:"mime"`        // media type, e.g. "image/png"
	FrameIndex int     `json:"frame_index"` // target frame for video conditioning
	Strength   float64 `json:"strength"`    // conditioning strength
}

// FinishFields is what a successful run records. Zero LaneMode, Width and
// Height keep the stored values; a zero ExpiresAt means never.
type FinishFields struct {
	ResultKey  string // required
	ResultMIME string
	PreviewKey string
	LaneMode   string
	Width      int
	Height     int
	ExpiresAt  time.Time
	// Attempt and StartedAt restate what the successful attempt's start report recorded, so the
	// record is right even when that report was lost (the database was away at the time).
	Attempt   int
	StartedAt time.Time
}
