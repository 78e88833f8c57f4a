package stack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/gooni/gooni/activities/gpu"
	"github.com/gooni/gooni/internal/artifact"
	"github.com/gooni/gooni/internal/workeraccount"
	"github.com/gooni/gooni/settings"
)

// AccountWorkerConfig configures a GPU worker that serves under a worker account.
type AccountWorkerConfig struct {
	GPUWorkerConfig
	// APIURL is the Gooni API the worker registers with (GOONI_API_URL).
	APIURL string
	// Token is the account's worker token (GOONI_WORKER_TOKEN). Never logged.
	Token string
	// Registration describes this worker (host, GPU); Lanes is filled from GPUWorkerConfig.
	Registration workeraccount.Registration
	// RetryEvery is how long to wait before registering again after a refusal. Default 5s.
	RetryEvery time.Duration
}

// RunAccountGPUWorker runs a GPU worker that takes work only while its account allows it: it
// registers with the API, serves the lanes both it and its account allow, reports GPU time and
// liveness in heartbeats, and stops taking work (handing running tasks back to Temporal) as soon
// as a heartbeat says the account is disabled, deleted or over its monthly limit. It returns when
// ctx ends, or with an error when the token can never work.
func RunAccountGPUWorker(ctx context.Context, c client.Client, cat *settings.Catalogue, arts artifact.Store, reporter gpu.Reporter, cfg AccountWorkerConfig) error {
	if cfg.RetryEvery <= 0 {
		cfg.RetryEvery = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger.With("component", "account-worker")
	offered := offeredLanes(cat, cfg.GPUWorkerConfig)
	cfg.Registration.Lanes = offered
	api := workeraccount.NewClient(cfg.APIURL, cfg.Token)
	g := &gatedWorker{c: c, cat: cat, arts: arts, reporter: reporter, cfg: cfg.GPUWorkerConfig, log: log}
	defer g.stop()

	var answer workeraccount.Answer
	for {
		var err error
		answer, err = api.Register(ctx, cfg.Registration)
		if err == nil {
			break
		}
		if workeraccount.IsPermanent(err) {
			return fmt.Errorf("worker account: %w", err)
		}
		log.Warn("registration refused; retrying", "err", err)
		if !sleep(ctx, retryDelay(err, cfg.RetryEvery)) {
			return nil
		}
	}
	log.Info("registered", "account_id", answer.AccountID, "status", answer.Status, "lanes", answer.Lanes)
	busyBefore := time.Duration(0)
	for {
		lanes := intersect(offered, answer.Lanes)
		if err := g.apply(answer.TakeWork, lanes); err != nil {
			return err
		}
		every := time.Duration(answer.HeartbeatSeconds) * time.Second
		if every <= 0 {
			every = cfg.RetryEvery
		}
		if !sleep(ctx, every) {
			return nil
		}
		busy := g.busy()
		next, err := api.Heartbeat(ctx, (busy - busyBefore).Seconds())
		switch {
		case err == nil:
			busyBefore = busy
			answer = next
			if answer.Status == accountPending || (answer.Status == accountFailed && !answer.TakeWork) {
				// Enabled again by an admin, or cooling down: register to become ready.
				if again, err := api.Register(ctx, cfg.Registration); err == nil {
					answer = again
				} else if workeraccount.IsPermanent(err) {
					return fmt.Errorf("worker account: %w", err)
				}
			}
		case workeraccount.IsPermanent(err):
			log.Warn("account gone: stopping", "err", err)
			return fmt.Errorf("worker account: %w", err)
		case ctx.Err() != nil:
			return nil
		default:
			// The API is away: keep serving what the account allowed last (Temporal still
			// guards the work), and report the usage with the next heartbeat.
			log.Warn("heartbeat failed", "err", err)
		}
	}
}

// Account statuses the worker acts on (the API's words).
const (
	accountPending = "pending"
	accountFailed  = "failed"
)

// gatedWorker starts and stops the GPU worker as the account's answers change.
type gatedWorker struct {
	c        client.Client
	cat      *settings.Catalogue
	arts     artifact.Store
	reporter gpu.Reporter
	cfg      GPUWorkerConfig
	log      *slog.Logger

	running *GPUWorker
	lanes   []string
	busyOld time.Duration // busy time of workers already stopped
}

// apply serves lanes when takeWork, and nothing otherwise.
func (g *gatedWorker) apply(takeWork bool, lanes []string) error {
	if !takeWork || len(lanes) == 0 {
		if g.running != nil {
			g.log.Info("account says stop taking work: stopping the GPU worker")
			g.stop()
		}
		return nil
	}
	if g.running != nil && slices.Equal(g.lanes, lanes) {
		return nil
	}
	g.stop()
	cfg := g.cfg
	cfg.Models, cfg.Shared = modelsForLanes(g.cat, lanes)
	w, err := StartGPUWorker(g.c, g.cat, g.arts, g.reporter, cfg)
	if err != nil {
		return err
	}
	g.running, g.lanes = w, lanes
	g.log.Info("serving", "lanes", lanes)
	return nil
}

func (g *gatedWorker) stop() {
	if g.running == nil {
		return
	}
	g.busyOld += g.running.BusyTime()
	g.running.Stop()
	g.running, g.lanes = nil, nil
}

func (g *gatedWorker) busy() time.Duration {
	if g.running == nil {
		return g.busyOld
	}
	return g.busyOld + g.running.BusyTime()
}

// offeredLanes lists the task queues cfg would serve, sorted.
func offeredLanes(cat *settings.Catalogue, cfg GPUWorkerConfig) []string {
	models := cfg.Models
	if models == nil {
		models = cat.IDs()
	}
	var lanes []string
	for _, id := range models {
		if m, ok := cat.Model(id); ok {
			lanes = append(lanes, m.Runtime.Lane)
		}
	}
	if cfg.Shared {
		lanes = append(lanes, cat.SharedLane().TaskQueue)
	}
	slices.Sort(lanes)
	return slices.Compact(lanes)
}

// modelsForLanes turns task queues back into the models whose lanes they are and whether the
// shared lane is among them.
func modelsForLanes(cat *settings.Catalogue, lanes []string) (models []string, shared bool) {
	models = []string{}
	for _, m := range cat.Models() {
		if slices.Contains(lanes, m.Runtime.Lane) {
			models = append(models, m.ID)
		}
	}
	return models, slices.Contains(lanes, cat.SharedLane().TaskQueue)
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// retryDelay honours the API's Retry-After when it sent one.
func retryDelay(err error, def time.Duration) time.Duration {
	var apiErr *workeraccount.Error
	if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
		return apiErr.RetryAfter
	}
	return def
}

// sleep waits d or until ctx ends, reporting whether it waited the whole time.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
