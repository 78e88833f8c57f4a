package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// pidFile is the part of postmaster.pid this package reads.
type pidFile struct {
	pid    int
	port   int
	status string // "starting", "ready", "stopping", "standby" or "" (not yet written)
}

// readPidFile parses dir/postmaster.pid; ok is false when there is none.
// Line 1 holds the postmaster's PID, line 4 its port, line 8 its status.
func readPidFile(dir string) (pf pidFile, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if errors.Is(err, fs.ErrNotExist) {
		return pidFile{}, false, nil
	}
	if err != nil {
		return pidFile{}, false, fmt.Errorf("pgcluster: read postmaster.pid: %w", err)
	}
	// A postmaster writes the file in steps: a short one is being written or
	// was left by a crash during start-up, so missing lines stay zero.
	line := func(n int) string {
		lines := strings.Split(string(b), "\n")
		if n > len(lines) {
			return ""
		}
		return strings.TrimSpace(lines[n-1])
	}
	pf.pid, _ = strconv.Atoi(line(1))
	pf.port, _ = strconv.Atoi(line(4))
	pf.status = line(8)
	return pf, true, nil
}

// postmasterAlive reports whether pid is a live postmaster serving dir.
//
// A PID left in postmaster.pid by a crash can be reused by an unrelated
// process, and a killed postmaster can linger as a zombie when nothing reaps
// orphans (containers): PostgreSQL then refuses to start ("lock file already
// exists"). On Linux the process's state and working directory (a postmaster
// chdirs into its data directory) tell these cases apart; elsewhere a live
// PID is trusted.
func postmasterAlive(pid int, dir string) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	proc := "/proc/" + strconv.Itoa(pid)
	if stat, err := os.ReadFile(proc + "/stat"); err == nil {
		// Format: pid (comm) state ...; comm may hold spaces and parentheses.
		if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return false
		}
	}
	cwd, err := os.Readlink(proc + "/cwd")
	if err != nil {
		return true // no /proc, or not ours to inspect: trust the PID
	}
	want, err := filepath.EvalSymlinks(dir)
	if err != nil {
		want = dir
	}
	return cwd == want
}
