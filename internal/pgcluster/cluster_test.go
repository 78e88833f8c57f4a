package pgcluster_test

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/pgcluster"
)

// freePort returns a TCP port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// testConfig returns a fast cluster config in a fresh directory whose parent
// is a 0700 t.TempDir(), like a real test run.
func testConfig(t *testing.T) pgcluster.Config {
	t.Helper()
	return pgcluster.Config{Dir: filepath.Join(t.TempDir(), "data", "pg"), Port: freePort(t), Fast: true}
}

// start starts a cluster and stops it at the end of the test.
func start(t *testing.T, cfg pgcluster.Config) *pgcluster.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c, err := pgcluster.Start(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		// Stop before t.TempDir removes the directory, or the server lingers.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		require.NoError(t, c.Stop(ctx))
	})
	return c
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestStartStopRestartKeepsData(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	c := start(t, cfg)
	require.Equal(t, "postgres://postgres@127.0.0.1:"+strconv.Itoa(cfg.Port)+"/gooni?sslmode=disable", c.URL("gooni"))

	conn := connect(t, c.URL("gooni"))
	_, err := conn.Exec(t.Context(), "create table kept (v text); insert into kept values ('hello')")
	require.NoError(t, err)
	require.NoError(t, conn.Close(t.Context()))

	// A second Start on a running directory reuses the server.
	again, err := pgcluster.Start(t.Context(), cfg)
	require.NoError(t, err)
	require.Equal(t, c.URL("gooni"), again.URL("gooni"))

	require.NoError(t, c.Stop(t.Context()))
	require.NoError(t, c.Stop(t.Context()), "stopping a stopped cluster is a no-op")
	_, err = os.Stat(filepath.Join(cfg.Dir, "postmaster.pid"))
	require.ErrorIs(t, err, os.ErrNotExist)

	c = start(t, cfg)
	var v string
	require.NoError(t, connect(t, c.URL("gooni")).QueryRow(t.Context(), "select v from kept").Scan(&v))
	require.Equal(t, "hello", v)
}

func TestStartAttachedServerStopsWithCluster(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Attached = true
	cfg.Database = "other"
	c := start(t, cfg)

	var db string
	require.NoError(t, connect(t, c.URL("other")).QueryRow(t.Context(), "select current_database()").Scan(&db))
	require.Equal(t, "other", db)

	pid := postmasterPID(t, cfg.Dir)
	require.NoError(t, c.Stop(t.Context()))
	require.ErrorIs(t, syscall.Kill(pid, 0), syscall.ESRCH, "the attached server has exited and been reaped")
}

func TestStartRemovesStalePidFile(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Attached = true
	c := start(t, cfg)
	require.NoError(t, c.Stop(t.Context()))

	// After a crash the recorded PID may belong to an unrelated live process;
	// PostgreSQL alone would refuse to start ("lock file already exists").
	other := exec.Command("sleep", "60")
	require.NoError(t, other.Start())
	t.Cleanup(func() { _ = other.Process.Kill(); _ = other.Wait() })
	stale := strconv.Itoa(other.Process.Pid) + "\n" + cfg.Dir + "\n1700000000\n" + strconv.Itoa(cfg.Port) + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(cfg.Dir, "postmaster.pid"), []byte(stale), 0o600))

	c = start(t, cfg)
	require.NotEqual(t, other.Process.Pid, postmasterPID(t, cfg.Dir))
	require.NoError(t, connect(t, c.URL("gooni")).Ping(t.Context()))
}

func TestStartReportsPortInUse(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	cfg := testConfig(t)
	cfg.Port = l.Addr().(*net.TCPAddr).Port
	cfg.Attached = true

	_, err = pgcluster.Start(t.Context(), cfg)
	require.ErrorIs(t, err, pgcluster.ErrPortInUse)
}

func TestStartWithoutBinariesSaysHowToInstall(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.BinDir = t.TempDir()

	_, err := pgcluster.Start(t.Context(), cfg)
	require.ErrorIs(t, err, pgcluster.ErrNoBinaries)
	require.Contains(t, err.Error(), "install PostgreSQL (apt-get install postgresql) or set DATABASE_URL")
}

func TestStartRefusesForeignNonEmptyDir(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	require.NoError(t, os.MkdirAll(cfg.Dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(cfg.Dir, "notes.txt"), []byte("mine"), 0o644))

	_, err := pgcluster.Start(t.Context(), cfg)
	require.Error(t, err)
	require.Contains(t, err.Error(), "neither empty nor a PostgreSQL data directory")
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]pgcluster.Config{
		"missing dir": {Port: 5432},
		"bad port":    {Dir: t.TempDir(), Port: 70000},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := pgcluster.Start(t.Context(), cfg)
			require.Error(t, err)
			require.True(t, strings.Contains(err.Error(), "Config.Dir") || strings.Contains(err.Error(), "Config.Port"), err.Error())
		})
	}
}

// postmasterPID reads the PID of the running server from its lock file.
func postmasterPID(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	require.NoError(t, err)
	return pid
}
