package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	workflowservice "go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/gooni/gooni/internal/ops"
	"github.com/gooni/gooni/internal/store"
)

// GET /admin/health: one answer to "is the system well?": storage (PostgreSQL, the artifact
// store), Temporal (frontend, namespace), GPU worker accounts (counts by status) and lanes
// (pollers, waiting tasks, accounts serving). Always 200 with the details; status is ok, or
// degraded when a dependency fails or tasks wait on a lane no worker polls. Error texts go to
// the log; the answer says only which check failed.

// laneAccount is a ready account serving a lane.
type laneAccount struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	// Stopped: 90% of the monthly limit is used, its workers take no new work.
	Stopped bool `json:"stopped"`
}

// servingAccounts returns the ready accounts by lane.
func (s *Server) servingAccounts(ctx context.Context) (map[string][]laneAccount, error) {
	accs, err := s.deps.Store.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string][]laneAccount{}
	for _, a := range accs {
		if a.Status != store.AccountReady {
			continue
		}
		la := laneAccount{ID: a.ID, Label: a.Label, Stopped: s.accountResponse(a).Usage.Stopped}
		for _, l := range a.Lanes {
			out[l] = append(out[l], la)
		}
	}
	return out, nil
}

// Health statuses.
const (
	healthOK       = "ok"
	healthDegraded = "degraded"
	healthFailing  = "failing"
)

// healthCheck is one dependency check.
type healthCheck struct {
	Status    string  `json:"status"`
	LatencyMS float64 `json:"latency_ms"`
}

// laneHealth is one lane of GET /admin/health.
type laneHealth struct {
	Lane       string `json:"lane"`
	Kind       string `json:"kind"`
	Status     string `json:"status"`
	Pollers    int    `json:"pollers"`
	Pending    int    `json:"pending"`
	Processing int    `json:"processing"`
	Accounts   int    `json:"accounts"`
}

// adminHealthResponse is GET /admin/health.
type adminHealthResponse struct {
	Status  string `json:"status"`
	Storage struct {
		Postgres  healthCheck `json:"postgres"`
		Artifacts healthCheck `json:"artifacts"`
	} `json:"storage"`
	Temporal struct {
		Frontend  healthCheck `json:"frontend"`
		Namespace healthCheck `json:"namespace"`
		Name      string      `json:"name"`
	} `json:"temporal"`
	Accounts struct {
		Status   string         `json:"status"`
		Total    int            `json:"total"`
		ByStatus map[string]int `json:"by_status"`
	} `json:"accounts"`
	Lanes       []laneHealth `json:"lanes"`
	LanesStatus string       `json:"lanes_status"`
	// Problems says in plain words what makes the status degraded.
	Problems []string  `json:"problems"`
	At       time.Time `json:"at"`
}

// adminHealth is GET /admin/health.
func (s *Server) adminHealth(c *fiber.Ctx) error {
	s.audit(c, "health.get", "", nil)
	ctx := c.UserContext()
	var out adminHealthResponse
	out.Problems = []string{}
	out.Temporal.Name = s.cfg.Namespace
	// The checks run in parallel; each records how long it took.
	var mu sync.Mutex
	took := map[string]time.Duration{}
	timedCheck := func(name string, run func(context.Context) error) ops.Check {
		return ops.Check{Name: name, Run: func(ctx context.Context) error {
			start := time.Now()
			err := run(ctx)
			mu.Lock()
			took[name] = time.Since(start)
			mu.Unlock()
			return err
		}}
	}
	results := ops.RunChecks(ctx, []ops.Check{
		timedCheck("postgres", func(ctx context.Context) error { return s.deps.Store.Pool().Ping(ctx) }),
		timedCheck("artifacts", s.probeArtifacts),
		timedCheck("temporal", func(ctx context.Context) error {
			_, err := s.deps.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		}),
		timedCheck("namespace", func(ctx context.Context) error {
			_, err := s.deps.Temporal.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: s.cfg.Namespace})
			return err
		}),
	})
	check := func(name, problem string) healthCheck {
		hc := healthCheck{Status: healthOK, LatencyMS: math.Round(float64(took[name].Microseconds())/10) / 100}
		if err := results[name]; err != nil {
			s.cfg.Logger.Warn("admin health check failed", "check", name, "err", err)
			hc.Status = healthFailing
			out.Problems = append(out.Problems, problem)
		}
		return hc
	}
	out.Storage.Postgres = check("postgres", "PostgreSQL does not answer.")
	out.Storage.Artifacts = check("artifacts", "The artifact store cannot be written.")
	out.Temporal.Frontend = check("temporal", "Temporal's frontend does not answer.")
	out.Temporal.Namespace = check("namespace", fmt.Sprintf("Temporal namespace %s cannot be described.", s.cfg.Namespace))

	out.Accounts.ByStatus = map[string]int{store.AccountPending: 0, store.AccountReady: 0, store.AccountFailed: 0, store.AccountDisabled: 0}
	out.Accounts.Status = healthOK
	out.LanesStatus = healthOK
	out.Lanes = []laneHealth{}
	if out.Storage.Postgres.Status != healthOK {
		out.Accounts.Status, out.LanesStatus = healthFailing, healthFailing
	} else {
		counts, err := s.deps.Store.AccountStatusCounts(ctx)
		if err != nil {
			s.cfg.Logger.Warn("admin health: account counts", "err", err)
			out.Accounts.Status = healthFailing
			out.Problems = append(out.Problems, "The GPU worker accounts cannot be counted.")
		}
		for st, n := range counts {
			out.Accounts.ByStatus[st] = n
			out.Accounts.Total += n
		}
		lanes, _, err := s.laneReports(ctx)
		if err != nil {
			s.cfg.Logger.Warn("admin health: lanes", "err", err)
			out.LanesStatus = healthFailing
			out.Problems = append(out.Problems, "The lanes cannot be described.")
		}
		for _, l := range lanes {
			lh := laneHealth{Lane: l.Lane, Kind: l.Kind, Status: healthOK, Pollers: len(l.Pollers), Pending: l.Pending,
				Processing: l.Processing, Accounts: len(l.Accounts)}
			switch {
			case l.PollersError != "":
				lh.Status = "unknown"
			case len(l.Pollers) == 0 && l.Pending > 0:
				lh.Status = "no_worker"
				out.LanesStatus = healthDegraded
				out.Problems = append(out.Problems, fmt.Sprintf("%d task(s) wait on lane %s but no worker polls it.", l.Pending, l.Lane))
			}
			out.Lanes = append(out.Lanes, lh)
		}
	}
	out.Status = healthOK
	if len(out.Problems) > 0 {
		out.Status = healthDegraded
	}
	out.At = time.Now().UTC()
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(out)
}

// probeArtifacts writes and removes a small object: the artifact store is writable.
func (s *Server) probeArtifacts(ctx context.Context) error {
	if s.deps.Artifacts == nil {
		return errors.New("no artifact store configured")
	}
	key := "health/probe-" + uuid.NewString()
	if _, err := s.deps.Artifacts.Put(ctx, key, strings.NewReader("ok")); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return s.deps.Artifacts.Delete(ctx, key)
}
