// Package cpu is Gooni's CPU runner: a runner process (see runners/PROTOCOL.md)
// that needs no GPU. It renders deterministic procedural images and videos
// from the request, step by step with real per-step work and progress, so that
// dev mode and the tests exercise the whole pipeline on any machine. Videos are
// encoded by an ffmpeg child process. It is not a diffusion model, and
// whatever shows a model served by it says so.
package cpu

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Environment variables read by ConfigFromEnv.
const (
	EnvStepDelay = "GOONI_CPU_RUNNER_STEP_DELAY"
	EnvLoadDelay = "GOONI_CPU_RUNNER_LOAD_DELAY"
	EnvFFmpeg    = "GOONI_FFMPEG"
)

// Defaults used by ConfigFromEnv when the environment does not say.
const (
	// DefaultStepDelay makes a 25-step image take about 3 s, like a fast GPU.
	DefaultStepDelay = 120 * time.Millisecond
	// DefaultLoadDelay stands for loading weights.
	DefaultLoadDelay = 300 * time.Millisecond
	// DefaultFFmpeg is the video encoder, looked up on PATH.
	DefaultFFmpeg = "ffmpeg"
)

// Config paces the CPU runner and names its video encoder. Main uses the
// values as given (zero delays mean no pacing, an empty FFmpeg means
// DefaultFFmpeg); ConfigFromEnv supplies the defaults.
type Config struct {
	// StepDelay is the least time one inference step takes; rendering the
	// step counts towards it. Env GOONI_CPU_RUNNER_STEP_DELAY, default 120ms.
	StepDelay time.Duration
	// LoadDelay is how long loading a model takes. Env
	// GOONI_CPU_RUNNER_LOAD_DELAY, default 300ms.
	LoadDelay time.Duration
	// FFmpeg is the ffmpeg executable that encodes videos: a path, or a name
	// looked up on PATH when a video request arrives (so installing ffmpeg
	// needs no restart). Env GOONI_FFMPEG, default "ffmpeg".
	FFmpeg string
}

// ConfigFromEnv reads Config from the environment, with defaults for unset
// variables. A value is a Go duration ("120ms", "0") or a whole number of
// milliseconds ("120").
func ConfigFromEnv() (Config, error) {
	step, err := durationFromEnv(EnvStepDelay, DefaultStepDelay)
	if err != nil {
		return Config{}, err
	}
	load, err := durationFromEnv(EnvLoadDelay, DefaultLoadDelay)
	if err != nil {
		return Config{}, err
	}
	ffmpeg := strings.TrimSpace(os.Getenv(EnvFFmpeg))
	if ffmpeg == "" {
		ffmpeg = DefaultFFmpeg
	}
	return Config{StepDelay: step, LoadDelay: load, FFmpeg: ffmpeg}, nil
}

func durationFromEnv(name string, def time.Duration) (time.Duration, error) {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return def, nil
	}
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		v = strconv.FormatInt(ms, 10) + "ms"
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s=%q: want a duration such as 120ms, or 0 for none", name, os.Getenv(name))
	}
	return d, nil
}
