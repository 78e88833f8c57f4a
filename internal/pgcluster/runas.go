package pgcluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// serverUser is the account PostgreSQL runs as when this process is root:
// initdb, pg_ctl and postgres refuse to run as root.
const serverUser = "postgres"

// runAs says which account runs the PostgreSQL programs. The zero value runs
// them as the current user.
type runAs struct {
	cred *syscall.Credential // nil: current user
}

// lookupRunAs returns the current user when not root, else the postgres user.
func lookupRunAs() (runAs, error) {
	if os.Geteuid() != 0 {
		return runAs{}, nil
	}
	u, err := user.Lookup(serverUser)
	if err != nil {
		return runAs{}, fmt.Errorf("pgcluster: running as root needs the %q user to run PostgreSQL (it refuses root): %w", serverUser, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return runAs{}, fmt.Errorf("pgcluster: user %s uid %q: %w", serverUser, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return runAs{}, fmt.Errorf("pgcluster: user %s gid %q: %w", serverUser, u.Gid, err)
	}
	// Groups empty (not nil) drops root's supplementary groups.
	return runAs{cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}}, nil
}

// switches reports whether programs run as another user than this process.
func (r runAs) switches() bool { return r.cred != nil }

// chown gives path to the server user; a no-op when not switching users.
func (r runAs) chown(path string) error {
	if r.cred == nil {
		return nil
	}
	if err := os.Lchown(path, int(r.cred.Uid), int(r.cred.Gid)); err != nil {
		return fmt.Errorf("pgcluster: chown %s to %s: %w", path, serverUser, err)
	}
	return nil
}

// command builds a command that runs as the server user from "/", so a
// working directory the server user cannot read (such as /root) does not make
// initdb or postgres fail.
func (r runAs) command(ctx context.Context, path string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = "/"
	cmd.Env = serverEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: r.cred}
	return cmd
}

// serverEnv is this process's environment without PG* variables, which would
// otherwise override what the command line and config files say (PGDATA,
// PGPORT, PGHOST, ...), and with a C locale so messages are parseable.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LC_ALL=C")
}
