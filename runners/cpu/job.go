package cpu

import (
	"context"

	"github.com/gooni/gooni/internal/runner"
)

// job is the one load or generate the runner is working on.
type job struct {
	id     string
	cancel context.CancelFunc
	// finished is closed when the job's work is done, just before its final
	// message is written: from then on the runner accepts the next request.
	finished chan struct{}
	// exited is closed after the final message was written.
	exited chan struct{}
}

// start runs work in its own goroutine. work returns the job's final message
// (result, error, cancelled, loaded), or one with no Type to send nothing.
func (s *server) start(ctx context.Context, id string, work func(context.Context) runner.Message) *job {
	ctx, cancel := context.WithCancel(ctx)
	j := &job{id: id, cancel: cancel, finished: make(chan struct{}), exited: make(chan struct{})}
	go func() {
		defer close(j.exited)
		defer cancel()
		m := work(ctx)
		close(j.finished)
		if m.Type != "" {
			s.send(m)
		}
	}()
	return j
}

// isFinished reports whether the job's work is done.
func (j *job) isFinished() bool {
	select {
	case <-j.finished:
		return true
	default:
		return false
	}
}
