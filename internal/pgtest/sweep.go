package pgtest

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Each throwaway cluster directory holds lockName, flock-ed by its test
// binary for the whole run. The kernel drops the lock when the process dies,
// however it dies, and the attached server dies with it: a directory whose
// lock can be taken is garbage.
const (
	dirPattern = "gooni-pgtest-*"
	lockName   = "owner.lock"
	// unlockedGrace covers the moment between creating a directory and
	// locking it, when another binary must not take it for garbage.
	unlockedGrace = 10 * time.Minute
)

// lockDir creates and locks dir's owner file; closing the file unlocks it.
func lockDir(dir string) (*os.File, error) {
	return lockFile(dir, os.O_CREATE)
}

// lockFile opens (with extra flags) and locks dir's owner file without
// waiting.
func lockFile(dir string, flags int) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|flags, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// sweep removes cluster directories left by test binaries that died before
// removing their own (panic, -timeout, kill).
func sweep() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPattern))
	for _, dir := range dirs {
		f, err := lockFile(dir, 0)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			continue // its binary is running
		}
		if err != nil {
			// No lock file yet: being set up, unless it is old.
			if fi, serr := os.Stat(dir); serr != nil || time.Since(fi.ModTime()) < unlockedGrace {
				continue
			}
		}
		_ = os.RemoveAll(dir)
		if f != nil {
			f.Close()
		}
	}
}
