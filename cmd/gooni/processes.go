package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/gooni/gooni/activities/control"
	"github.com/gooni/gooni/api"
	"github.com/gooni/gooni/internal/artifact"
	"github.com/gooni/gooni/internal/config"
	"github.com/gooni/gooni/internal/metrics"
	"github.com/gooni/gooni/internal/runner"
	"github.com/gooni/gooni/internal/stack"
	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/internal/workeraccount"
	"github.com/gooni/gooni/runners/cpu"
	"github.com/gooni/gooni/settings"
	"github.com/gooni/gooni/workers"
	"github.com/gooni/gooni/workflows"
)

// dialWait is how long a process waits for Temporal to accept connections at start.
const dialWait = 60 * time.Second

// base is what every long-running process reads first.
type base struct {
	cfg    config.Config
	logger *slog.Logger
}

func loadBase() (base, error) {
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return base{}, fmt.Errorf("configuration:\n%w", err)
	}
	return base{cfg: cfg, logger: stack.NewLogger(cfg, os.Stderr)}, nil
}

// openStore opens the database and applies migrations.
func openStore(ctx context.Context, url string) (*store.Store, error) {
	st, err := store.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func runMigrate(ctx context.Context, _ []string) error {
	b, err := loadBase()
	if err != nil {
		return err
	}
	if b.cfg.DatabaseURL == "" {
		return fmt.Errorf("DATABASE_URL is not set: set it to the PostgreSQL URL")
	}
	st, err := openStore(ctx, b.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	st.Close()
	b.logger.Info("migrations applied")
	return nil
}

func runAPI(ctx context.Context, _ []string) error {
	b, err := loadBase()
	if err != nil {
		return err
	}
	if err := b.cfg.RequireProduction(true, true); err != nil {
		return err
	}
	cat, err := stack.LoadCatalogue(b.cfg.SettingsPath)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, b.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	m := metrics.New()
	tc, err := dial(ctx, b, m)
	if err != nil {
		return err
	}
	defer tc.Close()
	arts, err := artifact.NewLocal(filepath.Join(b.cfg.DataDir, "artifacts"))
	if err != nil {
		return err
	}
	acfg := apiConfig(b.cfg, b.cfg.APIKey, b.logger)
	acfg.HTTPMetrics = m.ObserveHTTP
	srv, err := api.New(acfg, api.Deps{Store: st, Temporal: tc, Catalogue: cat, Artifacts: arts})
	if err != nil {
		return err
	}
	opsL, err := startOps(b.cfg.Ops.APIOpsAddr(), m, dependencyChecks(st, tc), b.logger)
	if err != nil {
		return err
	}
	defer opsL.close()
	return serveFor(ctx, srv, b.cfg.HTTPAddr, b.cfg.Ops.ShutdownTimeout, opsL.draining, b.logger)
}

// serveFor runs the API until ctx ends (SIGTERM, SIGINT), then calls draining, stops accepting
// connections and waits up to timeout for requests in flight.
func serveFor(ctx context.Context, srv *api.Server, addr string, timeout time.Duration, draining func(), logger *slog.Logger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Listen(addr) }()
	logger.Info("api listening", "addr", addr)
	select {
	case err := <-errc:
		return fmt.Errorf("api on %s: %w", addr, err)
	case <-ctx.Done():
	}
	draining()
	logger.Info("api stopping: finishing requests in flight", "timeout", timeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("api shutdown: %w", err)
	}
	logger.Info("api stopped")
	return nil
}

func runControlWorker(ctx context.Context, _ []string) error {
	b, err := loadBase()
	if err != nil {
		return err
	}
	if err := b.cfg.RequireProduction(true, false); err != nil {
		return err
	}
	st, err := openStore(ctx, b.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	m := metrics.New()
	tc, err := dial(ctx, b, m)
	if err != nil {
		return err
	}
	defer tc.Close()
	arts, err := artifact.NewLocal(filepath.Join(b.cfg.DataDir, "artifacts"))
	if err != nil {
		return err
	}
	mcfg, err := maintenanceConfig(b.cfg, b.logger)
	if err != nil {
		return err
	}
	w, err := stack.StartControlWorkerWith(tc, workflows.ControlTaskQueue, st, arts, stack.ControlWorkerConfig{
		Control:     control.Config{Retention: b.cfg.Retention, Logger: b.logger, TaskEnded: m.TaskEnded},
		Maintenance: mcfg, StopTimeout: b.cfg.Ops.WorkerStopTimeout})
	if err != nil {
		return err
	}
	if err := stack.EnsureSchedules(ctx, tc, "", workflows.ControlTaskQueue, b.logger); err != nil {
		w.Stop()
		return err
	}
	opsL, err := startOps(b.cfg.Ops.WorkerAddr(config.DefaultControlHTTPAddr), m, dependencyChecks(st, tc), b.logger)
	if err != nil {
		w.Stop()
		return err
	}
	defer opsL.close()
	b.logger.Info("control worker running")
	<-ctx.Done()
	opsL.draining()
	b.logger.Info("control worker stopping: waiting for running activities", "timeout", b.cfg.Ops.WorkerStopTimeout)
	w.Stop()
	b.logger.Info("control worker stopped")
	return nil
}

func runGPUWorker(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("worker gpu", flag.ContinueOnError)
	models := fs.String("models", "all", "comma-separated model ids whose dedicated lanes to serve; all, or none (with -shared)")
	shared := fs.Bool("shared", false, "also serve the shared degraded lane (one model held at a time)")
	concurrency := fs.String("concurrency", "", "per-lane concurrency overrides, e.g. pony=2,flux=1 (default: the catalogue's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	conc, err := parseConcurrency(*concurrency)
	if err != nil {
		return err
	}
	b, err := loadBase()
	if err != nil {
		return err
	}
	if err := b.cfg.RequireProduction(true, false); err != nil {
		return err
	}
	cat, err := stack.LoadCatalogue(b.cfg.SettingsPath)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, b.cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	m := metrics.New()
	tc, err := dial(ctx, b, m)
	if err != nil {
		return err
	}
	defer tc.Close()
	arts, err := artifact.NewLocal(filepath.Join(b.cfg.DataDir, "artifacts"))
	if err != nil {
		return err
	}
	cmd, err := runnerCommand(b.cfg)
	if err != nil {
		return err
	}
	gpuCfg := stack.GPUWorkerConfig{
		Models: modelList(*models), Shared: *shared, Concurrency: conc, RunnerName: b.cfg.RunnerName, RunnerCommand: cmd, Logger: b.logger,
		StopTimeout: b.cfg.Ops.WorkerStopTimeout,
	}
	if b.cfg.WorkerToken != "" {
		return runAccountGPUWorker(ctx, b, tc, cat, arts, st, m, gpuCfg)
	}
	g, err := stack.StartGPUWorker(tc, cat, arts, workers.StoreReporter{Store: st}, gpuCfg)
	if err != nil {
		return err
	}
	m.RegisterRunnerLoads(g.Models(), g.Loads)
	opsL, err := startOps(b.cfg.Ops.WorkerAddr(config.DefaultGPUHTTPAddr), m, dependencyChecks(st, tc), b.logger)
	if err != nil {
		g.Stop()
		return err
	}
	defer opsL.close()
	b.logger.Info("gpu worker running", "models", *models, "shared", *shared)
	<-ctx.Done()
	// Stop polling, let running generations finish (up to GOONI_WORKER_STOP_TIMEOUT), then stop
	// the runners. A generation cut off here is retried by Temporal on another worker.
	opsL.draining()
	b.logger.Info("gpu worker stopping: waiting for running generations", "timeout", b.cfg.Ops.WorkerStopTimeout)
	g.Stop()
	b.logger.Info("gpu worker stopped")
	return nil
}

// runnerCommand is GOONI_RUNNER_COMMAND when set, else this binary's CPU runner.
func runnerCommand(cfg config.Config) ([]string, error) {
	if len(cfg.RunnerCommand) > 0 {
		return cfg.RunnerCommand, nil
	}
	return selfRunnerCommand()
}

// selfRunnerCommand is the command that starts this binary's CPU runner.
func selfRunnerCommand() ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find own executable for the runner: %w", err)
	}
	return []string{exe, "runner", "cpu"}, nil
}

func runCPURunner(ctx context.Context, _ []string) error {
	cfg, err := cpu.ConfigFromEnv()
	if err != nil {
		return err
	}
	return cpu.Main(ctx, os.Stdin, os.Stdout, os.Stderr, cfg)
}

// modelList turns the -models flag into GPUWorkerConfig.Models: nil for all, empty for none.
func modelList(flag string) []string {
	switch flag {
	case "all", "":
		return nil
	case "none":
		return []string{}
	}
	return splitComma(flag)
}

// parseConcurrency reads "pony=2,flux=1".
func parseConcurrency(flag string) (map[string]int, error) {
	out := map[string]int{}
	for _, part := range splitComma(flag) {
		model, n, ok := strings.Cut(part, "=")
		v, err := strconv.Atoi(n)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("-concurrency %q: use model=N with N ≥ 1, e.g. pony=2", part)
		}
		out[model] = v
	}
	return out, nil
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// runAccountGPUWorker runs the GPU worker under its account (GOONI_WORKER_TOKEN): it serves only
// while the API says the account may take work, on the lanes the account allows.
func runAccountGPUWorker(ctx context.Context, b base, tc client.Client, cat *settings.Catalogue, arts artifact.Store, st *store.Store, m *metrics.Metrics, cfg stack.GPUWorkerConfig) error {
	opsL, err := startOps(b.cfg.Ops.WorkerAddr(config.DefaultGPUHTTPAddr), m, dependencyChecks(st, tc), b.logger)
	if err != nil {
		return err
	}
	defer opsL.close()
	host, _ := os.Hostname()
	b.logger.Info("gpu worker running under its account", "api", b.cfg.APIURL)
	err = stack.RunAccountGPUWorker(ctx, tc, cat, arts, workers.StoreReporter{Store: st}, stack.AccountWorkerConfig{
		GPUWorkerConfig: cfg,
		APIURL:          b.cfg.APIURL,
		Token:           b.cfg.WorkerToken,
		Registration: workeraccount.Registration{
			Host: host, GPUName: os.Getenv("GOONI_GPU_NAME"), GPUMemoryMB: gpuMemoryMB(b.logger),
			RunnerVersions: map[string]string{cfg.RunnerName: strings.Join(cfg.RunnerCommand, " "), "protocol": strconv.Itoa(runner.ProtocolVersion)},
		},
	})
	opsL.draining()
	return err
}

// gpuMemoryMB reads GOONI_GPU_MEMORY_MB, the GPU memory the worker reports when it registers.
func gpuMemoryMB(logger *slog.Logger) int {
	v := os.Getenv("GOONI_GPU_MEMORY_MB")
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		logger.Warn("GOONI_GPU_MEMORY_MB is not a whole number of MiB; reporting 0", "value", v)
		return 0
	}
	return n
}
