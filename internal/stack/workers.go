package stack

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/gooni/gooni/activities/control"
	"github.com/gooni/gooni/activities/gpu"
	"github.com/gooni/gooni/activities/maintenance"
	"github.com/gooni/gooni/internal/artifact"
	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/settings"
	"github.com/gooni/gooni/workers"
)

// StartControlWorker starts the control worker (generation workflows and task-state activities,
// and the maintenance workflows) on taskQueue.
func StartControlWorker(c client.Client, taskQueue string, st *store.Store, arts artifact.Store, cfg control.Config) (worker.Worker, error) {
	return StartControlWorkerGraceful(c, taskQueue, st, arts, cfg, 0)
}

// StartControlWorkerGraceful is StartControlWorker whose Stop waits up to stopTimeout for
// running activities.
func StartControlWorkerGraceful(c client.Client, taskQueue string, st *store.Store, arts artifact.Store, cfg control.Config, stopTimeout time.Duration) (worker.Worker, error) {
	return StartControlWorkerWith(c, taskQueue, st, arts, ControlWorkerConfig{Control: cfg, StopTimeout: stopTimeout})
}

// ControlWorkerConfig configures StartControlWorkerWith.
type ControlWorkerConfig struct {
	// Control configures the task-state activities.
	Control control.Config
	// Maintenance configures the maintenance activities; its Retention, Now and Logger default
	// to Control's. Keys (ACCOUNTS_ENCRYPT_KEY) is what rotate-keys needs.
	Maintenance maintenance.Config
	// StopTimeout is how long Stop waits for running activities (0: at once).
	StopTimeout time.Duration
}

// StartControlWorkerWith starts the control worker on taskQueue as cfg says.
func StartControlWorkerWith(c client.Client, taskQueue string, st *store.Store, arts artifact.Store, cfg ControlWorkerConfig) (worker.Worker, error) {
	w := workers.NewControl(c, taskQueue, control.New(st, arts, cfg.Control), cfg.StopTimeout)
	m := cfg.Maintenance
	if m.Retention == 0 {
		m.Retention = cfg.Control.Retention
	}
	if m.Now == nil {
		m.Now = cfg.Control.Now
	}
	if m.Logger == nil {
		m.Logger = cfg.Control.Logger
	}
	workers.RegisterMaintenance(w, maintenance.New(st, arts, c, m))
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("start control worker: %w", err)
	}
	return w, nil
}

// GPUWorkerConfig configures a GPU worker process or goroutine.
type GPUWorkerConfig struct {
	// Models are the catalogue ids whose dedicated lanes this worker serves. Nil: every model;
	// empty and non-nil: none (a shared-lane-only worker).
	Models []string
	// Shared makes the worker also serve the shared degraded lane, holding one model at a time.
	Shared bool
	// Concurrency overrides a model's per-worker concurrency from the catalogue.
	Concurrency map[string]int
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
	// StopTimeout is how long Stop waits for running generations before cancelling them
	// (0: at once). Temporal retries a cancelled attempt on another worker.
	StopTimeout time.Duration
}

// GPUWorker is a running GPU worker: one Temporal worker per lane and warm runners per model.
type GPUWorker struct {
	models  []string
	workers []worker.Worker
	runners *gpu.Runners
	shared  *gpu.Switcher
	acts    *gpu.Activities
}

// BusyTime returns the time the worker spent running generations.
func (g *GPUWorker) BusyTime() time.Duration { return g.acts.BusyTime() }

// StartGPUWorker starts a GPU worker serving the dedicated lanes of cfg.Models and, with
// cfg.Shared, the shared lane.
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
	if models == nil {
		models = cat.IDs()
	}
	allSpecs := make(map[string]gpu.RunnerSpec, len(cat.IDs()))
	for _, m := range cat.Models() {
		conc := m.Runtime.Concurrency
		if n, ok := cfg.Concurrency[m.ID]; ok {
			conc = n
		}
		allSpecs[m.ID] = gpu.RunnerSpec{
			Name:         cfg.RunnerName,
			Command:      cfg.RunnerCommand,
			Env:          cfg.RunnerEnv,
			StallTimeout: m.Runtime.StallTimeout,
			Concurrency:  conc,
		}
	}
	specs := make(map[string]gpu.RunnerSpec, len(models))
	lanes := make([]workers.Lane, 0, len(models)+1)
	for _, id := range models {
		m, ok := cat.Model(id)
		if !ok {
			return nil, fmt.Errorf("gpu worker: model %q is not in the catalogue (known: %v)", id, cat.IDs())
		}
		specs[id] = allSpecs[id]
		lanes = append(lanes, workers.Lane{TaskQueue: m.Runtime.Lane, Concurrency: allSpecs[id].Concurrency, StopTimeout: cfg.StopTimeout})
	}
	g := &GPUWorker{runners: gpu.NewRunners(specs, cfg.Logger), models: models}
	sharedLane := cat.SharedLane().TaskQueue
	if cfg.Shared {
		g.shared = gpu.NewSwitcher(allSpecs, cfg.Logger)
		g.models = cat.IDs()
		lanes = append(lanes, workers.Lane{TaskQueue: sharedLane, Concurrency: 1, StopTimeout: cfg.StopTimeout})
	}
	if len(lanes) == 0 {
		return nil, errors.New("gpu worker: no lanes to serve (name models or enable the shared lane)")
	}
	acts := gpu.New(arts, g.runners, g.shared, reporter, gpu.Config{
		WorkDir:    cfg.WorkDir,
		SharedLane: sharedLane,
		Logger:     cfg.Logger,
	})
	g.acts = acts
	ws, err := workers.NewGPU(c, lanes, acts)
	if err != nil {
		g.Stop()
		return nil, err
	}
	for _, w := range ws {
		if err := w.Start(); err != nil {
			g.Stop()
			return nil, fmt.Errorf("start gpu worker: %w", err)
		}
		g.workers = append(g.workers, w)
	}
	return g, nil
}

// Loads returns how many times the worker loaded model's weights, on any lane.
func (g *GPUWorker) Loads(model string) int {
	n := g.runners.Loads(model)
	if g.shared != nil {
		n += g.shared.Loads(model)
	}
	return n
}

// SharedHeld returns the model the shared lane holds now ("" when none or not served).
func (g *GPUWorker) SharedHeld() string {
	if g.shared == nil {
		return ""
	}
	return g.shared.Held()
}

// Models are the models whose runners this worker may load (its dedicated lanes' models, plus
// every model when it serves the shared lane).
func (g *GPUWorker) Models() []string { return g.models }

// Stop stops taking work, waits for running activities to finish (up to StopTimeout) and shuts
// the runners down. The lanes stop in parallel, so the wait is StopTimeout at most, not per lane.
func (g *GPUWorker) Stop() {
	var wg sync.WaitGroup
	for _, w := range g.workers {
		wg.Go(w.Stop)
	}
	wg.Wait()
	g.runners.Close()
	if g.shared != nil {
		g.shared.Close()
	}
}
