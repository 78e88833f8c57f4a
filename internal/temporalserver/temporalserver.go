// Package temporalserver holds the configuration shared by Gooni's in-process Temporal servers: a
// single cluster with every service (frontend, history, matching, worker) in one process on
// static hosts, archival off.
//
// It links go.temporal.io/server. It is for the dev command (internal/devtemporal), tests and the
// standalone gooni-temporal binary only; cmd/gooni's production build must never import it
// (`make check-prod-binary` fails when it does).
package temporalserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/temporal"
)

// ClusterName names the single cluster; it is stored in the database on first start.
const ClusterName = "active"

// Ports are the services' ports.
type Ports struct {
	// Frontend is the frontend's gRPC port, the one SDK clients dial.
	Frontend int
	// FrontendHTTP serves the frontend's HTTP API (and Nexus); nothing in Gooni uses it, but
	// without it the server warns at every start.
	FrontendHTTP int
	History      int
	Matching     int
	Worker       int
}

// Options are what differs between the servers built on this package.
type Options struct {
	// BindHost is the address every service listens on.
	BindHost string
	// Broadcast is the address the services advertise to each other and to clients.
	Broadcast string
	Ports     Ports
	// Persistence names the data stores for persistence and visibility and the history shards.
	Persistence config.Persistence
}

// Config is the static configuration of a single-host server: every service in this process,
// the persistence opts gives, archival off.
func Config(opts Options) *config.Config {
	frontend := net.JoinHostPort(opts.Broadcast, strconv.Itoa(opts.Ports.Frontend))
	service := func(port int) config.Service {
		return config.Service{RPC: config.RPC{GRPCPort: port, BindOnIP: opts.BindHost}}
	}
	conf := &config.Config{}
	conf.Global.Membership = config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: opts.Broadcast}
	conf.Persistence = opts.Persistence
	conf.ClusterMetadata = &cluster.Config{
		EnableGlobalNamespace:    false,
		FailoverVersionIncrement: 10,
		MasterClusterName:        ClusterName,
		CurrentClusterName:       ClusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			ClusterName: {Enabled: true, InitialFailoverVersion: 1, RPCAddress: frontend,
				HTTPAddress: net.JoinHostPort(opts.Broadcast, strconv.Itoa(opts.Ports.FrontendHTTP))},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	frontendService := service(opts.Ports.Frontend)
	frontendService.RPC.HTTPPort = opts.Ports.FrontendHTTP
	conf.Services = map[string]config.Service{
		string(primitives.FrontendService): frontendService,
		string(primitives.HistoryService):  service(opts.Ports.History),
		string(primitives.MatchingService): service(opts.Ports.Matching),
		string(primitives.WorkerService):   service(opts.Ports.Worker),
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	// The server's internal clients (e.g. its system workflows) dial the frontend here.
	conf.PublicClient.HostPort = frontend
	return conf
}

// New creates (does not start) a server with every service of conf in this process, on static
// hosts at conf's broadcast address: no ringpop membership, no membership ports, a faster start.
func New(conf *config.Config, logger log.Logger, dynamicConfig dynamicconfig.Client) (temporal.Server, error) {
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return nil, fmt.Errorf("authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return nil, fmt.Errorf("claim mapper: %w", err)
	}
	hosts := make(map[primitives.ServiceName]static.Hosts, 4)
	for _, svc := range []primitives.ServiceName{primitives.FrontendService, primitives.HistoryService,
		primitives.MatchingService, primitives.WorkerService} {
		port := conf.Services[string(svc)].RPC.GRPCPort
		hosts[svc] = static.SingleLocalHost(net.JoinHostPort(conf.Global.Membership.BroadcastAddress, strconv.Itoa(port)))
	}
	server, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dynamicConfig),
	)
	if err != nil {
		return nil, fmt.Errorf("create server: %w", err)
	}
	return server, nil
}

// Retry calls fn every interval until it succeeds or ctx ends, returning fn's last error joined
// with ctx's. It serves the start-up waits on a server's own frontend.
func Retry(ctx context.Context, interval time.Duration, fn func() error) error {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		err := fn()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-ticker.C:
		}
	}
}
