// Package runner speaks the runner protocol and supervises runner processes.
//
// A runner is a long-lived child process that loads a model's weights once and
// then serves generation requests, one JSON object per line on stdin (worker →
// runner) and stdout (runner → worker); stderr is the runner's log. The wire
// format is written down in runners/PROTOCOL.md. A GPU worker owns one
// Supervisor per model: it starts the process, loads the model, forwards
// requests and progress, and kills the process when it crashes, stalls or
// ignores a cancel.
package runner

import "encoding/json"

// ProtocolVersion is the version of the runner protocol this package speaks.
// A runner announces its version in the ready message; any other version is a
// protocol error.
const ProtocolVersion = 1

// Message types sent by the worker to the runner.
const (
	TypeLoad     = "load"
	TypeGenerate = "generate"
	TypeCancel   = "cancel"
	TypeShutdown = "shutdown"
)

// Message types sent by the runner to the worker.
const (
	TypeReady     = "ready"
	TypeLoaded    = "loaded"
	TypeProgress  = "progress"
	TypeResult    = "result"
	TypeError     = "error"
	TypeCancelled = "cancelled"
)

// Kinds of generation requested by a generate message.
const (
	KindImage = "image"
	KindVideo = "video"
)

// Stages reported in progress messages.
const (
	StageLoadingModel = "loading_model"
	StageInference    = "inference"
	StageEncoding     = "encoding"
)

// Message is one line of the protocol in either direction. Type selects which
// of the other fields are meaningful; the rest are left empty and omitted on
// the wire. The field comments name the message types that carry each field.
type Message struct {
	// Type is one of the Type* constants. Every message has one.
	Type string `json:"type"`

	// Protocol is the protocol version the runner speaks (ready).
	Protocol int `json:"protocol,omitempty"`
	// Runner names the runner implementation, e.g. "cpu" or "diffusers" (ready).
	Runner string `json:"runner,omitempty"`
	// Version is the runner implementation's own version (ready).
	Version string `json:"version,omitempty"`
	// Device is where the runner computes, e.g. "cpu" or "cuda:0" (ready).
	Device string `json:"device,omitempty"`

	// Model is the catalogue id of the model (load, loaded, generate).
	Model string `json:"model,omitempty"`
	// ElapsedMS is how long loading the model took (loaded).
	ElapsedMS int64 `json:"elapsed_ms,omitempty"`

	// ID identifies the request (generate, cancel, progress, result, error,
	// cancelled). An error without an ID is not about any request.
	ID string `json:"id,omitempty"`
	// Kind is KindImage or KindVideo (generate).
	Kind string `json:"kind,omitempty"`
	// Mode is the generation mode, e.g. "txt2img" or "img2img" (generate).
	Mode string `json:"mode,omitempty"`
	// Params are the generation parameters as a JSON object: prompt,
	// negative_prompt, seed, width, height, steps, denoising_strength, …
	// (generate). They are kept raw so that a runner decodes numbers exactly.
	Params json.RawMessage `json:"params,omitempty"`
	// Inputs are files the request reads, e.g. a reference image (generate).
	Inputs []Input `json:"inputs,omitempty"`
	// OutputDir is the absolute directory the runner writes its result into
	// (generate). The worker creates and removes it; the runner writes nowhere
	// else.
	OutputDir string `json:"output_dir,omitempty"`
	// OutputFormat is the requested file format, e.g. "png" or "jpeg"
	// (generate).
	OutputFormat string `json:"output_format,omitempty"`

	// Step is the number of steps done in Stage (progress).
	Step int `json:"step,omitempty"`
	// Total is the number of steps Stage will take (progress).
	Total int `json:"total,omitempty"`
	// Stage is one of the Stage* constants (progress).
	Stage string `json:"stage,omitempty"`

	// Path is the absolute path of the result file inside OutputDir (result).
	Path string `json:"path,omitempty"`
	// MIME is the result's media type, e.g. "image/png" (result).
	MIME string `json:"mime,omitempty"`
	// Width is the result's width in pixels (result).
	Width int `json:"width,omitempty"`
	// Height is the result's height in pixels (result).
	Height int `json:"height,omitempty"`
	// Poster is the absolute path of a PNG or JPEG of a video's first frame
	// inside OutputDir, from which the worker makes the preview (result,
	// optional; image results leave it empty).
	Poster string `json:"poster,omitempty"`

	// Code is a stable error code, one of the Code* constants or a
	// runner-specific one (error).
	Code string `json:"code,omitempty"`
	// Text is a human-readable description of the error (error). It is
	// "message" on the wire.
	Text string `json:"message,omitempty"`
	// Retryable says whether the same request may succeed if tried again
	// (error).
	Retryable bool `json:"retryable,omitempty"`
}

// Input is a file a generate request reads.
type Input struct {
	// Field is the request field the file fills, e.g. "reference_image".
	Field string `json:"field"`
	// Path is the file's absolute path; the worker owns the file.
	Path string `json:"path"`
	// MIME is the file's media type, e.g. "image/png".
	MIME string `json:"mime"`
	// FrameIndex is the video frame the input applies to, or -1 for all.
	FrameIndex int `json:"frame_index"`
	// Strength weighs the input where the mode supports it (0 = default).
	Strength float64 `json:"strength"`
}
