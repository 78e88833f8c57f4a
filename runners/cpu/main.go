package cpu

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/gooni/gooni/internal/runner"
)

// Identity the runner announces in its ready message.
const (
	runnerName    = "cpu"
	runnerVersion = "1"
	device        = "cpu"
)

// maxLineBytes bounds one incoming protocol line.
const maxLineBytes = 1 << 20

// Main runs the CPU runner: it announces itself on stdout, then serves the
// worker's messages from stdin until a shutdown message, the end of stdin or
// the end of ctx, each of which cancels a running request and returns nil.
// It logs to stderr and never logs request parameters. It returns an error
// only when it cannot write to stdout.
func Main(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer, cfg Config) error {
	s := &server{
		cfg:    cfg,
		out:    json.NewEncoder(stdout),
		log:    slog.New(slog.NewTextHandler(stderr, nil)),
		loaded: map[string]bool{},
	}
	s.send(runner.Message{Type: runner.TypeReady, Protocol: runner.ProtocolVersion, Runner: runnerName, Version: runnerVersion, Device: device})

	quit := make(chan struct{})
	defer close(quit)
	msgs := make(chan incoming)
	go readMessages(stdin, msgs, quit)

	var cur *job
	stop := func() {
		if cur != nil {
			cur.cancel()
			<-cur.exited
			cur = nil
		}
	}
	defer stop()
	for {
		select {
		case <-ctx.Done():
			s.log.Info("stopping: context ended")
			return s.writeErr()
		case in, ok := <-msgs:
			if !ok {
				s.log.Info("stopping: stdin closed")
				return s.writeErr()
			}
			if in.err != nil {
				s.log.Warn("bad message from worker", "error", in.err)
				s.fail("", invalid("bad message: %v", in.err))
				continue
			}
			m := in.msg
			if cur != nil && cur.isFinished() {
				cur = nil
			}
			switch m.Type {
			case runner.TypeLoad, runner.TypeGenerate:
				if cur != nil {
					s.fail(m.ID, &runner.Error{Code: runner.CodeRunnerBusy, Message: "another request is running", Retryable: true})
					continue
				}
				if m.Type == runner.TypeLoad {
					cur = s.start(ctx, m.ID, func(ctx context.Context) runner.Message { return s.load(ctx, m.Model) })
				} else {
					cur = s.start(ctx, m.ID, func(ctx context.Context) runner.Message { return s.generate(ctx, m) })
				}
			case runner.TypeCancel:
				if cur != nil && cur.id == m.ID {
					cur.cancel()
				}
			case runner.TypeShutdown:
				s.log.Info("stopping: shutdown requested")
				return s.writeErr()
			default:
				s.fail(m.ID, invalid("unknown message type %q", m.Type))
			}
		}
	}
}

// incoming is one line from stdin.
type incoming struct {
	msg runner.Message
	err error
}

// readMessages decodes stdin lines into msgs until EOF or quit.
func readMessages(stdin io.Reader, msgs chan<- incoming, quit <-chan struct{}) {
	defer close(msgs)
	sc := bufio.NewScanner(stdin)
	sc.Buffer(make([]byte, 0, 64*1024), maxLineBytes)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var in incoming
		if err := json.Unmarshal(sc.Bytes(), &in.msg); err != nil {
			in.err = err
		}
		select {
		case msgs <- in:
		case <-quit:
			return
		}
	}
}

// server is the state of one Main call.
type server struct {
	cfg Config
	log *slog.Logger

	outMu sync.Mutex
	out   *json.Encoder
	wErr  error

	mu     sync.Mutex
	loaded map[string]bool
}

// send writes one message to stdout. The first write error is kept for Main
// to return; later messages are dropped.
func (s *server) send(m runner.Message) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	if s.wErr != nil {
		return
	}
	if err := s.out.Encode(m); err != nil {
		s.wErr = fmt.Errorf("cpu runner: write stdout: %w", err)
	}
}

func (s *server) writeErr() error {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	return s.wErr
}

// fail reports a failed request (or, with an empty id, a bad message).
func (s *server) fail(id string, e *runner.Error) {
	s.send(errorMessage(id, e))
}

// invalid is an invalid_input error.
func invalid(format string, args ...any) *runner.Error {
	return &runner.Error{Code: runner.CodeInvalidInput, Message: fmt.Sprintf(format, args...)}
}
