package devtemporal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// dataDirLock is an exclusive flock on DataDir/temporal.lock. Two servers on one SQLite file would
// corrupt each other's shard ownership; the lock makes the second one fail fast instead. The
// kernel releases it when the process dies, so a crash never leaves a stale lock.
type dataDirLock struct {
	f *os.File
}

func lockDataDir(dir string) (*dataDirLock, error) {
	path := filepath.Join(dir, "temporal.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data dir %s is in use by another dev Temporal server (lock %s held): stop it or use another data dir", dir, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &dataDirLock{f: f}, nil
}

// release drops the lock; closing the file releases the flock.
func (l *dataDirLock) release() {
	_ = l.f.Close()
}
