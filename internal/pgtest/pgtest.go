// Package pgtest gives tests a real PostgreSQL database: DATABASE_URL when
// set, else a throwaway cluster started once per test binary.
//
// Usage, once per package:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// then, in each (parallel) test, [NewSchema] for a DSN isolated in its own
// schema, or [NewStore] for a migrated store on one.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gooni/gooni/internal/pgcluster"
)

// databaseURL is the run's database, set by Main.
var databaseURL string

// Main starts the database, runs the tests and stops it, returning the exit
// code for os.Exit. The throwaway cluster (Fast, Attached) lives in a temp
// directory that is removed after the server stops; if the test binary
// dies first (panic, -timeout, kill) the server dies with it and only the
// directory is left behind in $TMPDIR (gooni-pgtest-*), and the next Main
// removes it.
func Main(m *testing.M) int {
	url, stop, err := start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	databaseURL = url
	code := m.Run()
	if err := stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// URL returns the run's database URL (shared by every test: prefer
// [NewSchema] for isolation). It fails the test when [Main] did not run and
// DATABASE_URL is unset.
func URL(t testing.TB) string {
	t.Helper()
	if databaseURL != "" {
		return databaseURL
	}
	if url := os.Getenv("DATABASE_URL"); url != "" {
		return url
	}
	t.Fatal("pgtest: no database: add `func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }` to the package, or set DATABASE_URL")
	return ""
}

// start returns DATABASE_URL, or starts a throwaway cluster on a free port.
func start() (url string, stop func() error, err error) {
	if url := os.Getenv("DATABASE_URL"); url != "" {
		return url, func() error { return nil }, nil
	}
	sweep()
	dir, err := os.MkdirTemp("", dirPattern)
	if err != nil {
		return "", nil, err
	}
	lock, err := lockDir(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := pgcluster.Config{
		Dir:      filepath.Join(dir, "pg"),
		Database: "gooni",
		Fast:     true,
		Attached: true,
		Logger:   slog.New(slog.DiscardHandler),
	}
	var c *pgcluster.Cluster
	// Another process can take the free port before the server binds it.
	for range 3 {
		if cfg.Port, err = freePort(); err != nil {
			break
		}
		if c, err = pgcluster.Start(ctx, cfg); !errors.Is(err, pgcluster.ErrPortInUse) {
			break
		}
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		lock.Close()
		return "", nil, err
	}
	stop = func() error {
		defer lock.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// Stop before removing, or the server keeps running without its files.
		if err := c.Stop(ctx); err != nil {
			return fmt.Errorf("stop test cluster (left in %s): %w", dir, err)
		}
		return os.RemoveAll(dir)
	}
	return c.URL(cfg.Database), stop, nil
}

// freePort returns a loopback TCP port nothing listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
