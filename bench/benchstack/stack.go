// Package benchstack starts a whole Gooni stack inside the benchmark process, on loopback, the
// way `gooni dev` and the end-to-end tests wire it: a throwaway PostgreSQL (or DATABASE_URL),
// an embedded Temporal server, the control worker, the real HTTP API, and GPU workers whose
// runners are real child processes (the benchmark binary re-executed as a traced CPU runner).
package benchstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/gooni/gooni/activities/control"
	"github.com/gooni/gooni/api"
	"github.com/gooni/gooni/internal/artifact"
	"github.com/gooni/gooni/internal/devtemporal"
	"github.com/gooni/gooni/internal/pgcluster"
	"github.com/gooni/gooni/internal/stack"
	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/internal/temporalsetup"
	"github.com/gooni/gooni/settings"
	"github.com/gooni/gooni/workflows"
)

// Config configures the benchmark stack.
type Config struct {
	// DatabaseURL is the PostgreSQL the stack uses. Empty: a throwaway cluster (durability off,
	// like the tests' clusters) in a temporary directory, removed on Stop.
	DatabaseURL string
	// SettingsPath is the catalogue file. Empty: settings/inference_settings.json when run from
	// the repository root, else the built-in copy.
	SettingsPath string
	// RunnerCommand starts a traced runner process. Default: this executable (its main must call
	// runnertrace.Main when runnertrace.Enabled()).
	RunnerCommand []string
	// Logger receives the stack's logs. Default: warnings and errors to stderr.
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if len(c.RunnerCommand) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return c, fmt.Errorf("find this executable for the runner command: %w", err)
		}
		c.RunnerCommand = []string{exe}
	}
	return c, nil
}

// Stack is a running stack. Its fields are for the benchmarks to observe what happened.
type Stack struct {
	Store     *store.Store
	Temporal  client.Client
	Catalogue *settings.Catalogue
	Artifacts artifact.Store
	// API is a client of the stack's HTTP API.
	API *Client
	// PostgresLocal says the database is a throwaway cluster this process started.
	PostgresLocal bool

	cfg   Config
	dir   string
	stops []func()
}

// Start starts the stack. ctx bounds the start only; call Stop to stop it.
func Start(ctx context.Context, cfg Config) (_ *Stack, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "gooni-bench-")
	if err != nil {
		return nil, err
	}
	s := &Stack{cfg: cfg, dir: dir}
	s.stops = append(s.stops, func() { _ = os.RemoveAll(dir) })
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	logger := cfg.Logger

	if s.Catalogue, err = stack.LoadCatalogue(cfg.SettingsPath); err != nil {
		return nil, err
	}
	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		if dbURL, err = s.startPostgres(ctx); err != nil {
			return nil, err
		}
		s.PostgresLocal = true
	}
	if s.Store, err = store.Open(ctx, dbURL); err != nil {
		return nil, err
	}
	s.stops = append(s.stops, s.Store.Close)
	if err := s.Store.Migrate(ctx); err != nil {
		return nil, err
	}

	address, err := s.startTemporal(ctx)
	if err != nil {
		return nil, err
	}
	if s.Temporal, err = stack.DialTemporal(ctx, address, devtemporal.DefaultNamespace, logger, 30*time.Second); err != nil {
		return nil, err
	}
	s.stops = append(s.stops, s.Temporal.Close)

	if s.Artifacts, err = artifact.NewLocal(filepath.Join(dir, "artifacts")); err != nil {
		return nil, err
	}
	cw, err := stack.StartControlWorker(s.Temporal, workflows.ControlTaskQueue, s.Store, s.Artifacts, control.Config{Logger: logger})
	if err != nil {
		return nil, err
	}
	s.stops = append(s.stops, cw.Stop)

	if s.API, err = s.StartAPI(s.Catalogue); err != nil {
		return nil, err
	}
	return s, nil
}

// clientLimit is the per-client rate (per minute) and live-task limit of the benchmark's APIs.
const clientLimit = 1_000_000

// StartAPI starts another instance of the HTTP API on a loopback port, validating requests
// against cat, and returns a client of it. It shares the stack's database, Temporal client and
// control queue, so its generations run on the same workers.
func (s *Stack) StartAPI(cat *settings.Catalogue) (*Client, error) {
	key, err := randomKey()
	if err != nil {
		return nil, err
	}
	// The benchmark is one client submitting hundreds of generations: the per-client limits are
	// raised out of its way (their checks still run on every submission).
	srv, err := api.New(api.Config{APIKey: key, ControlQueue: workflows.ControlTaskQueue, Logger: s.cfg.Logger,
		GeneratePerMinute: clientLimit, MaxActiveTasks: clientLimit},
		api.Deps{Store: s.Store, Temporal: s.Temporal, Catalogue: cat, Artifacts: s.Artifacts})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() { _ = srv.Serve(ln) }()
	s.stops = append(s.stops, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return NewClient("http://"+ln.Addr().String(), key), nil
}

// startPostgres starts a throwaway cluster on a free port and returns its URL.
func (s *Stack) startPostgres(ctx context.Context) (string, error) {
	cfg := pgcluster.Config{
		Dir:      filepath.Join(s.dir, "postgres"),
		Database: "gooni",
		Fast:     true,
		Attached: true,
		Logger:   s.cfg.Logger,
	}
	var (
		c   *pgcluster.Cluster
		err error
	)
	// Another process can take the free port before the server binds it.
	for range 3 {
		var ports []int
		if ports, err = devtemporal.FreePorts("127.0.0.1", 1); err != nil {
			return "", err
		}
		cfg.Port = ports[0]
		if c, err = pgcluster.Start(ctx, cfg); !errors.Is(err, pgcluster.ErrPortInUse) {
			break
		}
	}
	if err != nil {
		return "", fmt.Errorf("start throwaway PostgreSQL (or set DATABASE_URL): %w", err)
	}
	s.stops = append(s.stops, func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			s.cfg.Logger.Error("stop postgres", "err", err)
		}
	})
	return c.URL(cfg.Database), nil
}

// startTemporal starts the embedded Temporal server (no Web UI) and returns its frontend address.
func (s *Stack) startTemporal(ctx context.Context) (string, error) {
	var err error
	for range 3 {
		var ports []int
		if ports, err = devtemporal.FreePorts(devtemporal.DefaultHost, 1); err != nil {
			return "", err
		}
		var srv *devtemporal.Server
		srv, err = devtemporal.Start(ctx, devtemporal.Config{
			DataDir:          filepath.Join(s.dir, "temporal"),
			Port:             ports[0],
			SearchAttributes: temporalsetup.SearchAttributes(),
			Logger:           s.cfg.Logger.With("component", "temporal-server"),
		})
		if err == nil {
			s.stops = append(s.stops, srv.Stop)
			return srv.FrontendAddress(), nil
		}
	}
	return "", fmt.Errorf("start embedded Temporal: %w", err)
}

// Stop stops every part in reverse order of start and removes the temporary directory.
func (s *Stack) Stop() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
	s.stops = nil
}

// Dir is the stack's temporary directory.
func (s *Stack) Dir() string { return s.dir }

func randomKey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}
