package runner

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"
)

// maxLineBytes bounds one protocol line; longer lines are a protocol error.
const maxLineBytes = 1 << 20

// writeTimeout bounds one write to the runner's stdin. A runner that stops
// reading stdin is treated as stalled.
const writeTimeout = 10 * time.Second

// event is one line read from the runner's stdout: a message or why the line
// is not one.
type event struct {
	msg Message
	err error
}

// process is one running runner child. The Supervisor that started it is the
// only writer; reads arrive on events.
type process struct {
	cmd    *exec.Cmd
	stdin  *os.File
	logger *slog.Logger

	// events carries stdout lines; it is closed when stdout reaches EOF.
	events chan event
	// exited is closed once the process has exited and waitErr is set.
	exited  chan struct{}
	waitErr error
	// killed is closed by kill; it stops the stdout reader.
	killed   chan struct{}
	killOnce sync.Once
}

// startProcess starts cfg.Command with the protocol pipes wired up. It does
// not wait for the ready message.
func startProcess(cfg Config) (*process, error) {
	switch {
	case len(cfg.Command) == 0:
		return nil, newError(CodeRunnerStartFailed, false, "no runner command configured for model %q", cfg.Model)
	case cfg.Model == "":
		return nil, newError(CodeRunnerStartFailed, false, "no model configured for runner %s", cfg.Command[0])
	}
	// Pipes from os.Pipe (rather than cmd.StdinPipe/StdoutPipe) give the
	// worker's ends deadlines and keep cmd.Wait from closing stdout before
	// every line was read.
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, newError(CodeRunnerStartFailed, true, "stdin pipe: %v", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		_ = inR.Close()
		_ = inW.Close()
		return nil, newError(CodeRunnerStartFailed, true, "stdout pipe: %v", err)
	}

	logger := cfg.Logger.With("model", cfg.Model)
	stderr := newLogWriter(logger)
	cmd := exec.Command(cfg.Command[0], cfg.Command[1:]...)
	cmd.Env = append(os.Environ(), cfg.Env...)
	cmd.Stdin = inR
	cmd.Stdout = outW
	cmd.Stderr = stderr
	// Bound cmd.Wait when a grandchild keeps stderr open after the runner
	// exits.
	cmd.WaitDelay = time.Second
	setProcessGroup(cmd)

	err = cmd.Start()
	_ = inR.Close()
	_ = outW.Close()
	if err != nil {
		_ = inW.Close()
		_ = outR.Close()
		return nil, newError(CodeRunnerStartFailed, true, "start %s: %v", cfg.Command[0], err)
	}

	p := &process{
		cmd:    cmd,
		stdin:  inW,
		logger: logger.With("pid", cmd.Process.Pid),
		events: make(chan event, 256),
		exited: make(chan struct{}),
		killed: make(chan struct{}),
	}
	go p.read(outR)
	go func() {
		p.waitErr = cmd.Wait()
		stderr.flush()
		close(p.exited)
	}()
	p.logger.Info("runner started", "command", cfg.Command[0])
	return p, nil
}

// read turns stdout lines into events until EOF, or until the process is
// killed and nobody reads events any more.
func (p *process) read(stdout *os.File) {
	defer close(p.events)
	defer func() { _ = stdout.Close() }()
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64*1024), maxLineBytes)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var ev event
		if err := json.Unmarshal(line, &ev.msg); err != nil {
			ev.err = fmt.Errorf("line is not JSON: %v", err)
		} else if ev.msg.Type == "" {
			ev.err = errors.New("message without a type")
		}
		if !p.deliver(ev) {
			return
		}
	}
	if err := sc.Err(); err != nil {
		p.deliver(event{err: fmt.Errorf("read stdout: %v", err)})
	}
}

// deliver queues ev; it reports false when the process was killed instead.
func (p *process) deliver(ev event) bool {
	select {
	case p.events <- ev:
		return true
	case <-p.killed:
		return false
	}
}

// send writes one message as a line to the runner's stdin.
func (p *process) send(m Message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode %s: %w", m.Type, err)
	}
	b = append(b, '\n')
	// Where pipes have no deadlines (ErrNoDeadline) the write is unbounded;
	// the messages are small and a live runner always reads stdin.
	if err := p.stdin.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil && !errors.Is(err, os.ErrNoDeadline) {
		return fmt.Errorf("send %s: %w", m.Type, err)
	}
	if _, err := p.stdin.Write(b); err != nil {
		return fmt.Errorf("send %s: %w", m.Type, err)
	}
	return nil
}

// hasExited reports whether the process has exited.
func (p *process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// exitStatus describes how the process ended, for error messages.
func (p *process) exitStatus() string {
	if !p.hasExited() {
		return "still running"
	}
	if p.waitErr == nil {
		return "exit status 0"
	}
	return p.waitErr.Error()
}

// kill kills the process (and its process group) and waits up to wait for it
// to be reaped. It is safe to call more than once and after exit.
func (p *process) kill(wait time.Duration) {
	p.killOnce.Do(func() { close(p.killed) })
	if !p.hasExited() {
		killProcessGroup(p.cmd)
		_ = p.cmd.Process.Kill()
	}
	_ = p.stdin.Close()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-p.exited:
	case <-t.C:
		p.logger.Warn("runner not reaped after kill", "waited", wait)
	}
}

// drainStale discards events left over from an earlier request (for example
// progress written after a cancel). It reports false when stdout is closed,
// which means the process is gone or going.
func (p *process) drainStale() bool {
	for {
		select {
		case ev, ok := <-p.events:
			if !ok {
				return false
			}
			p.logger.Debug("discarding stale runner message", "type", ev.msg.Type, "id", ev.msg.ID, "error", ev.err)
		default:
			return true
		}
	}
}
