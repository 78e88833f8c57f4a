package pgcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
)

// ErrNoBinaries means the PostgreSQL server binaries were not found.
var ErrNoBinaries = errors.New("PostgreSQL binaries (initdb, pg_ctl, postgres) not found: install PostgreSQL (apt-get install postgresql) or set DATABASE_URL")

// debianRoot is where Debian and Ubuntu install one directory per major version.
const debianRoot = "/usr/lib/postgresql"

// findBinDir returns the directory holding initdb, pg_ctl and postgres:
// want when set, else initdb's directory on PATH, else the newest Debian
// install.
func findBinDir(want string) (string, error) {
	if want != "" {
		if !hasBinaries(want) {
			return "", fmt.Errorf("pgcluster: BinDir %s: %w", want, ErrNoBinaries)
		}
		return want, nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		// /usr/local/bin/initdb may be a symlink: pg_ctl finds postgres beside
		// its real path, so resolve it.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			if dir := filepath.Dir(real); hasBinaries(dir) {
				return dir, nil
			}
		}
	}
	if dir := newestDebianBinDir(); dir != "" {
		return dir, nil
	}
	return "", fmt.Errorf("pgcluster: %w", ErrNoBinaries)
}

// newestDebianBinDir returns /usr/lib/postgresql/<highest major>/bin, or "".
func newestDebianBinDir() string {
	entries, err := os.ReadDir(debianRoot)
	if err != nil {
		return ""
	}
	var versions []float64
	byVersion := map[float64]string{}
	for _, e := range entries {
		v, err := strconv.ParseFloat(e.Name(), 64)
		if err != nil {
			continue
		}
		dir := filepath.Join(debianRoot, e.Name(), "bin")
		if hasBinaries(dir) {
			versions = append(versions, v)
			byVersion[v] = dir
		}
	}
	if len(versions) == 0 {
		return ""
	}
	sort.Float64s(versions)
	return byVersion[versions[len(versions)-1]]
}

// hasBinaries reports whether dir holds every program this package runs.
func hasBinaries(dir string) bool {
	for _, name := range []string{"initdb", "pg_ctl", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}
