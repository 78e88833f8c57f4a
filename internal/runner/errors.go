package runner

import (
	"errors"
	"fmt"
)

// Error codes the Supervisor emits itself.
const (
	// CodeRunnerCrashed: the process exited (or closed stdout) during a
	// request. Retryable: the next Generate starts a fresh process.
	CodeRunnerCrashed = "runner_crashed"
	// CodeRunnerStalled: no message about the request for StallTimeout, the
	// model not loaded within LoadTimeout, or the runner stopped reading its
	// stdin. The process was killed. Retryable.
	CodeRunnerStalled = "runner_stalled"
	// CodeRunnerProtocolError: the runner wrote something that is not the
	// protocol (bad JSON, an unknown or unexpected message, another protocol
	// version, a result outside the output directory). The process was
	// killed. Not retryable: it is a bug in the runner.
	CodeRunnerProtocolError = "runner_protocol_error"
	// CodeRunnerStartFailed: the process could not be started, or exited or
	// said nothing before its ready message. Retryable: another worker may
	// succeed.
	CodeRunnerStartFailed = "runner_start_failed"
)

// Error codes runners report in error messages; the Supervisor passes them
// through unchanged. Runners may report other codes too.
const (
	// CodeInvalidInput: the request is malformed or out of range.
	CodeInvalidInput = "invalid_input"
	// CodeNotSupportedYet: the runner does not implement this kind or mode.
	CodeNotSupportedYet = "not_supported_yet"
	// CodeGPUMemoryExceeded: the request does not fit in device memory.
	CodeGPUMemoryExceeded = "gpu_memory_exceeded"
	// CodeEncoderUnavailable: the runner cannot encode the requested video
	// format (ffmpeg or its encoder is missing on the host). Not retryable:
	// an operator must install it.
	CodeEncoderUnavailable = "encoder_unavailable"
	// CodeRunnerBusy: a generate or load arrived while another was running.
	CodeRunnerBusy = "runner_busy"
	// CodeInternal: the runner failed for a reason of its own.
	CodeInternal = "internal_error"
)

// ErrClosed is returned by Generate after Close was called.
var ErrClosed = errors.New("runner: supervisor closed")

// Error is a classified failure of a request: reported by the runner or
// detected by the Supervisor. Code is stable and meant for clients and
// retry policies; Message is for operators.
type Error struct {
	// Code is a stable error code (see the Code* constants).
	Code string
	// Message describes the failure for operators.
	Message string
	// Retryable says whether trying the same request again may succeed.
	Retryable bool
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("runner: %s: %s", e.Code, e.Message)
}

// newError builds an *Error with a formatted message.
func newError(code string, retryable bool, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Retryable: retryable}
}
