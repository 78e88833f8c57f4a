package pgcluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// child is a postgres server started as a child of this process.
type child struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has exited and been reaped
	err    error         // exit status; read after exited is closed
}

// startChild runs postgres on dir as a child that receives SIGQUIT
// (immediate shutdown) when this process dies, and waits until it is ready.
func startChild(ctx context.Context, postgres, dir, logPath string, as runAs) (*child, error) {
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open server log: %w", err)
	}
	defer logFile.Close() // the child holds its own descriptor
	if err := as.chown(logPath); err != nil {
		return nil, err
	}
	// Not bound to ctx: the server must outlive the start-up call.
	cmd := as.command(context.Background(), postgres, "-D", dir)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Own process group: a terminal's Ctrl-C reaches this process, which then
	// stops the server in order (or its death signals the server).
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT

	ch := &child{cmd: cmd, exited: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// The parent-death signal fires when the starting *thread* exits, and
		// Go ends threads whose goroutine exits while locked to them: keep
		// this goroutine, locked, on its thread for the child's lifetime.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		ch.err = cmd.Wait()
		close(ch.exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("run postgres: %w", err)
	}
	if err := ch.waitReady(ctx, dir); err != nil {
		_ = cmd.Process.Signal(syscall.SIGQUIT)
		<-ch.exited
		return nil, err
	}
	return ch, nil
}

// waitReady polls postmaster.pid until the server says it accepts
// connections, it exits, or ctx ends (60 s at most, like pg_ctl -w).
func (ch *child) waitReady(ctx context.Context, dir string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		pf, ok, err := readPidFile(dir)
		if err != nil {
			return err
		}
		if ok && pf.pid == ch.cmd.Process.Pid && pf.status == "ready" {
			return nil
		}
		select {
		case <-ch.exited:
			return fmt.Errorf("postgres exited during start-up: %v", ch.err)
		case <-ctx.Done():
			return fmt.Errorf("wait for postgres to accept connections: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// wait waits for the child to exit after it was told to stop.
func (ch *child) wait(ctx context.Context) error {
	select {
	case <-ch.exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("pgcluster: wait for postgres to exit: %w", ctx.Err())
	}
}

// fileSize returns the size of path, or 0 when it cannot be read.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// logTail returns at most the last 20 lines the log got after offset from.
func logTail(path string, from int64) string {
	b, err := os.ReadFile(path)
	if err != nil || int64(len(b)) < from {
		return ""
	}
	lines := strings.Split(strings.TrimSpace(string(b[from:])), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// portInUse reports whether a server log says it could not listen.
func portInUse(log string) bool {
	return strings.Contains(log, "could not bind") || strings.Contains(log, "could not create any TCP/IP sockets")
}
