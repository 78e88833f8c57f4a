package benchstack

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gooni/gooni/bench/runnertrace"
	"github.com/gooni/gooni/internal/stack"
	"github.com/gooni/gooni/runners/cpu"
	"github.com/gooni/gooni/workers"
)

// GPUOptions configures one GPU worker of the benchmark.
type GPUOptions struct {
	// Model is the catalogue id whose dedicated lane the worker serves.
	Model string
	// Concurrency is how many generations of the model the worker runs at once (one runner
	// process each). 0: the catalogue's value.
	Concurrency int
	// StepDelay and LoadDelay pace the CPU runner (0: no pacing).
	StepDelay, LoadDelay time.Duration
}

// GPU is a running GPU worker whose runners write a trace.
type GPU struct {
	*stack.GPUWorker
	// TraceDir holds the runners' trace files.
	TraceDir string
	stopped  atomic.Bool
}

var gpuSeq atomic.Int64

// StartGPUWorker starts a GPU worker serving opts.Model's lane. Only one worker should serve a
// lane at a time: stop the previous one first.
func (s *Stack) StartGPUWorker(opts GPUOptions) (*GPU, error) {
	n := gpuSeq.Add(1)
	traceDir := filepath.Join(s.dir, fmt.Sprintf("trace-%d", n))
	workDir := filepath.Join(s.dir, fmt.Sprintf("work-%d", n))
	for _, d := range []string{traceDir, workDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	env := append(runnertrace.Env(traceDir),
		cpu.EnvStepDelay+"="+strconv.FormatInt(opts.StepDelay.Milliseconds(), 10),
		cpu.EnvLoadDelay+"="+strconv.FormatInt(opts.LoadDelay.Milliseconds(), 10))
	cfg := stack.GPUWorkerConfig{
		Models:        []string{opts.Model},
		RunnerName:    "cpu",
		RunnerCommand: s.cfg.RunnerCommand,
		RunnerEnv:     env,
		WorkDir:       workDir,
		Logger:        s.cfg.Logger.With("component", "gpu-worker", "bench_worker", n),
	}
	if opts.Concurrency > 0 {
		cfg.Concurrency = map[string]int{opts.Model: opts.Concurrency}
	}
	g, err := stack.StartGPUWorker(s.Temporal, s.Catalogue, s.Artifacts, workers.StoreReporter{Store: s.Store}, cfg)
	if err != nil {
		return nil, err
	}
	gw := &GPU{GPUWorker: g, TraceDir: traceDir}
	s.stops = append(s.stops, gw.Stop)
	return gw, nil
}

// Stop stops the worker and its runners (once).
func (g *GPU) Stop() {
	if g.stopped.CompareAndSwap(false, true) {
		g.GPUWorker.Stop()
	}
}

// Jobs returns the requests the worker's runners traced so far, by task id.
func (g *GPU) Jobs() (map[string]*runnertrace.Job, error) {
	events, err := runnertrace.Read(g.TraceDir)
	if err != nil {
		return nil, err
	}
	return runnertrace.Jobs(events), nil
}
