package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/temporal"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/gooni/gooni/internal/temporalserver"
	"github.com/gooni/gooni/internal/temporalsetup"
)

const (
	persistenceName = "postgres-default"
	visibilityName  = "postgres-visibility"
	startTimeout    = 2 * time.Minute
)

// server is a running Temporal server.
type server struct {
	temporal temporal.Server
	frontend string
	logger   *slog.Logger
}

// start sets up the databases, starts every service, and returns once the namespace and its
// search attributes are usable.
func start(ctx context.Context, c Config, logger *slog.Logger) (*server, error) {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	slogLevel := c.LogLevel.String()
	serverLogger := log.NewZapLogger(log.BuildZapLogger(log.Config{Level: map[string]string{
		"DEBUG": "debug", "INFO": "info", "WARN": "warn", "ERROR": "error"}[slogLevel], Format: "json"}))

	persistence, visibility, err := setupDatabases(ctx, c, serverLogger)
	if err != nil {
		return nil, err
	}
	conf := serverConfig(c, persistence, visibility)
	ts, err := temporalserver.New(conf, serverLogger, dynamicconfig.StaticClient{
		dynamicconfig.EnableServerVersionCheck.Key(): false,
		// A namespace registered at start is usable within a second, not after the default 10 s.
		dynamicconfig.NamespaceCacheRefreshInterval.Key(): time.Second,
		// Each shard's transfer queue reads new tasks (every workflow and activity hand-off)
		// at most 20 times a second by default, a budget sized for clusters of hundreds of
		// shards. With this server's few shards, a busy minute drains it and every hand-off
		// then waits for the next 50 ms slot (measured on the dev server, whose one shard hit
		// it: 30-45 ms per hand-off against 2-5 ms with the cap lifted; internal/devtemporal).
		dynamicconfig.TransferProcessorMaxPollRPS.Key(): 1000,
	})
	if err != nil {
		return nil, err
	}
	s := &server{temporal: ts, frontend: net.JoinHostPort(c.Broadcast, strconv.Itoa(c.Port)), logger: logger}
	if err := ts.Start(); err != nil {
		s.stop()
		return nil, fmt.Errorf("start server: %w", err)
	}
	if err := s.ensureNamespace(ctx, c); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// ensureNamespace registers the namespace when missing and Gooni's search attributes on it, and
// waits until both are usable.
func (s *server) ensureNamespace(ctx context.Context, c Config) error {
	var tc client.Client
	err := retry(ctx, func() error {
		var err error
		tc, err = client.DialContext(ctx, client.Options{HostPort: s.frontend, Namespace: c.Namespace,
			Logger: sdklog.NewStructuredLogger(s.logger.With("component", "temporal-sdk"))})
		return err
	})
	if err != nil {
		return fmt.Errorf("dial own frontend %s: %w", s.frontend, err)
	}
	defer tc.Close()
	err = retry(ctx, func() error {
		_, err := tc.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: c.Namespace})
		var nf *serviceerror.NamespaceNotFound
		if !errors.As(err, &nf) {
			return err
		}
		_, err = tc.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace:                        c.Namespace,
			WorkflowExecutionRetentionPeriod: durationpb.New(c.Retention),
		})
		var exists *serviceerror.NamespaceAlreadyExists
		if err == nil || errors.As(err, &exists) {
			return errors.New("namespace registered; waiting until it is visible")
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("namespace %s: %w", c.Namespace, err)
	}
	// The operator service reads the namespace registry's cache, which sees a new namespace at
	// its next refresh.
	err = retry(ctx, func() error {
		_, err := tc.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: c.Namespace})
		return err
	})
	if err != nil {
		return fmt.Errorf("namespace %s not in the registry: %w", c.Namespace, err)
	}
	return temporalsetup.EnsureSearchAttributes(ctx, tc, c.Namespace, temporalsetup.SearchAttributes())
}

// retry calls fn every 200 ms until it succeeds or ctx ends, returning fn's last error joined
// with ctx's.
func retry(ctx context.Context, fn func() error) error {
	return temporalserver.Retry(ctx, 200*time.Millisecond, fn)
}

// stop stops every service; workflows in flight stay in the database.
func (s *server) stop() {
	if err := s.temporal.Stop(); err != nil {
		s.logger.Warn("stop temporal server", "err", err)
	}
}

// serverConfig is the static configuration: every service in this process, persistence and
// visibility in their PostgreSQL databases, archival off.
func serverConfig(c Config, persistence, visibility *config.SQL) *config.Config {
	return temporalserver.Config(temporalserver.Options{
		BindHost:  c.Host,
		Broadcast: c.Broadcast,
		Ports: temporalserver.Ports{Frontend: c.Port, FrontendHTTP: c.HTTPPort,
			History: c.HistoryPort, Matching: c.MatchingPort, Worker: c.WorkerPort},
		Persistence: config.Persistence{
			DefaultStore:     persistenceName,
			VisibilityStore:  visibilityName,
			NumHistoryShards: int32(c.Shards),
			DataStores: map[string]config.DataStore{
				persistenceName: {SQL: persistence},
				visibilityName:  {SQL: visibility},
			},
		},
	})
}
