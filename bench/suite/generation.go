package suite

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gooni/gooni/bench/benchstack"
)

// genRun is one generation as its client saw it.
type genRun struct {
	TaskID string
	// Submitted is just before POST /generate was sent, Accepted when its answer arrived, Done
	// when the GET /status answer that first said "done" arrived.
	Submitted, Accepted, Done time.Time
}

// Latency is submit → done visible.
func (r genRun) Latency() time.Duration { return r.Done.Sub(r.Submitted) }

// generate submits body and polls GET /status every poll until the task is done.
func (su *Suite) generate(ctx context.Context, api *benchstack.Client, body any, poll time.Duration) (genRun, error) {
	r := genRun{Submitted: time.Now()}
	id, err := api.Submit(ctx, body)
	if err != nil {
		return r, err
	}
	r.TaskID, r.Accepted = id, time.Now()
	_, done, err := su.watch(ctx, api, id, poll, nil)
	r.Done = done
	return r, err
}

// observation is one GET /status answer and when it arrived.
type observation struct {
	At     time.Time
	Status benchstack.Status
}

// watch polls GET /status of id every poll (measured from one poll's start to the next) until
// the task ends, calling seen (when not nil) with every answer. It returns the final status and
// when it arrived; a task that did not end "done" is an error.
func (su *Suite) watch(ctx context.Context, api *benchstack.Client, id string, poll time.Duration, seen func(observation)) (benchstack.Status, time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	next := time.Now()
	for {
		s, err := api.Status(ctx, id)
		now := time.Now()
		if err != nil {
			return s, now, err
		}
		if seen != nil {
			seen(observation{At: now, Status: s})
		}
		if s.Terminal() {
			if s.Status != "done" {
				return s, now, fmt.Errorf("task %s ended %s: %s %s", id, s.Status, s.ErrorCode, s.ErrorMsg)
			}
			return s, now, nil
		}
		next = next.Add(poll)
		if d := time.Until(next); d > 0 {
			select {
			case <-ctx.Done():
				return s, now, fmt.Errorf("task %s: %w (last status %s %s)", id, ctx.Err(), s.Status, s.StageDetail)
			case <-time.After(d):
			}
		} else {
			next = time.Now()
		}
	}
}

// submitAll submits n generations at once, one goroutine each, and returns their task ids in
// submission order.
func (su *Suite) submitAll(ctx context.Context, api *benchstack.Client, n int, body func(i int) any) ([]string, error) {
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { ids[i], errs[i] = api.Submit(ctx, body(i)) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// waitAll waits until every task in ids is done and returns when the last one was seen done.
// It polls in submission order and checks a task only once those before it are done, so a
// sweep usually costs one request whatever len(ids) is; a sweep starts every poll.
func (su *Suite) waitAll(ctx context.Context, api *benchstack.Client, ids []string, poll time.Duration) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	pending := ids
	var last time.Time
	for len(pending) > 0 {
		sweep := time.Now()
		for len(pending) > 0 {
			s, err := api.Status(ctx, pending[0])
			if err != nil {
				return last, err
			}
			if !s.Terminal() {
				break
			}
			if s.Status != "done" {
				return last, fmt.Errorf("task %s ended %s: %s %s", pending[0], s.Status, s.ErrorCode, s.ErrorMsg)
			}
			last = time.Now()
			pending = pending[1:]
		}
		if len(pending) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("%d tasks not done: %w", len(pending), ctx.Err())
		case <-time.After(time.Until(sweep.Add(poll))):
		}
	}
	return last, nil
}
