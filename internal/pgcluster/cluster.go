// Package pgcluster starts and stops a local PostgreSQL cluster from the
// installed server binaries, for dev mode and tests.
//
// PostgreSQL refuses to run as root: when this process is root, every
// PostgreSQL program runs as the "postgres" user, which then owns the data
// directory (see [Config.Dir] and prepareDir for the permissions touched).
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrPortInUse means the server could not listen on the configured port.
var ErrPortInUse = errors.New("port in use")

// duplicateDatabase is the SQLSTATE of CREATE DATABASE on an existing name.
const duplicateDatabase = "42P04"

// logName is the server's log file inside the data directory.
const logName = "postgresql.log"

// Cluster is a running local PostgreSQL cluster.
type Cluster struct {
	cfg   Config
	bin   string
	as    runAs
	log   *slog.Logger
	child *child // the attached server this Cluster started, or nil
}

// Start makes sure a server runs on cfg.Dir and that cfg.Database exists.
//
// An empty (or missing) Dir is initialised first: superuser "postgres",
// trust authentication (the server listens on cfg.Host only), UTF8, C
// locale. When a server already runs on Dir it is reused; a postmaster.pid
// left by a crash is removed. Listen address, port and durability settings
// are rewritten on every start.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	bin, err := findBinDir(cfg.BinDir)
	if err != nil {
		return nil, err
	}
	as, err := lookupRunAs()
	if err != nil {
		return nil, err
	}
	c := &Cluster{cfg: cfg, bin: bin, as: as, log: cfg.Logger.With("dir", cfg.Dir, "port", cfg.Port)}

	empty, err := prepareDir(cfg.Dir, as, c.log)
	if err != nil {
		return nil, err
	}
	if empty {
		if err := c.initdb(ctx); err != nil {
			return nil, err
		}
	}
	running, err := c.running()
	if err != nil {
		return nil, err
	}
	if running {
		c.log.Info("pgcluster: reusing running server")
	} else if err := c.start(ctx); err != nil {
		return nil, err
	}
	if err := c.ensureDatabase(ctx, cfg.Database); err != nil {
		return nil, err
	}
	return c, nil
}

// URL returns the connection URL of database db as the superuser.
func (c *Cluster) URL(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Host:     net.JoinHostPort(c.cfg.Host, strconv.Itoa(c.cfg.Port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Stop shuts the server down (fast mode: sessions are disconnected, work is
// checkpointed) and waits for it. Stopping a stopped cluster is a no-op.
func (c *Cluster) Stop(ctx context.Context) error {
	pf, ok, err := readPidFile(c.cfg.Dir)
	if err != nil {
		return err
	}
	if ok && postmasterAlive(pf.pid, c.cfg.Dir) {
		out, err := c.as.command(ctx, c.path("pg_ctl"), "stop", "-D", c.cfg.Dir, "-m", "fast", "-w", "-t", "60", "-s").CombinedOutput()
		if err != nil {
			return fmt.Errorf("pgcluster: pg_ctl stop: %w: %s", err, out)
		}
	}
	if c.child != nil {
		if err := c.child.wait(ctx); err != nil {
			return err
		}
	}
	c.log.Info("pgcluster: stopped")
	return nil
}

// initdb creates a new cluster in the (empty) data directory.
func (c *Cluster) initdb(ctx context.Context) error {
	args := []string{"-D", c.cfg.Dir, "-U", "postgres", "-E", "UTF8", "--no-locale", "--auth=trust"}
	if c.cfg.Fast {
		args = append(args, "--no-sync")
	}
	out, err := c.as.command(ctx, c.path("initdb"), args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgcluster: initdb %s: %w: %s", c.cfg.Dir, err, out)
	}
	c.log.Info("pgcluster: initialised data directory")
	return nil
}

// running reports whether a live server owns the data directory, removing a
// stale postmaster.pid. A live server on another port is an error: its URL
// would not be the configured one.
func (c *Cluster) running() (bool, error) {
	pf, ok, err := readPidFile(c.cfg.Dir)
	if err != nil || !ok {
		return false, err
	}
	if !postmasterAlive(pf.pid, c.cfg.Dir) {
		path := filepath.Join(c.cfg.Dir, "postmaster.pid")
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return false, fmt.Errorf("pgcluster: remove stale %s: %w", path, err)
		}
		c.log.Warn("pgcluster: removed stale postmaster.pid", "pid", pf.pid)
		return false, nil
	}
	if pf.port != 0 && pf.port != c.cfg.Port {
		return false, fmt.Errorf("pgcluster: a server (pid %d) already runs on %s with port %d, not %d: stop it (pg_ctl stop -D %s) or configure port %d",
			pf.pid, c.cfg.Dir, pf.port, c.cfg.Port, c.cfg.Dir, pf.port)
	}
	return true, nil
}

// start writes the settings and starts the server, attached or detached.
func (c *Cluster) start(ctx context.Context) error {
	if err := writeConf(c.cfg, c.as); err != nil {
		return err
	}
	logPath := filepath.Join(c.cfg.Dir, logName)
	logStart := fileSize(logPath)
	var err error
	if c.cfg.Attached {
		c.child, err = startChild(ctx, c.path("postgres"), c.cfg.Dir, logPath, c.as)
	} else {
		var out []byte
		out, err = c.as.command(ctx, c.path("pg_ctl"), "start", "-D", c.cfg.Dir, "-l", logPath, "-w", "-t", "60", "-s").CombinedOutput()
		if err != nil {
			err = fmt.Errorf("pg_ctl start: %w: %s", err, out)
		}
	}
	if err != nil {
		tail := logTail(logPath, logStart)
		if portInUse(tail) {
			return fmt.Errorf("pgcluster: start on %s:%d: %w: %s", c.cfg.Host, c.cfg.Port, ErrPortInUse, tail)
		}
		return fmt.Errorf("pgcluster: start %s: %w\nserver log:\n%s", c.cfg.Dir, err, tail)
	}
	c.log.Info("pgcluster: started", "attached", c.cfg.Attached, "fast", c.cfg.Fast)
	return nil
}

// ensureDatabase creates database name unless it exists.
func (c *Cluster) ensureDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("pgcluster: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "select exists(select 1 from pg_database where datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("pgcluster: look up database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "create database "+pgx.Identifier{name}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == duplicateDatabase {
		return nil // created concurrently
	}
	if err != nil {
		return fmt.Errorf("pgcluster: create database %s: %w", name, err)
	}
	c.log.Info("pgcluster: created database", "database", name)
	return nil
}

// path returns the full path of a PostgreSQL program.
func (c *Cluster) path(program string) string {
	return filepath.Join(c.bin, program)
}
