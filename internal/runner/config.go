package runner

import (
	"log/slog"
	"time"
)

// Config configures a Supervisor: which runner to start for which model, and
// how long to wait before giving up on it. Zero fields take the defaults
// documented on each, applied by New.
type Config struct {
	// Command is the runner's argv, e.g. ["gooni", "runner", "cpu"].
	// Required.
	Command []string
	// Env is added to the worker's own environment for the runner, as
	// "KEY=value" entries (later entries win).
	Env []string
	// Model is the catalogue id the runner loads. Required.
	Model string
	// StallTimeout is how long a request may go without any message from the
	// runner (progress, result, …) before the process is killed and Generate
	// fails with runner_stalled. Default 2m.
	StallTimeout time.Duration
	// CancelGrace is how long to wait for "cancelled" after sending a cancel
	// before the process is killed. Default 2s.
	CancelGrace time.Duration
	// LoadTimeout bounds starting the process and loading the model (ready and
	// loaded messages). Default 10m: real weights can take minutes to load.
	LoadTimeout time.Duration
	// ShutdownGrace is how long Close waits for the runner to exit after the
	// shutdown message before killing it. Default 5s.
	ShutdownGrace time.Duration
	// Logger receives the Supervisor's events and the runner's stderr.
	// Default slog.Default().
	Logger *slog.Logger
}

// Defaults for the Config fields.
const (
	DefaultStallTimeout  = 2 * time.Minute
	DefaultCancelGrace   = 2 * time.Second
	DefaultLoadTimeout   = 10 * time.Minute
	DefaultShutdownGrace = 5 * time.Second
)

// reapTimeout bounds waiting for a killed process to be reaped.
const reapTimeout = 5 * time.Second

// withDefaults returns cfg with zero fields set to their defaults.
func (cfg Config) withDefaults() Config {
	if cfg.StallTimeout <= 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	if cfg.CancelGrace <= 0 {
		cfg.CancelGrace = DefaultCancelGrace
	}
	if cfg.LoadTimeout <= 0 {
		cfg.LoadTimeout = DefaultLoadTimeout
	}
	if cfg.ShutdownGrace <= 0 {
		cfg.ShutdownGrace = DefaultShutdownGrace
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Command = append([]string(nil), cfg.Command...)
	cfg.Env = append([]string(nil), cfg.Env...)
	return cfg
}
