package stack

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/gooni/gooni/activities/control"
	"github.com/gooni/gooni/activities/gpu"
	"github.com/gooni/gooni/internal/artifact"
	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/settings"
	"github.com/gooni/gooni/workers"
)

// StartControlWorker starts the control worker (generation workflows and task-state activities)
// on taskQueue.
func StartControlWorker(c client.Client, taskQueue string, st *store.Store, cfg control.Config) (worker.Worker, error) {
	w := workers.NewControl(c, taskQueue, control.New(st, cfg))
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start control worker: %w", err)
	}
	return w, nil
}

// GPUWorkerConfig configures a GPU worker process or goroutine.
type GPUWorkerConfig struct {
	// Models are the catalogue ids whose dedicated lanes this worker serves. Empty: every model.
	Models []string
	// RunnerName labels the runner implementation (e.g. "cpu").
	RunnerName string
	// RunnerCommand starts a runner process for a model. Required.
	RunnerCommand []string
	// RunnerEnv is added to each runner's environment.
	RunnerEnv []string
	// WorkDir holds per-request scratch directories. Default os.TempDir().
	WorkDir string
	// Logger receives the worker's logs.
	Logger *slog.Logger
}

// GPUWorker is a running GPU worker: one Temporal worker per lane and warm runners per model.
type GPUWorker struct {
	workers []worker.Worker
	runners *gpu.Runners
}

// StartGPUWorker starts a GPU worker serving the lanes of cfg.Models.
func StartGPUWorker(c client.Client, cat *settings.Catalogue, arts artifact.Store, reporter gpu.Reporter, cfg GPUWorkerConfig) (*GPUWorker, error) {
	if len(cfg.RunnerCommand) == 0 {
		return nil, errors.New("gpu worker: no runner command")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.WorkDir == "" {
		cfg.WorkDir = os.TempDir()
	}
	models := cfg.Models
	if len(models) == 0 {
		for _, m := range cat.Models() {
			models = append(models, m.ID)
		}
	}
	specs := make(map[string]gpu.RunnerSpec, len(models))
	lanes := make([]workers.Lane, 0, len(models))
	for _, id := range models {
		m, ok := cat.Model(id)
		if !ok {
			return nil, fmt.Errorf("gpu worker: model %q is not in the catalogue", id)
		}
		specs[m.ID] = gpu.RunnerSpec{
			Name:         cfg.RunnerName,
			Command:      cfg.RunnerCommand,
			Env:          cfg.RunnerEnv,
			StallTimeout: m.Runtime.StallTimeout,
			Concurrency:  m.Runtime.Concurrency,
		}
		lanes = append(lanes, workers.Lane{TaskQueue: m.Runtime.Lane, Concurrency: m.Runtime.Concurrency})
	}
	runners := gpu.NewRunners(specs, cfg.Logger)
	acts := gpu.New(arts, runners, reporter, gpu.Config{
		WorkDir:    cfg.WorkDir,
		SharedLane: cat.SharedLane().TaskQueue,
		Logger:     cfg.Logger,
	})
	ws, err := workers.NewGPU(c, lanes, acts)
	if err != nil {
		runners.Close()
		return nil, err
	}
	g := &GPUWorker{runners: runners}
	for _, w := range ws {
		if err := w.Start(); err != nil {
			g.Stop()
			return nil, fmt.Errorf("start gpu worker: %w", err)
		}
		g.workers = append(g.workers, w)
	}
	return g, nil
}

// Loads returns how many times the worker loaded model's weights.
func (g *GPUWorker) Loads(model string) int { return g.runners.Loads(model) }

// Stop stops taking work, waits for running activities to finish and shuts the runners down.
func (g *GPUWorker) Stop() {
	for _, w := range g.workers {
		w.Stop()
	}
	g.runners.Close()
}
