package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
)

// prepareDir makes dir usable as a data directory and reports whether it is
// empty (so initdb must run).
//
// Directories it creates get mode 0755 (dir itself 0700, as PostgreSQL
// requires). When the server runs as another user (this process is root), it
// chowns dir to that user and adds o+x — and nothing else — to any existing
// ancestor that user could not traverse, e.g. a t.TempDir() parent (0700).
// It changes nothing else it did not create.
func prepareDir(dir string, as runAs, log *slog.Logger) (empty bool, err error) {
	created, err := mkdirAll(dir)
	if err != nil {
		return false, err
	}
	for _, d := range created {
		mode := os.FileMode(0o755)
		if d == dir {
			mode = 0o700
		}
		if err := os.Chmod(d, mode); err != nil {
			return false, fmt.Errorf("pgcluster: chmod %s: %w", d, err)
		}
	}
	if as.switches() {
		if err := makeTraversable(filepath.Dir(dir), as, log); err != nil {
			return false, err
		}
		if err := as.chown(dir); err != nil {
			return false, err
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("pgcluster: read %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return true, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		return false, fmt.Errorf("pgcluster: %s is neither empty nor a PostgreSQL data directory (no PG_VERSION): choose another Dir", dir)
	}
	return false, nil
}

// mkdirAll is os.MkdirAll that returns the directories it created, outermost
// first.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err == nil {
			if !fi.IsDir() {
				return nil, fmt.Errorf("pgcluster: %s is not a directory", d)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("pgcluster: stat %s: %w", d, err)
		}
		missing = append(missing, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	var created []string
	for i := len(missing) - 1; i >= 0; i-- {
		if err := os.Mkdir(missing[i], 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return created, fmt.Errorf("pgcluster: create %s: %w", missing[i], err)
		}
		created = append(created, missing[i])
	}
	return created, nil
}

// makeTraversable adds o+x to dir and each ancestor the server user cannot
// search through its owner or group bits.
func makeTraversable(dir string, as runAs, log *slog.Logger) error {
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("pgcluster: stat %s: %w", d, err)
		}
		if !canTraverse(fi, as) {
			mode := fi.Mode().Perm() | 0o001
			if err := os.Chmod(d, mode); err != nil {
				return fmt.Errorf("pgcluster: add o+x to %s so user %s can reach the data directory: %w", d, serverUser, err)
			}
			log.Info("pgcluster: added o+x so the server user can reach the data directory", "dir", d, "mode", mode.String())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// canTraverse reports whether the server user may search directory fi.
// Supplementary groups are ignored: at worst o+x is added needlessly.
func canTraverse(fi fs.FileInfo, as runAs) bool {
	perm := fi.Mode().Perm()
	if perm&0o001 != 0 {
		return true
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	if st.Uid == as.cred.Uid {
		return perm&0o100 != 0
	}
	if st.Gid == as.cred.Gid {
		return perm&0o010 != 0
	}
	return false
}
