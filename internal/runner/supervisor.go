package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Supervisor owns the runner process of one model on one worker. It starts
// the process on the first Generate, loads the model once, serves requests
// one at a time, and replaces the process after a crash, a stall, a protocol
// error or an ignored cancel. It is safe for concurrent use; concurrent
// Generate calls wait for each other.
type Supervisor struct {
	cfg Config

	// sem is held by the Generate or Close that talks to the process.
	sem chan struct{}
	// closing is cancelled by Close; it interrupts a running Generate.
	closing   context.Context
	closeFn   context.CancelFunc
	closeOnce sync.Once
	closeErr  error

	loads atomic.Int64

	// mu guards proc, so that Close can kill a process a stuck Generate holds.
	mu   sync.Mutex
	proc *process
}

// New returns a Supervisor for cfg. It starts nothing: the process starts on
// the first Generate. Zero Config fields take their documented defaults.
func New(cfg Config) *Supervisor {
	closing, closeFn := context.WithCancel(context.Background())
	return &Supervisor{
		cfg:     cfg.withDefaults(),
		sem:     make(chan struct{}, 1),
		closing: closing,
		closeFn: closeFn,
	}
}

// Loads returns how many times the model has been loaded: once per process
// start. A warm runner serves many requests with one load.
func (s *Supervisor) Loads() int {
	return int(s.loads.Load())
}

// Generate runs one request and returns its result. It starts the runner and
// loads the model first when no process is running, reporting the
// loading_model stage to onProgress. onProgress (may be nil) is called from
// Generate's goroutine for every progress message of the request.
//
// Failures are *Error values with a stable Code, except cancellation: when
// ctx ends Generate sends a cancel, waits up to CancelGrace for the runner to
// acknowledge it (killing the process otherwise) and returns ctx.Err(). After
// Close it returns ErrClosed.
func (s *Supervisor) Generate(ctx context.Context, req GenerateRequest, onProgress func(Progress)) (*Result, error) {
	if onProgress == nil {
		onProgress = func(Progress) {}
	}
	msg, err := req.message(s.cfg.Model)
	if err != nil {
		return nil, err
	}
	if s.closing.Err() != nil {
		return nil, ErrClosed
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.closing.Done():
		return nil, ErrClosed
	}
	defer func() { <-s.sem }()
	if s.closing.Err() != nil {
		return nil, ErrClosed
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(s.closing, func() { cancel(ErrClosed) })
	defer stop()

	p, err := s.ensureLoaded(ctx, onProgress)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctxErr(ctx)
		}
		return nil, err
	}
	return s.run(ctx, p, msg, onProgress)
}

// run sends one generate message to a loaded runner and follows it to its
// end.
func (s *Supervisor) run(ctx context.Context, p *process, msg Message, onProgress func(Progress)) (*Result, error) {
	logger := p.logger.With("request_id", msg.ID)
	start := time.Now()
	logger.Info("runner request started", "kind", msg.Kind, "mode", msg.Mode)
	if err := p.send(msg); err != nil {
		return nil, s.sendFailed(p, err)
	}

	stall := time.NewTimer(s.cfg.StallTimeout)
	defer stall.Stop()
	for {
		m, err := p.next(ctx, stall.C)
		switch {
		case errors.Is(err, errTimeout):
			logger.Warn("runner stalled; killing it", "stall_timeout", s.cfg.StallTimeout)
			s.discard(p)
			return nil, newError(CodeRunnerStalled, true, "no progress for %s", s.cfg.StallTimeout)
		case errors.Is(err, errGone):
			s.discard(p)
			logger.Warn("runner crashed", "status", p.exitStatus())
			return nil, newError(CodeRunnerCrashed, true, "runner exited during the request: %s", p.exitStatus())
		case ctx.Err() != nil:
			return nil, s.cancel(ctx, p, msg.ID)
		case err != nil:
			return nil, s.protocolError(p, err)
		}

		if m.ID != msg.ID {
			if m.Type == TypeProgress || m.Type == TypeResult || m.Type == TypeError || m.Type == TypeCancelled {
				logger.Debug("ignoring runner message for another request", "type", m.Type, "other_id", m.ID)
				continue
			}
			return nil, s.protocolError(p, fmt.Errorf("unexpected %q message during a request", m.Type))
		}
		switch m.Type {
		case TypeProgress:
			stall.Reset(s.cfg.StallTimeout)
			stage := m.Stage
			if stage == "" {
				stage = StageInference
			}
			onProgress(Progress{Step: m.Step, Total: m.Total, Stage: stage})
		case TypeResult:
			res, err := resultOf(m, msg.OutputDir)
			if err != nil {
				return nil, s.protocolError(p, err)
			}
			logger.Info("runner request done", "elapsed", time.Since(start))
			return res, nil
		case TypeError:
			e := runnerError(m)
			logger.Info("runner request failed", "code", e.Code, "retryable", e.Retryable)
			return nil, e
		default:
			return nil, s.protocolError(p, fmt.Errorf("unexpected %q message for request %s", m.Type, msg.ID))
		}
	}
}

// cancel tells the runner to stop request id because ctx ended, and kills the
// process if it does not acknowledge within CancelGrace. It returns the error
// Generate reports for the cancellation.
func (s *Supervisor) cancel(ctx context.Context, p *process, id string) error {
	ret := ctxErr(ctx)
	logger := p.logger.With("request_id", id)
	if err := p.send(Message{Type: TypeCancel, ID: id}); err != nil {
		logger.Warn("cancel not delivered; killing runner", "error", err)
		s.discard(p)
		return ret
	}
	grace := time.NewTimer(s.cfg.CancelGrace)
	defer grace.Stop()
	for {
		m, err := p.next(context.Background(), grace.C)
		switch {
		case errors.Is(err, errTimeout):
			logger.Warn("runner ignored cancel; killing it", "cancel_grace", s.cfg.CancelGrace)
			s.discard(p)
			return ret
		case err != nil:
			logger.Warn("runner failed while cancelling; killing it", "error", err)
			s.discard(p)
			return ret
		}
		if m.ID != id {
			continue
		}
		switch m.Type {
		case TypeCancelled, TypeResult, TypeError:
			// The request is over either way; a late result is dropped and the
			// worker removes the output directory.
			logger.Info("runner request cancelled", "ack", m.Type)
			return ret
		}
	}
}

// sendFailed classifies a failed write to a runner that was expected to be
// alive, and discards the process.
func (s *Supervisor) sendFailed(p *process, err error) error {
	s.discard(p)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return newError(CodeRunnerStalled, true, "runner stopped reading its input: %v", err)
	}
	return newError(CodeRunnerCrashed, true, "runner is gone (%s): %v", p.exitStatus(), err)
}

// protocolError kills a runner that broke the protocol.
func (s *Supervisor) protocolError(p *process, err error) error {
	var e *Error
	if !errors.As(err, &e) {
		e = newError(CodeRunnerProtocolError, false, "%v", err)
	}
	p.logger.Error("runner broke the protocol; killing it", "error", e.Message)
	s.discard(p)
	return e
}

// discard kills p and forgets it, so that the next Generate starts afresh.
func (s *Supervisor) discard(p *process) {
	p.kill(reapTimeout)
	s.mu.Lock()
	if s.proc == p {
		s.proc = nil
	}
	s.mu.Unlock()
}

// current returns the running process, if any.
func (s *Supervisor) current() *process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc
}

// Close shuts the runner down: it interrupts a running Generate (as a
// cancel), sends shutdown, waits up to ShutdownGrace for the process to exit
// and kills it otherwise. It returns an error when the runner had to be
// killed. Later calls return the first call's result.
func (s *Supervisor) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.shutdown() })
	return s.closeErr
}

func (s *Supervisor) shutdown() error {
	s.closeFn()
	// A Generate gives the semaphore back within CancelGrace plus a reap; wait
	// a little longer than that before killing under its feet.
	t := time.NewTimer(s.cfg.CancelGrace + 2*reapTimeout)
	defer t.Stop()
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-t.C:
		if p := s.current(); p != nil {
			s.discard(p)
		}
		return errors.New("runner: a request did not stop in time; runner killed")
	}

	p := s.current()
	if p == nil {
		return nil
	}
	if p.hasExited() {
		s.discard(p)
		return nil
	}
	if err := p.send(Message{Type: TypeShutdown}); err == nil {
		_ = p.stdin.Close()
		wait := time.NewTimer(s.cfg.ShutdownGrace)
		defer wait.Stop()
		select {
		case <-p.exited:
			s.discard(p)
			p.logger.Info("runner shut down", "status", p.exitStatus())
			return nil
		case <-wait.C:
		}
	}
	s.discard(p)
	p.logger.Warn("runner did not shut down in time; killed it", "shutdown_grace", s.cfg.ShutdownGrace)
	return fmt.Errorf("runner: %s did not exit within %s after shutdown; killed", s.cfg.Model, s.cfg.ShutdownGrace)
}

// ctxErr is the error Generate returns when ctx ended: ErrClosed when Close
// interrupted it, the caller's context error otherwise.
func ctxErr(ctx context.Context) error {
	if errors.Is(context.Cause(ctx), ErrClosed) {
		return ErrClosed
	}
	return ctx.Err()
}
