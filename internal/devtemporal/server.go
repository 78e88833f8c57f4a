package devtemporal

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/temporal"

	"github.com/gooni/gooni/internal/temporalserver"
	"github.com/gooni/gooni/internal/temporalsetup"
)

const (
	// clusterName names the single cluster; it is stored in the database on first start.
	clusterName = temporalserver.ClusterName
	// storeName names the one SQLite data store used for both persistence and visibility.
	storeName = "sqlite-default"
	// defaultStartTimeout bounds Start when its context has no deadline.
	defaultStartTimeout = 2 * time.Minute
)

// Server is a running Temporal server with its optional Web UI.
type Server struct {
	cfg      Config
	frontend string
	lock     *dataDirLock
	temporal temporal.Server
	ui       *webUI
	// logLevel is the server logs' minimum level: minServerLevel, raised to error on Stop because
	// the services log warnings about each other while they shut down one by one.
	logLevel *slog.LevelVar
	stopOnce sync.Once
}

// Start starts the server on cfg.DataDir and returns once the frontend accepts connections, the
// namespace exists with its search attributes, and the Web UI (when enabled) answers HTTP. ctx
// bounds the start (default two minutes without a deadline); it does not stop the server later:
// call Stop.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartTimeout)
		defer cancel()
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("devtemporal: data dir %s: %w", cfg.DataDir, err)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("devtemporal: create data dir: %w", err)
	}
	lock, err := lockDataDir(dataDir)
	if err != nil {
		return nil, fmt.Errorf("devtemporal: %w", err)
	}
	s := &Server{
		cfg:      cfg,
		frontend: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		lock:     lock,
		logLevel: new(slog.LevelVar),
	}
	s.logLevel.Set(minServerLevel)
	started := false
	defer func() {
		if !started {
			s.Stop()
		}
	}()
	if err := s.start(ctx, dataDir); err != nil {
		return nil, fmt.Errorf("devtemporal: %w", err)
	}
	started = true
	return s, nil
}

func (s *Server) start(ctx context.Context, dataDir string) error {
	cfg := s.cfg
	if err := checkPortFree(cfg.Host, cfg.Port, "temporal frontend"); err != nil {
		return err
	}
	if cfg.UIEnabled {
		if err := checkPortFree(cfg.Host, cfg.UIPort, "temporal web ui"); err != nil {
			return err
		}
	}
	logger := newServerLogger(cfg.Logger, s.logLevel)

	sqlCfg := sqlConfig(filepath.Join(dataDir, dbFileName))
	if err := ensureSchema(sqlCfg, logger); err != nil {
		return err
	}
	if err := createNamespace(sqlCfg, clusterName, cfg); err != nil {
		return err
	}

	free, err := FreePorts(cfg.Host, 4)
	if err != nil {
		return err
	}
	conf := serverConfig(cfg, sqlCfg, servicePorts{history: free[0], matching: free[1], worker: free[2], frontendHTTP: free[3]})
	server, err := temporalserver.New(conf, logger, dynamicConfig())
	if err != nil {
		return err
	}
	// Set before Start: when Start fails half-way, Stop stops the services that did start.
	s.temporal = server
	if err := server.Start(); err != nil {
		return fmt.Errorf("start server: %w", err)
	}

	if err := s.waitReady(ctx); err != nil {
		return err
	}
	if cfg.UIEnabled {
		ui, err := startUI(ctx, cfg, s.frontend, cfg.Logger)
		if err != nil {
			return err
		}
		s.ui = ui
	}
	return nil
}

// waitReady waits until a client can dial the frontend and see the namespace, then makes sure the
// namespace's search attributes are registered and usable (a namespace created on an earlier run
// gets the attributes added since).
func (s *Server) waitReady(ctx context.Context) error {
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	err = retry(ctx, func() error {
		_, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: s.cfg.Namespace})
		return err
	})
	if err != nil {
		return fmt.Errorf("namespace %s not visible on %s: %w", s.cfg.Namespace, s.frontend, err)
	}
	return temporalsetup.EnsureSearchAttributes(ctx, c, s.cfg.Namespace, s.cfg.SearchAttributes)
}

// dial connects an SDK client to the frontend, retrying while it comes up.
func (s *Server) dial(ctx context.Context) (client.Client, error) {
	var c client.Client
	err := retry(ctx, func() error {
		var err error
		c, err = client.DialContext(ctx, client.Options{
			HostPort:  s.frontend,
			Namespace: s.cfg.Namespace,
			Logger:    sdklog.NewStructuredLogger(slog.New(levelFilter{min: s.logLevel, next: s.cfg.Logger.Handler()})),
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dial frontend %s: %w", s.frontend, err)
	}
	return c, nil
}

// retry calls fn every 20 ms until it succeeds or ctx ends, returning fn's last error joined
// with ctx's.
func retry(ctx context.Context, fn func() error) error {
	return temporalserver.Retry(ctx, 20*time.Millisecond, fn)
}

// FrontendAddress is the host:port SDK clients dial, e.g. "127.0.0.1:7233".
func (s *Server) FrontendAddress() string { return s.frontend }

// Namespace is the namespace the server created (or found) at start.
func (s *Server) Namespace() string { return s.cfg.Namespace }

// UIAddress is the Web UI's base URL, e.g. "http://127.0.0.1:8233", or "" when the UI is disabled.
func (s *Server) UIAddress() string {
	if s.ui == nil {
		return ""
	}
	return s.ui.url
}

// Stop stops the Web UI, then the server, and releases the data dir. It is safe to call more
// than once. Workflows in flight stay in the database and resume at the next Start.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.ui != nil {
			s.ui.stop()
		}
		if s.temporal != nil {
			s.logLevel.Set(slog.LevelError)
			if err := s.temporal.Stop(); err != nil {
				s.cfg.Logger.Warn("stop temporal server", "error", err)
			}
		}
		s.lock.release()
	})
}

// servicePorts are the ports picked at start for everything but the frontend's gRPC port.
type servicePorts struct {
	history, matching, worker int
	// frontendHTTP serves the frontend's HTTP API (and Nexus); nothing in Gooni uses it, but
	// without it the server warns at every start.
	frontendHTTP int
}

// serverConfig is the static configuration of a single-host server: every service in this
// process, one history shard (fixed when the database is created), persistence and visibility in
// the one SQLite file, archival off.
func serverConfig(c Config, sqlCfg *config.SQL, ports servicePorts) *config.Config {
	return temporalserver.Config(temporalserver.Options{
		BindHost:  c.Host,
		Broadcast: c.Host,
		Ports: temporalserver.Ports{Frontend: c.Port, FrontendHTTP: ports.frontendHTTP,
			History: ports.history, Matching: ports.matching, Worker: ports.worker},
		Persistence: config.Persistence{
			DefaultStore:     storeName,
			VisibilityStore:  storeName,
			NumHistoryShards: 1,
			DataStores:       map[string]config.DataStore{storeName: {SQL: sqlCfg}},
		},
	})
}

// dynamicConfig holds the dynamic settings that differ from the server's defaults in dev.
func dynamicConfig() dynamicconfig.StaticClient {
	return dynamicconfig.StaticClient{
		// No network in dev and tests: no periodic version check against temporal.io.
		dynamicconfig.EnableServerVersionCheck.Key(): false,
		// Search attributes added at start are usable at once instead of after a cache refresh.
		dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): true,
		// That refresh reads the database on every use: raise the persistence rate limits to
		// match (the Temporal CLI's dev server does the same).
		dynamicconfig.FrontendPersistenceMaxQPS.Key(): 10000,
		dynamicconfig.HistoryPersistenceMaxQPS.Key():  45000,
		// The Web UI lists and counts workflows on every page; the default of 10 queries per
		// second throttles it.
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
		// Bound the history cache's memory in long dev sessions (default 128k entries).
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key(): 8192,
		// Every hand-off of a workflow (a workflow task or an activity task to matching, a close)
		// is a transfer task that the history shard's transfer queue reads from the database
		// before it dispatches it. The default caps those reads at 20 per second per shard, with
		// a burst of 20: sized for clusters of hundreds of shards, it is the whole server's budget
		// here, where the one shard serves everything. A few workflows a second drain the burst,
		// and from then on every hand-off waits for the next 50 ms slot: measured 30-45 ms per
		// hand-off, 145 ms for a workflow whose one activity runs on another task queue, against
		// 2-5 ms per hand-off and 27 ms with this limit. Reads happen only when a commit adds
		// tasks (and once a minute), and notifications that arrive during a read are folded into
		// the next, so the cap is a guard against a runaway, not a pace.
		dynamicconfig.TransferProcessorMaxPollRPS.Key(): 1000,
	}
}
