package cpu

import (
	"context"
	"time"

	"github.com/gooni/gooni/internal/runner"
)

// load "loads" a model: it waits LoadDelay the first time a model is asked
// for, as real weights would take to load, and answers loaded. Every model id
// is known to the CPU runner.
func (s *server) load(ctx context.Context, model string) runner.Message {
	if model == "" {
		e := invalid("load: model is empty")
		return runner.Message{Type: runner.TypeError, Code: e.Code, Text: e.Message}
	}
	start := time.Now()
	if !s.isLoaded(model) {
		if !pause(ctx, s.cfg.LoadDelay) {
			return runner.Message{}
		}
		s.mu.Lock()
		s.loaded[model] = true
		s.mu.Unlock()
		s.log.Info("model loaded", "model", model)
	}
	return runner.Message{Type: runner.TypeLoaded, Model: model, ElapsedMS: time.Since(start).Milliseconds()}
}

func (s *server) isLoaded(model string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loaded[model]
}

// pause waits d, or until ctx ends; it reports whether the wait completed.
func pause(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
