// Command gooni-temporal runs a standalone Temporal server on PostgreSQL: every service (frontend,
// history, matching, worker) in one process, persistence in the `temporal` database and
// visibility in `temporal_visibility`. At start it creates those databases when missing, sets
// up or upgrades their schemas from the schema files built into the server module, registers
// the namespace and Gooni's search attributes, and then serves until SIGTERM or SIGINT.
//
// It is how Gooni's production-topology test and a small self-hosted deployment run Temporal.
// A larger deployment runs Temporal's own images or Temporal Cloud instead; the Gooni processes
// only need TEMPORAL_ADDRESS. This is a separate binary because it links the Temporal server
// (~140 MB); `gooni` itself never does.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(os.Stderr, "gooni-temporal: %v\n", err)
		os.Exit(1)
	}
}

// Config is the server's configuration; every field has a flag and an environment variable.
type Config struct {
	// DatabaseURL (-db-url, TEMPORAL_DB_URL) is a PostgreSQL URL with user, password, host and
	// port (postgres://temporal:secret@db:5432/?sslmode=disable); its database name is ignored.
	// Required.
	DatabaseURL string
	// Database and VisibilityDatabase (-db, -visibility-db; TEMPORAL_DB,
	// TEMPORAL_VISIBILITY_DB), default temporal and temporal_visibility.
	Database, VisibilityDatabase string
	// CreateDatabases (-create-databases, TEMPORAL_CREATE_DATABASES), default true: create the
	// two databases when missing (the user needs CREATEDB).
	CreateDatabases bool
	// Host (-host, TEMPORAL_HOST), default 127.0.0.1: the IP every service binds and advertises.
	// In a container use 0.0.0.0 for binding with -broadcast set to the container's address.
	Host string
	// Broadcast (-broadcast, TEMPORAL_BROADCAST_ADDRESS), default Host (or 127.0.0.1 when Host
	// is 0.0.0.0): the address the services advertise to each other.
	Broadcast string
	// Port (-port, TEMPORAL_PORT), default 7233: the frontend gRPC port SDK clients dial.
	Port int
	// HistoryPort, MatchingPort, WorkerPort, HTTPPort (-history-port …), defaults 7234, 7235,
	// 7239, 7243: the internal services' gRPC ports and the frontend's HTTP port.
	HistoryPort, MatchingPort, WorkerPort, HTTPPort int
	// Shards (-shards, TEMPORAL_NUM_HISTORY_SHARDS), default 4: history shards. Fixed when the
	// database is first used: changing it later needs a new database. Production: 512 or more
	// for a busy cluster; a few are plenty for one host.
	Shards int
	// Namespace (-namespace, TEMPORAL_NAMESPACE), default "default", and its Retention
	// (-retention, TEMPORAL_RETENTION), default 72h.
	Namespace string
	Retention time.Duration
	// LogLevel (-log-level, TEMPORAL_LOG_LEVEL), default warn.
	LogLevel slog.Level
}

func parse(args []string, getenv func(string) string) (Config, error) {
	fs := flag.NewFlagSet("gooni-temporal", flag.ContinueOnError)
	str := func(name, env, def, usage string) *string {
		v := getenv(env)
		if v == "" {
			v = def
		}
		return fs.String(name, v, usage+" ("+env+")")
	}
	num := func(name, env string, def int, usage string) *string {
		return str(name, env, strconv.Itoa(def), usage)
	}
	dbURL := str("db-url", "TEMPORAL_DB_URL", "", "PostgreSQL URL: postgres://user:pass@host:5432/?sslmode=disable")
	db := str("db", "TEMPORAL_DB", "temporal", "persistence database")
	vdb := str("visibility-db", "TEMPORAL_VISIBILITY_DB", "temporal_visibility", "visibility database")
	create := str("create-databases", "TEMPORAL_CREATE_DATABASES", "true", "create the databases when missing")
	host := str("host", "TEMPORAL_HOST", "127.0.0.1", "IP address the services bind")
	broadcast := str("broadcast", "TEMPORAL_BROADCAST_ADDRESS", "", "IP address the services advertise (default: host)")
	port := num("port", "TEMPORAL_PORT", 7233, "frontend gRPC port")
	hport := num("history-port", "TEMPORAL_HISTORY_PORT", 7234, "history gRPC port")
	mport := num("matching-port", "TEMPORAL_MATCHING_PORT", 7235, "matching gRPC port")
	wport := num("worker-port", "TEMPORAL_WORKER_PORT", 7239, "worker service gRPC port")
	httpPort := num("http-port", "TEMPORAL_HTTP_PORT", 7243, "frontend HTTP port")
	shards := num("shards", "TEMPORAL_NUM_HISTORY_SHARDS", 4, "history shards (fixed at the first start on a database)")
	ns := str("namespace", "TEMPORAL_NAMESPACE", "default", "namespace to register")
	retention := str("retention", "TEMPORAL_RETENTION", "72h", "closed-workflow retention of the namespace")
	level := str("log-level", "TEMPORAL_LOG_LEVEL", "warn", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	var errs []error
	c := Config{DatabaseURL: *dbURL, Database: *db, VisibilityDatabase: *vdb, Host: *host, Broadcast: *broadcast, Namespace: *ns}
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("TEMPORAL_DB_URL (-db-url) is not set: give the PostgreSQL URL, e.g. postgres://temporal:secret@db:5432/?sslmode=disable"))
	}
	var err error
	if c.CreateDatabases, err = strconv.ParseBool(*create); err != nil {
		errs = append(errs, fmt.Errorf("TEMPORAL_CREATE_DATABASES=%q: use true or false", *create))
	}
	for _, p := range []struct {
		name string
		raw  string
		dst  *int
	}{{"TEMPORAL_PORT", *port, &c.Port}, {"TEMPORAL_HISTORY_PORT", *hport, &c.HistoryPort}, {"TEMPORAL_MATCHING_PORT", *mport, &c.MatchingPort},
		{"TEMPORAL_WORKER_PORT", *wport, &c.WorkerPort}, {"TEMPORAL_HTTP_PORT", *httpPort, &c.HTTPPort}} {
		n, err := strconv.Atoi(p.raw)
		if err != nil || n < 1 || n > 65535 {
			errs = append(errs, fmt.Errorf("%s=%q is not a port number (1-65535)", p.name, p.raw))
		}
		*p.dst = n
	}
	if c.Shards, err = strconv.Atoi(*shards); err != nil || c.Shards < 1 {
		errs = append(errs, fmt.Errorf("TEMPORAL_NUM_HISTORY_SHARDS=%q is not a positive number", *shards))
	}
	if c.Retention, err = time.ParseDuration(*retention); err != nil || c.Retention < 24*time.Hour {
		errs = append(errs, fmt.Errorf("TEMPORAL_RETENTION=%q: use a duration of at least 24h (Temporal's minimum), e.g. 72h", *retention))
	}
	if err := c.LogLevel.UnmarshalText([]byte(*level)); err != nil {
		errs = append(errs, fmt.Errorf("TEMPORAL_LOG_LEVEL=%q: use debug, info, warn or error", *level))
	}
	if c.Broadcast == "" {
		c.Broadcast = c.Host
		if c.Host == "0.0.0.0" {
			c.Broadcast = "127.0.0.1"
		}
	}
	return c, errors.Join(errs...)
}

func run(ctx context.Context, args []string, getenv func(string) string) error {
	cfg, err := parse(args, getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if getenv("GOONI_LOG_FORMAT") == "text" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	}
	srv, err := start(ctx, cfg, logger)
	if err != nil {
		return err
	}
	logger.Info("temporal ready", "frontend", srv.frontend, "namespace", cfg.Namespace, "shards", cfg.Shards)
	fmt.Println("temporal ready") // for scripts and tests that wait on stdout
	<-ctx.Done()
	logger.Info("temporal stopping")
	srv.stop()
	return nil
}
