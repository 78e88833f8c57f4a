package gpu

import (
	"context"
	"log/slog"
	"sync"

	"github.com/gooni/gooni/internal/failure"
	"github.com/gooni/gooni/internal/runner"
)

// Switcher is the runner of a shared degraded lane: it holds one model at a time and shuts that
// model's runner down (freeing its GPU memory) before it starts another model's, so models that
// would not fit together never share the GPU.
type Switcher struct {
	specs  map[string]RunnerSpec
	logger *slog.Logger
	slot   chan struct{} // one generation at a time

	mu       sync.Mutex
	model    string
	current  *runner.Supervisor
	loads    map[string]int // loads of runners already shut down
	switches int
}

// NewSwitcher returns a Switcher that can run any model in specs.
func NewSwitcher(specs map[string]RunnerSpec, logger *slog.Logger) *Switcher {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Switcher{specs: specs, logger: logger, slot: make(chan struct{}, 1), loads: map[string]int{}}
	s.slot <- struct{}{}
	return s
}

// Generate runs req on model, unloading the model held before when it is another one.
func (s *Switcher) Generate(ctx context.Context, model string, req runner.GenerateRequest, onProgress func(runner.Progress)) (*runner.Result, string, error) {
	spec, ok := s.specs[model]
	if !ok {
		return nil, "", &runner.Error{Code: failure.NotSupportedYet, Message: "the shared lane of this worker serves no runner for this model"}
	}
	select {
	case <-s.slot:
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
	defer func() { s.slot <- struct{}{} }()
	sup := s.switchTo(model, spec)
	res, err := sup.Generate(ctx, req, onProgress)
	return res, spec.Name, err
}

// switchTo returns the runner for model, shutting down the one of another model first.
func (s *Switcher) switchTo(model string, spec RunnerSpec) *runner.Supervisor {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current != nil && s.model == model {
		return s.current
	}
	if s.current != nil {
		s.logger.Info("shared lane switching model", "from", s.model, "to", model)
		s.loads[s.model] += s.current.Loads()
		if err := s.current.Close(); err != nil {
			s.logger.Warn("unload runner", "model", s.model, "err", err)
		}
		s.switches++
	}
	s.model = model
	s.current = runner.New(runner.Config{
		Command:      spec.Command,
		Env:          spec.Env,
		Model:        model,
		StallTimeout: spec.StallTimeout,
		Logger:       s.logger.With("model", model, "runner", spec.Name, "lane", "shared"),
	})
	return s.current
}

// Loads returns how many times model was loaded on the shared lane.
func (s *Switcher) Loads(model string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.loads[model]
	if s.current != nil && s.model == model {
		n += s.current.Loads()
	}
	return n
}

// Held returns the model whose runner the shared lane holds now ("" when none).
func (s *Switcher) Held() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.model
}

// Close shuts the held runner down.
func (s *Switcher) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == nil {
		return nil
	}
	s.loads[s.model] += s.current.Loads()
	err := s.current.Close()
	s.current, s.model = nil, ""
	return err
}
