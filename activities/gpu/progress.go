package gpu

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/gooni/gooni/workflows"
)

// tracker holds a running task's latest progress. set heartbeats it to Temporal at once (the
// SDK throttles what it sends) and a background loop reports it to the task record, at most
// once per interval except on a stage change, so a slow database never slows the runner.
type tracker struct {
	ctx      context.Context
	reporter Reporter
	taskID   string
	interval time.Duration
	log      *slog.Logger

	mu       sync.Mutex
	current  workflows.Progress
	detail   string
	dirty    bool
	urgent   bool
	reported string // stage last written to the record
	wake     chan struct{}
}

func newTracker(ctx context.Context, reporter Reporter, taskID string, interval time.Duration, log *slog.Logger) *tracker {
	return &tracker{ctx: ctx, reporter: reporter, taskID: taskID, interval: interval, log: log,
		wake: make(chan struct{}, 1)}
}

// set records new progress; force reports it without waiting for the interval.
func (t *tracker) set(pct float64, stage, detail string, force bool) {
	t.setStep(pct, stage, detail, 0, 0, force)
}

func (t *tracker) setStep(pct float64, stage, detail string, step, total int, force bool) {
	t.mu.Lock()
	t.current = workflows.Progress{Progress: pct, Stage: stage, Step: step, Total: total}
	t.detail = detail
	t.dirty = true
	if force || stage != t.reported {
		t.urgent = true
	}
	p := t.current
	urgent := t.urgent
	t.mu.Unlock()
	activity.RecordHeartbeat(t.ctx, p)
	if urgent {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
}

// keepAlive starts the loop that reports progress to the record and heartbeats a quiet activity
// every beat; the returned function stops it after a last report.
func (t *tracker) keepAlive(beat time.Duration) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		flush := time.NewTicker(t.interval)
		defer flush.Stop()
		alive := time.NewTicker(beat)
		defer alive.Stop()
		last := time.Time{}
		for {
			select {
			case <-done:
				t.report()
				return
			case <-t.wake:
				t.mu.Lock()
				urgent := t.urgent
				t.mu.Unlock()
				if urgent || time.Since(last) >= t.interval {
					t.report()
					last = time.Now()
				}
			case <-flush.C:
				t.report()
				last = time.Now()
			case <-alive.C:
				t.mu.Lock()
				p := t.current
				t.mu.Unlock()
				activity.RecordHeartbeat(t.ctx, p)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done); <-finished })
	}
}

// report writes the latest progress to the record when it changed since the last write.
func (t *tracker) report() {
	t.mu.Lock()
	if !t.dirty {
		t.mu.Unlock()
		return
	}
	p, detail := t.current, t.detail
	t.dirty, t.urgent, t.reported = false, false, p.Stage
	t.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), 5*time.Second)
	defer cancel()
	if err := t.reporter.Progress(ctx, t.taskID, p.Progress, p.Stage, detail); err != nil {
		t.log.Warn("report progress", "err", err)
	}
}
