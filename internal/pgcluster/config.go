package pgcluster

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
)

// Config describes one local PostgreSQL cluster. Defaults are applied in one
// place, [Config.withDefaults]; [Start] validates the result.
type Config struct {
	// Dir is the cluster's data directory. Required. It is created when
	// missing and initialised with initdb when empty. The server's log file
	// (postgresql.log) and, when the path is short enough, its Unix socket
	// live inside it.
	Dir string

	// Port is the TCP port the server listens on. Default 5432.
	Port int

	// Host is the address the server listens on and URLs point at.
	// Default 127.0.0.1.
	Host string

	// Database is created when missing, after the server is up.
	// Default "gooni".
	Database string

	// BinDir holds initdb, pg_ctl and postgres. Default: the directory of
	// initdb found on PATH (symlinks resolved), else the newest
	// /usr/lib/postgresql/*/bin.
	BinDir string

	// Fast trades durability for speed (fsync, synchronous_commit and
	// full_page_writes off, initdb without sync). For throwaway test
	// clusters only: a crash can corrupt the data. Default false.
	Fast bool

	// Attached runs postgres as a child of this process instead of through
	// `pg_ctl start`, with a parent-death signal (Linux): the server dies
	// with this process even when it panics or is killed, so no orphan keeps
	// the port. Meant for test harnesses. A detached cluster (the default)
	// outlives this process and is reused by the next [Start] on the same Dir.
	Attached bool

	// Logger receives lifecycle events. Default: discard.
	Logger *slog.Logger
}

// withDefaults returns a copy of c with every zero field set to its default.
func (c Config) withDefaults() Config {
	if c.Port == 0 {
		c.Port = 5432
	}
	if c.Host == "" {
		c.Host = "127.0.0.1"
	}
	if c.Database == "" {
		c.Database = "gooni"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Dir != "" {
		if abs, err := filepath.Abs(c.Dir); err == nil {
			c.Dir = abs
		}
	}
	return c
}

// validate reports the first field that cannot work, saying what to do.
func (c Config) validate() error {
	if c.Dir == "" {
		return errors.New("pgcluster: Config.Dir is required: set the cluster data directory")
	}
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("pgcluster: Config.Port %d is out of range: use 1-65535", c.Port)
	}
	return nil
}
