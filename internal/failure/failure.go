// Package failure names the stable error codes a generation can fail with and the advice a
// person gets for each. The codes are part of the public contract (status error codes,
// ApplicationError types between GPU workers and the workflow); messages are for people.
package failure

// Stable failure codes of a generation.
const (
	// InvalidInput: the runner refused the request; retrying cannot help.
	InvalidInput = "invalid_input"
	// GPUMemoryExceeded: the model ran out of GPU memory.
	GPUMemoryExceeded = "gpu_memory_exceeded"
	// NotSupportedYet: the runner serving the model cannot do this kind of generation yet.
	NotSupportedYet = "not_supported_yet"
	// RunnerCrashed: the runner process died during the request (retried).
	RunnerCrashed = "runner_crashed"
	// RunnerStalled: the runner reported no progress within the model's stall limit (retried).
	RunnerStalled = "runner_stalled"
	// RunnerStartFailed: the runner process could not be started.
	RunnerStartFailed = "runner_start_failed"
	// RunnerProtocolError: the runner spoke something other than the runner protocol.
	RunnerProtocolError = "runner_protocol_error"
	// WorkerStartTimeout: no GPU worker picked the task up within the model's limit.
	WorkerStartTimeout = "worker_start_timeout"
	// GenerationTimeout: the generation ran longer than the model's start-to-close limit.
	GenerationTimeout = "generation_timeout"
	// WorkerLost: the GPU worker stopped heartbeating (crashed or lost its network).
	WorkerLost = "worker_lost"
	// QueueOverloaded: no dedicated worker was free and the shared lane was full.
	QueueOverloaded = "queue_overloaded"
	// EncoderUnavailable: the GPU worker cannot encode videos (ffmpeg or its encoder is missing).
	EncoderUnavailable = "encoder_unavailable"
	// InputMissing: a stored reference image could not be read.
	InputMissing = "input_missing"
	// StorageFailed: the result could not be stored.
	StorageFailed = "storage_failed"
	// Reconciled: the task's record and its workflow disagreed and the reconcile maintenance
	// workflow settled it (for example the workflow no longer exists).
	Reconciled = "reconciled"
	// Internal: anything else; details stay in the logs.
	Internal = "internal_error"
)

// advice holds the message shown for a code when the failure itself carries none we may show.
var advice = map[string]string{
	InvalidInput:        "The model refused these parameters. Check the request against GET /models and try again.",
	GPUMemoryExceeded:   "The GPU ran out of memory. Reduce the resolution, the number of frames or the steps and try again.",
	NotSupportedYet:     "This model or mode cannot be run by the workers serving it yet.",
	RunnerCrashed:       "The model process crashed repeatedly. Try again; if it keeps failing, reduce the resolution or steps.",
	RunnerStalled:       "The model stopped making progress and was restarted too often. Try again later.",
	RunnerStartFailed:   "The model process could not be started on the GPU worker. An operator must check the worker.",
	RunnerProtocolError: "The model process answered something unexpected. An operator must check the worker.",
	WorkerStartTimeout:  "No GPU worker for this model picked the task up in time. Try again later, or ask an operator to start a worker for this model.",
	GenerationTimeout:   "The generation took longer than this model allows. Reduce the resolution, frames or steps and try again.",
	WorkerLost:          "The GPU worker running this task stopped responding and retries were exhausted. Try again.",
	QueueOverloaded:     "All GPU workers for this model are busy and the shared queue is full. Try again in a few minutes.",
	EncoderUnavailable:  "Video encoding is not available on the GPU worker: an operator must install ffmpeg.",
	InputMissing:        "A reference image of this task could not be read. Upload it again.",
	StorageFailed:       "The result could not be stored. Try again later.",
	Reconciled:          "The task's run was lost (its workflow ended or disappeared without recording an outcome). Submit it again.",
	Internal:            "The generation failed because of an internal error. Try again; if it persists, contact an operator.",
}

// Advice returns the actionable message for code, falling back to the internal-error advice.
func Advice(code string) string {
	if a, ok := advice[code]; ok {
		return a
	}
	return advice[Internal]
}

// Known reports whether code is one of the stable codes above.
func Known(code string) bool {
	_, ok := advice[code]
	return ok
}
