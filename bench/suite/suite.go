// Package suite holds Gooni's end-to-end benchmarks. Each measures the product through its real
// HTTP API on a stack started in-process (benchstack) and, next to it, a baseline measured in
// the same run on the same Temporal server: a bare one-activity workflow. Every number printed
// is measured (or derived from measurements) in the run that prints it.
package suite

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/gooni/gooni/bench/benchstack"
	"github.com/gooni/gooni/bench/stats"
	"github.com/gooni/gooni/settings"
)

// Options sizes the benchmarks. Zero fields take the defaults of Defaults.
type Options struct {
	// Model is the catalogue id benchmarked. Default "pony".
	Model string
	// Warmups and Runs are the sequential runs of the overhead benchmark (each a generation and
	// a bare workflow, interleaved). Defaults 5 and 50.
	Warmups, Runs int
	// StatusPoll is how often a sequential run polls GET /status. Default 5ms.
	StatusPoll time.Duration
	// Concurrent is how many generations (and bare workflows) the throughput benchmark submits
	// at once. Default 200.
	Concurrent int
	// LaneConcurrency is the GPU worker's concurrency for the model during the throughput
	// benchmark (one runner process per slot). Default 8.
	LaneConcurrency int
	// ProgressRuns, ProgressSteps and ProgressStepDelay shape the progress-lag benchmark:
	// runs of ProgressSteps steps paced at ProgressStepDelay. Defaults 3, 30, 100ms.
	ProgressRuns, ProgressSteps int
	ProgressStepDelay           time.Duration
	// ProgressPoll is how often the progress-lag benchmark polls GET /status. Default 10ms.
	ProgressPoll time.Duration
	// ReuseJobs is how many jobs the warm-reuse benchmark queues on one worker. Default 50.
	ReuseJobs int
	// ReuseLoadDelay is the CPU runner's model-load time in the warm-reuse benchmark, so that a
	// reload would show. Default 300ms (the CPU runner's default).
	ReuseLoadDelay time.Duration
}

// Defaults are the default Options.
var Defaults = Options{
	Model:             "pony",
	Warmups:           5,
	Runs:              50,
	StatusPoll:        5 * time.Millisecond,
	Concurrent:        200,
	LaneConcurrency:   8,
	ProgressRuns:      3,
	ProgressSteps:     30,
	ProgressStepDelay: 100 * time.Millisecond,
	ProgressPoll:      10 * time.Millisecond,
	ReuseJobs:         50,
	ReuseLoadDelay:    300 * time.Millisecond,
}

func (o Options) withDefaults() Options {
	d := Defaults
	if o.Model == "" {
		o.Model = d.Model
	}
	if o.Warmups <= 0 {
		o.Warmups = d.Warmups
	}
	if o.Runs <= 0 {
		o.Runs = d.Runs
	}
	if o.StatusPoll <= 0 {
		o.StatusPoll = d.StatusPoll
	}
	if o.Concurrent <= 0 {
		o.Concurrent = d.Concurrent
	}
	if o.LaneConcurrency <= 0 {
		o.LaneConcurrency = d.LaneConcurrency
	}
	if o.ProgressRuns <= 0 {
		o.ProgressRuns = d.ProgressRuns
	}
	if o.ProgressSteps <= 0 {
		o.ProgressSteps = d.ProgressSteps
	}
	if o.ProgressStepDelay <= 0 {
		o.ProgressStepDelay = d.ProgressStepDelay
	}
	if o.ProgressPoll <= 0 {
		o.ProgressPoll = d.ProgressPoll
	}
	if o.ReuseJobs <= 0 {
		o.ReuseJobs = d.ReuseJobs
	}
	if o.ReuseLoadDelay <= 0 {
		o.ReuseLoadDelay = d.ReuseLoadDelay
	}
	return o
}

// Suite runs the benchmarks on one stack.
type Suite struct {
	stack *benchstack.Stack
	rep   stats.Reporter
	opts  Options
	bare  *bare
	// smallest is the smallest request the catalogue allows for the model, through the stack's
	// API; tiny is the smallest the CPU runner takes, through an API on a catalogue variant.
	smallest, tiny target
	// maxSteps is the catalogue's largest step count for the model.
	maxSteps int
}

// target is a kind of request and the API it is sent to.
type target struct {
	// name prefixes the benchmark names ("" for the main target).
	name          string
	api           *benchstack.Client
	width, height int
	steps         int
}

// bench returns the benchmark name of metric for this target within benchmark group.
func (t target) bench(group, metric string) string {
	if t.name == "" {
		return group + "." + metric
	}
	return group + "." + t.name + "." + metric
}

// describe says what the target's requests are.
func (t target) describe(model string) string {
	return fmt.Sprintf("%s %dx%d %d-step", model, t.width, t.height, t.steps)
}

// New prepares the suite: it reads the model's limits from the catalogue, starts the API on the
// tiny-request catalogue variant and the bare workflow's worker.
func New(s *benchstack.Stack, rep stats.Reporter, opts Options) (*Suite, error) {
	opts = opts.withDefaults()
	su := &Suite{stack: s, rep: rep, opts: opts}
	l, err := readLimits(s.Catalogue, opts.Model)
	if err != nil {
		return nil, err
	}
	su.smallest = target{api: s.API, width: l.width, height: l.height, steps: l.minSteps}
	su.maxSteps = l.maxSteps
	tinyCat, err := tinyCatalogue(s.Catalogue)
	if err != nil {
		return nil, err
	}
	tl, err := readLimits(tinyCat, opts.Model)
	if err != nil {
		return nil, fmt.Errorf("catalogue variant: %w", err)
	}
	tinyAPI, err := s.StartAPI(tinyCat)
	if err != nil {
		return nil, err
	}
	su.tiny = target{name: "tiny", api: tinyAPI, width: tl.width, height: tl.height, steps: tl.minSteps}
	b, err := startBare(s.Temporal)
	if err != nil {
		return nil, err
	}
	su.bare = b
	return su, nil
}

// Close stops the bare workflow's worker.
func (su *Suite) Close() { su.bare.stop() }

// Benchmarks are the benchmarks by name, in the order Run runs them.
var Benchmarks = []string{"overhead", "throughput", "progress", "reuse"}

// Run runs the named benchmarks (all when names is empty) in the order of Benchmarks.
func (su *Suite) Run(ctx context.Context, names []string) error {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	run := map[string]func(context.Context) error{
		"overhead":   su.Overhead,
		"throughput": su.Throughput,
		"progress":   su.ProgressLag,
		"reuse":      su.WarmReuse,
	}
	for _, name := range Benchmarks {
		if len(want) > 0 && !want[name] {
			continue
		}
		start := time.Now()
		su.rep.Logf("\n== %s", name)
		if err := run[name](ctx); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		su.rep.Logf("   (%s took %s)", name, time.Since(start).Round(100*time.Millisecond))
	}
	return nil
}

// limits are a model's smallest size and its step range.
type limits struct{ width, height, minSteps, maxSteps int }

// readLimits finds the model's smallest width and height and its step range in the public
// catalogue (the same document GET /models serves).
func readLimits(cat *settings.Catalogue, model string) (limits, error) {
	raw, err := json.Marshal(cat.PublicModels())
	if err != nil {
		return limits{}, err
	}
	var models []struct {
		ID         string           `json:"id"`
		Parameters []map[string]any `json:"parameters"`
	}
	if err := json.Unmarshal(raw, &models); err != nil {
		return limits{}, fmt.Errorf("read catalogue: %w", err)
	}
	for _, m := range models {
		if m.ID != model {
			continue
		}
		bound := func(name, key string) int {
			for _, p := range m.Parameters {
				if p["name"] == name {
					if v, err := strconv.ParseFloat(fmt.Sprint(p[key]), 64); err == nil {
						return int(v)
					}
				}
			}
			return 0
		}
		l := limits{width: bound("width", "min"), height: bound("height", "min"), minSteps: bound("steps", "min"), maxSteps: bound("steps", "max")}
		if l.width <= 0 || l.height <= 0 || l.minSteps <= 0 {
			return l, fmt.Errorf("model %s: the catalogue gives no minimum width, height or steps", model)
		}
		return l, nil
	}
	return limits{}, fmt.Errorf("model %s is not in the catalogue", model)
}

// request is the body of a txt2img generation of the model for target t with steps steps.
func (su *Suite) request(t target, steps int, prompt string) map[string]any {
	return map[string]any{
		"model": su.opts.Model, "mode": "txt2img", "prompt": prompt,
		"width": t.width, "height": t.height, "steps": steps, "seed": 1,
	}
}
