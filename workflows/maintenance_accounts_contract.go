package workflows

import "time"

// The account maintenance: rotate-keys re-encrypts every worker-account secret under the newest
// ACCOUNTS_ENCRYPT_KEY key; health-sweep fails accounts whose workers went silent and recovers
// cooled-down ones whose workers heartbeat again. Both run on the control queue, whose worker
// holds the keys: no secret, encrypted or not, ever travels in a payload.
const (
	MaintenanceRotateKeys  = "rotate-keys"
	MaintenanceHealthSweep = "health-sweep"

	RotateKeysWorkflowName  = "RotateKeysWorkflow"
	HealthSweepWorkflowName = "HealthSweepWorkflow"
	// RotateKeysBatchActivity re-encrypts one page of account secrets.
	RotateKeysBatchActivity = "RotateKeysBatch"
	// HealthSweepActivity checks every account's worker liveness once.
	HealthSweepActivity = "HealthSweep"
)

// RotateKeysInput starts RotateKeysWorkflow. Zero fields take their defaults.
type RotateKeysInput struct {
	// BatchSize is how many accounts one activity rotates. Default 100.
	BatchSize int `json:"batch_size,omitempty"`
	// MaxBatches bounds one run. Default 100.
	MaxBatches int `json:"max_batches,omitempty"`
}

// RotateKeysBatchInput asks for the accounts after id After.
type RotateKeysBatchInput struct {
	After string `json:"after"`
	Limit int    `json:"limit"`
}

// RotateKeysCounts counts what a rotation did.
type RotateKeysCounts struct {
	// Rotated secrets were re-encrypted under the newest key, verified and swapped in.
	Rotated int `json:"rotated"`
	// AlreadyNewest secrets were under the newest key already (or a concurrent run moved them).
	AlreadyNewest int `json:"already_newest"`
	// Failed secrets did not decrypt under any configured key (their key was dropped before
	// rotation) or did not verify; they are left as they are.
	Failed int `json:"failed"`
	// FailedAccounts are the ids of the failed accounts (at most 20 per run).
	FailedAccounts []string `json:"failed_accounts,omitempty"`
}

// MaxFailedAccounts bounds RotateKeysCounts.FailedAccounts.
const MaxFailedAccounts = 20

// Add adds o to c.
func (c *RotateKeysCounts) Add(o RotateKeysCounts) {
	c.Rotated += o.Rotated
	c.AlreadyNewest += o.AlreadyNewest
	c.Failed += o.Failed
	for _, id := range o.FailedAccounts {
		if len(c.FailedAccounts) < MaxFailedAccounts {
			c.FailedAccounts = append(c.FailedAccounts, id)
		}
	}
}

// RotateKeysBatchOutput is what one batch did; Next is the cursor of the next one, More whether
// there may be one.
type RotateKeysBatchOutput struct {
	RotateKeysCounts
	Next string `json:"next"`
	More bool   `json:"more"`
}

// RotateKeysResult is what RotateKeysWorkflow returns.
type RotateKeysResult struct {
	RotateKeysCounts
	Batches  int  `json:"batches"`
	Complete bool `json:"complete"`
}

// HealthSweepInput starts HealthSweepWorkflow.
type HealthSweepInput struct {
	// SilentAfter: a ready account whose worker sent no heartbeat for this long is failed.
	// Default: the control worker's GOONI_ACCOUNT_SILENT_AFTER (15s: three missed heartbeats).
	SilentAfter time.Duration `json:"silent_after,omitempty"`
}

// HealthSweepResult is what one sweep did.
type HealthSweepResult struct {
	// Checked accounts (every account).
	Checked int `json:"checked"`
	// Silent accounts were failed (or disabled, at their last allowed failure) for silence.
	Silent []string `json:"silent"`
	// Recovered accounts were failed, cooled down, and heartbeat again: ready again.
	Recovered []string `json:"recovered"`
}
