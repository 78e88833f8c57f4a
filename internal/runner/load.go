package runner

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// exitGrace is how long to keep reading stdout after the process exited, for
// the lines it wrote last (a grandchild may hold stdout open forever).
const exitGrace = time.Second

var (
	// errTimeout: the timer given to next fired.
	errTimeout = errors.New("timed out")
	// errGone: the runner closed stdout or exited.
	errGone = errors.New("runner exited")
)

// next returns the runner's next message. It fails with errTimeout when
// timeout fires, errGone when the runner is gone, a protocol *Error for a
// line that is not a message, or the context's cause when ctx ends.
func (p *process) next(ctx context.Context, timeout <-chan time.Time) (Message, error) {
	exited := p.exited
	var grace <-chan time.Time
	for {
		select {
		case ev, ok := <-p.events:
			if !ok {
				return Message{}, errGone
			}
			if ev.err != nil {
				return Message{}, newError(CodeRunnerProtocolError, false, "%v", ev.err)
			}
			return ev.msg, nil
		case <-exited:
			exited = nil
			t := time.NewTimer(exitGrace)
			defer t.Stop()
			grace = t.C
		case <-grace:
			return Message{}, errGone
		case <-timeout:
			return Message{}, errTimeout
		case <-ctx.Done():
			return Message{}, context.Cause(ctx)
		}
	}
}

// ensureLoaded returns the running process with the model loaded, starting a
// new process and loading the model when there is none (or it died while
// idle). A failed or cancelled load kills the process.
func (s *Supervisor) ensureLoaded(ctx context.Context, onProgress func(Progress)) (*process, error) {
	if p := s.current(); p != nil {
		if !p.hasExited() && p.drainStale() {
			return p, nil
		}
		s.discard(p)
		p.logger.Warn("runner exited while idle; starting a new one", "status", p.exitStatus())
	}

	onProgress(Progress{Stage: StageLoadingModel})
	p, err := startProcess(s.cfg)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()

	deadline := time.NewTimer(s.cfg.LoadTimeout)
	defer deadline.Stop()
	if err := s.awaitReady(ctx, p, deadline.C); err != nil {
		s.discard(p)
		return nil, err
	}
	start := time.Now()
	if err := p.send(Message{Type: TypeLoad, Model: s.cfg.Model}); err != nil {
		s.discard(p)
		return nil, newError(CodeRunnerStartFailed, true, "send load: %v", err)
	}
	if err := s.awaitLoaded(ctx, p, deadline.C, onProgress); err != nil {
		s.discard(p)
		return nil, err
	}
	s.loads.Add(1)
	p.logger.Info("runner loaded model", "elapsed", time.Since(start))
	return p, nil
}

// awaitReady waits for the runner's ready message and checks its protocol
// version.
func (s *Supervisor) awaitReady(ctx context.Context, p *process, timeout <-chan time.Time) error {
	m, err := p.next(ctx, timeout)
	switch {
	case errors.Is(err, errTimeout):
		return newError(CodeRunnerStartFailed, true, "no ready message within %s", s.cfg.LoadTimeout)
	case errors.Is(err, errGone):
		p.kill(reapTimeout)
		return newError(CodeRunnerStartFailed, true, "runner exited before ready: %s", p.exitStatus())
	case err != nil:
		return err
	}
	switch m.Type {
	case TypeReady:
		if m.Protocol != ProtocolVersion {
			return newError(CodeRunnerProtocolError, false, "runner speaks protocol %d, want %d", m.Protocol, ProtocolVersion)
		}
		p.logger.Info("runner ready", "runner", m.Runner, "version", m.Version, "device", m.Device)
		return nil
	case TypeError:
		return runnerError(m)
	default:
		return newError(CodeRunnerProtocolError, false, "expected a ready message, got %q", m.Type)
	}
}

// awaitLoaded waits for the loaded message of the configured model,
// forwarding load progress.
func (s *Supervisor) awaitLoaded(ctx context.Context, p *process, timeout <-chan time.Time, onProgress func(Progress)) error {
	for {
		m, err := p.next(ctx, timeout)
		switch {
		case errors.Is(err, errTimeout):
			return newError(CodeRunnerStalled, true, "model %s not loaded within %s", s.cfg.Model, s.cfg.LoadTimeout)
		case errors.Is(err, errGone):
			p.kill(reapTimeout)
			return newError(CodeRunnerCrashed, true, "runner exited while loading %s: %s", s.cfg.Model, p.exitStatus())
		case err != nil:
			return err
		}
		switch m.Type {
		case TypeLoaded:
			if m.Model != s.cfg.Model {
				return newError(CodeRunnerProtocolError, false, "runner loaded %q, want %q", m.Model, s.cfg.Model)
			}
			return nil
		case TypeProgress:
			onProgress(Progress{Step: m.Step, Total: m.Total, Stage: StageLoadingModel})
		case TypeError:
			return runnerError(m)
		default:
			return newError(CodeRunnerProtocolError, false, "expected a loaded message, got %q", m.Type)
		}
	}
}

// runnerError turns an error message into an *Error, passing the runner's
// code through.
func runnerError(m Message) *Error {
	code := m.Code
	if code == "" {
		code = CodeInternal
	}
	text := m.Text
	if text == "" {
		text = fmt.Sprintf("runner reported %s", code)
	}
	return &Error{Code: code, Message: text, Retryable: m.Retryable}
}
