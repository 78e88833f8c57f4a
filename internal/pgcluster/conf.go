package pgcluster

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// confName is the settings file this package owns inside the data directory.
// It is rewritten on every start, so Config changes (port, host, Fast) apply
// to an existing cluster; postgresql.conf includes it once, at its end.
const confName = "pgcluster.conf"

// includeLine is appended to postgresql.conf so confName overrides it.
const includeLine = "include_if_exists = '" + confName + "'"

// maxSocketPath is the longest Unix socket path the kernel accepts
// (sizeof(sun_path) minus the terminating NUL).
const maxSocketPath = 107

// writeConf writes confName for cfg and makes postgresql.conf include it.
func writeConf(cfg Config, as runAs) error {
	onOff := func(on bool) string {
		if on {
			return "on"
		}
		return "off"
	}
	var b bytes.Buffer
	b.WriteString("# Written by pgcluster on every start: edits are overwritten.\n")
	fmt.Fprintf(&b, "listen_addresses = %s\n", quote(cfg.Host))
	fmt.Fprintf(&b, "port = %d\n", cfg.Port)
	fmt.Fprintf(&b, "unix_socket_directories = %s\n", quote(socketDir(cfg)))
	fmt.Fprintf(&b, "fsync = %s\n", onOff(!cfg.Fast))
	fmt.Fprintf(&b, "synchronous_commit = %s\n", onOff(!cfg.Fast))
	fmt.Fprintf(&b, "full_page_writes = %s\n", onOff(!cfg.Fast))

	path := filepath.Join(cfg.Dir, confName)
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("pgcluster: write %s: %w", path, err)
	}
	if err := as.chown(path); err != nil {
		return err
	}

	main := filepath.Join(cfg.Dir, "postgresql.conf")
	cur, err := os.ReadFile(main)
	if err != nil {
		return fmt.Errorf("pgcluster: read %s: %w", main, err)
	}
	if bytes.Contains(cur, []byte(includeLine)) {
		return nil
	}
	f, err := os.OpenFile(main, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("pgcluster: open %s: %w", main, err)
	}
	_, werr := f.WriteString("\n# Settings managed by pgcluster (gooni).\n" + includeLine + "\n")
	if err := f.Close(); werr == nil {
		werr = err
	}
	if werr != nil {
		return fmt.Errorf("pgcluster: append to %s: %w", main, werr)
	}
	return nil
}

// socketDir is Dir when the socket path fits the kernel's limit, else ""
// (Unix sockets off; TCP only). Either way nothing needs /var/run/postgresql.
func socketDir(cfg Config) string {
	sock := filepath.Join(cfg.Dir, ".s.PGSQL."+strconv.Itoa(cfg.Port))
	if len(sock) > maxSocketPath {
		return ""
	}
	return cfg.Dir
}

// quote renders s as a postgresql.conf string literal.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
