// Package devtemporal runs a Temporal server and its Web UI inside the current process, for
// `gooni dev` and for tests. State lives in one SQLite file under Config.DataDir, so workflows
// survive a restart.
//
// This package links the Temporal server (~140 MB): only the dev command and test helpers may
// import it, never a production binary.
package devtemporal

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
)

// Config configures the embedded server. The zero value of every field but DataDir means its
// default.
type Config struct {
	// DataDir holds the server's state: the SQLite database temporal.db (created with its schema on
	// first start) and a lock file that keeps a second server off the same data. Required; created
	// when missing.
	DataDir string
	// Host is the IP address every service and the UI listen on. Default 127.0.0.1. It must be an
	// IP address, not a host name: the server advertises it to its own services.
	Host string
	// Port is the frontend gRPC port that SDK clients dial. Default 7233. The history, matching and
	// worker services take free ports picked at start, so two servers with different Ports can run
	// side by side.
	Port int
	// UIEnabled serves the Temporal Web UI on UIPort.
	UIEnabled bool
	// UIPort is the Web UI's HTTP port when UIEnabled. Default 8233.
	UIPort int
	// Namespace is created when missing (with Retention) and is the UI's default. Default "default".
	Namespace string
	// Retention is how long closed workflows are kept in a namespace this server creates. Default
	// 7 days. An existing namespace keeps its retention.
	Retention time.Duration
	// SearchAttributes are custom search attributes registered on Namespace (idempotent; new ones
	// are added to an existing namespace at start).
	SearchAttributes map[string]enumspb.IndexedValueType
	// Logger receives the server's and the UI's logs at warn level and above (below warn the
	// server is very chatty). Default slog.Default().
	Logger *slog.Logger
}

// Defaults of Config.
const (
	DefaultHost      = "127.0.0.1"
	DefaultPort      = 7233
	DefaultUIPort    = 8233
	DefaultNamespace = "default"
	DefaultRetention = 7 * 24 * time.Hour
)

// withDefaults returns cfg with every unset field given its default.
func (cfg Config) withDefaults() Config {
	if cfg.Host == "" {
		cfg.Host = DefaultHost
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	if cfg.UIPort == 0 {
		cfg.UIPort = DefaultUIPort
	}
	if cfg.Namespace == "" {
		cfg.Namespace = DefaultNamespace
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return cfg
}

// validate checks a Config that has its defaults applied.
func (cfg Config) validate() error {
	var errs []error
	if cfg.DataDir == "" {
		errs = append(errs, errors.New("devtemporal: DataDir is required: set the directory that holds the dev server's state"))
	}
	if ip := net.ParseIP(cfg.Host); ip == nil {
		errs = append(errs, fmt.Errorf("devtemporal: Host %q is not an IP address: use e.g. 127.0.0.1", cfg.Host))
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		errs = append(errs, fmt.Errorf("devtemporal: Port %d is out of range 1-65535", cfg.Port))
	}
	if cfg.UIEnabled {
		if cfg.UIPort < 1 || cfg.UIPort > 65535 {
			errs = append(errs, fmt.Errorf("devtemporal: UIPort %d is out of range 1-65535", cfg.UIPort))
		}
		if cfg.UIPort == cfg.Port {
			errs = append(errs, fmt.Errorf("devtemporal: UIPort %d equals Port: give the Web UI its own port", cfg.UIPort))
		}
	}
	if cfg.Retention < 24*time.Hour {
		errs = append(errs, fmt.Errorf("devtemporal: Retention %s is below Temporal's minimum of 24h", cfg.Retention))
	}
	for name, typ := range cfg.SearchAttributes {
		if name == "" || typ == enumspb.INDEXED_VALUE_TYPE_UNSPECIFIED {
			errs = append(errs, fmt.Errorf("SearchAttributes: %q needs a name and a type", name))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("devtemporal config: %w", err)
	}
	return nil
}
