package api

import (
	"context"
	"net/http"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/gooni/gooni/settings"
)

// pollerCacheTTL is how long the API trusts what Temporal said about a lane's workers.
const pollerCacheTTL = 2 * time.Second

// lanePollers remembers, per task queue, whether any worker polled it recently.
type lanePollers struct {
	temporal client.Client
	mu       sync.Mutex
	seen     map[string]pollerState
}

type pollerState struct {
	has bool
	at  time.Time
}

// has reports whether some worker polls lane's activity task queue, asking Temporal at most once
// per pollerCacheTTL.
func (p *lanePollers) has(ctx context.Context, lane string) (bool, error) {
	p.mu.Lock()
	st, ok := p.seen[lane]
	p.mu.Unlock()
	if ok && time.Since(st.at) < pollerCacheTTL {
		return st.has, nil
	}
	resp, err := p.temporal.DescribeTaskQueue(ctx, lane, enumspb.TASK_QUEUE_TYPE_ACTIVITY)
	if err != nil {
		return false, err
	}
	has := len(resp.GetPollers()) > 0
	p.mu.Lock()
	if p.seen == nil {
		p.seen = map[string]pollerState{}
	}
	p.seen[lane] = pollerState{has: has, at: time.Now()}
	p.mu.Unlock()
	return has, nil
}

// admit refuses a submission at once with 503 queue_overloaded when it could only wait: no
// worker serves the model's dedicated lane and the shared lane is already full. When Temporal
// cannot be asked, the submission goes on and the workflow applies the same rule later.
func (s *Server) admit(ctx context.Context, model *settings.Model) error {
	shared := s.deps.Catalogue.SharedLane()
	if shared.TaskQueue == "" {
		return nil
	}
	depth, err := s.deps.Store.SharedDepth(ctx)
	if err != nil {
		return err
	}
	if depth < shared.MaxDepth {
		return nil
	}
	has, err := s.pollers.has(ctx, model.Runtime.Lane)
	if err != nil {
		s.cfg.Logger.Warn("describe lane", "lane", model.Runtime.Lane, "err", err)
		return nil
	}
	if has {
		return nil
	}
	return newError(http.StatusServiceUnavailable, "queue_overloaded",
		"No GPU worker serves this model right now and the shared queue is full.",
		"Try again in a few minutes.").
		withMetadata(map[string]any{"model": model.ID, "shared_depth": depth, "shared_max_depth": shared.MaxDepth})
}
