package gpu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/gooni/gooni/internal/failure"
	"github.com/gooni/gooni/internal/runner"
)

// RunnerSpec says how a worker runs one model's runner processes.
type RunnerSpec struct {
	// Name labels the runner implementation (e.g. "cpu"), reported with each result.
	Name string
	// Command starts a runner process (program and arguments).
	Command []string
	// Env is added to the runner's environment.
	Env []string
	// StallTimeout kills a runner that reports no progress for this long.
	StallTimeout time.Duration
	// Concurrency is how many runner processes of the model this worker keeps (default 1).
	Concurrency int
}

// Runners keeps each model's runner processes warm and hands one to each generation, so a
// model's weights load once per process, not once per request.
type Runners struct {
	pools map[string]chan *runner.Supervisor
	all   map[string][]*runner.Supervisor
	names map[string]string
}

// NewRunners prepares runner supervisors for each model in specs. Processes start on first use.
func NewRunners(specs map[string]RunnerSpec, logger *slog.Logger) *Runners {
	if logger == nil {
		logger = slog.Default()
	}
	r := &Runners{
		pools: make(map[string]chan *runner.Supervisor, len(specs)),
		all:   make(map[string][]*runner.Supervisor, len(specs)),
		names: make(map[string]string, len(specs)),
	}
	for model, spec := range specs {
		n := max(spec.Concurrency, 1)
		pool := make(chan *runner.Supervisor, n)
		for i := range n {
			sup := runner.New(runner.Config{
				Command:      spec.Command,
				Env:          spec.Env,
				Model:        model,
				StallTimeout: spec.StallTimeout,
				Logger:       logger.With("model", model, "runner", spec.Name, "slot", i),
			})
			pool <- sup
			r.all[model] = append(r.all[model], sup)
		}
		r.pools[model] = pool
		r.names[model] = spec.Name
	}
	return r
}

// Models lists the models this worker can run, sorted.
func (r *Runners) Models() []string {
	out := make([]string, 0, len(r.pools))
	for m := range r.pools {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

// Generate runs req on a free runner of model, waiting for one while ctx allows. It returns the
// result and the runner's name.
func (r *Runners) Generate(ctx context.Context, model string, req runner.GenerateRequest, onProgress func(runner.Progress)) (*runner.Result, string, error) {
	pool, ok := r.pools[model]
	if !ok {
		return nil, "", &runner.Error{Code: failure.NotSupportedYet, Message: fmt.Sprintf("this worker serves no runner for model %q", model)}
	}
	var sup *runner.Supervisor
	select {
	case sup = <-pool:
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
	defer func() { pool <- sup }()
	res, err := sup.Generate(ctx, req, onProgress)
	return res, r.names[model], err
}

// Loads returns how many times model's weights were loaded by this worker's runners.
func (r *Runners) Loads(model string) int {
	n := 0
	for _, sup := range r.all[model] {
		n += sup.Loads()
	}
	return n
}

// Close shuts every runner process down.
func (r *Runners) Close() error {
	var errs []error
	for _, sups := range r.all {
		for _, sup := range sups {
			errs = append(errs, sup.Close())
		}
	}
	return errors.Join(errs...)
}
