// Package config reads Gooni's configuration from the environment, applies defaults in one
// place and validates it at start with errors that name the variable and say what to do.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
)

// Config is every setting a Gooni process reads. Each field names its variable and default.
type Config struct {
	// APIKey (API_KEY) is the key clients send in X-API-Key. Required outside dev mode; in dev
	// mode one is generated and kept in the data dir when unset.
	APIKey string
	// AdminKey (ADMIN_KEY) bootstraps admin sessions. Optional until the admin API is used.
	AdminKey string
	// AccountsEncryptKey (ACCOUNTS_ENCRYPT_KEY) holds Fernet keys for worker-account secrets,
	// comma-separated, newest first. Optional until accounts are used.
	AccountsEncryptKey string
	// DatabaseURL (DATABASE_URL) is the PostgreSQL URL. In dev mode, when unset, a local cluster
	// is started under the data dir.
	DatabaseURL string
	// TemporalAddress (TEMPORAL_ADDRESS) is the Temporal frontend host:port. In dev mode, when
	// unset, a Temporal server is embedded.
	TemporalAddress string
	// TemporalNamespace (TEMPORAL_NAMESPACE), default "default".
	TemporalNamespace string
	// CORSOrigins (CORS_ORIGINS) are the allowed browser origins, comma-separated. Default none.
	CORSOrigins []string
	// DataDir (GOONI_DATA_DIR), default "./data": artifacts, dev databases, the dev API key.
	DataDir string
	// HTTPAddr (GOONI_HTTP_ADDR), default "127.0.0.1:8080".
	HTTPAddr string
	// DevTemporalPort (GOONI_DEV_TEMPORAL_PORT), default 7233: the embedded server's gRPC port.
	DevTemporalPort int
	// DevUIPort (GOONI_DEV_UI_PORT), default 8233: the embedded Web UI's port.
	DevUIPort int
	// DevPGPort (GOONI_DEV_PG_PORT), default 54329: the dev PostgreSQL's port on 127.0.0.1.
	DevPGPort int
	// SettingsPath (GOONI_SETTINGS), default "settings/inference_settings.json" when that file
	// exists, else the copy built into the binary.
	SettingsPath string
	// RunnerCommand (GOONI_RUNNER_COMMAND) starts the model runner a GPU worker keeps per model,
	// split on spaces, e.g. "python3 /opt/gooni/runners/diffusers/runner.py". Default: this
	// binary's CPU runner (`gooni runner cpu`).
	RunnerCommand []string
	// WorkerToken (GOONI_WORKER_TOKEN) is a worker account's token: a GPU worker started with it
	// registers with the API at APIURL and serves only while its account allows. Never logged.
	WorkerToken string
	// APIURL (GOONI_API_URL) is the API a GPU worker with a token registers with, e.g.
	// http://api:8080. Required with GOONI_WORKER_TOKEN.
	APIURL string
	// RunnerName (GOONI_RUNNER_NAME) labels that runner in logs and results. Default "cpu", or
	// "custom" when GOONI_RUNNER_COMMAND is set.
	RunnerName string
	// Retention (GOONI_RETENTION), default 720h (30 days): how long results are kept.
	Retention time.Duration
	// LogFormat (GOONI_LOG_FORMAT): "text" (default) or "json".
	LogFormat string
	// LogLevel (GOONI_LOG_LEVEL): debug, info (default), warn or error.
	LogLevel slog.Level
	// API holds the HTTP API's body limit, timeout, session cookie, media URL signing and
	// per-client limits (see api.go).
	API API
	// Admin holds the admin API's session, rate-limit and worker-account settings (admin.go).
	Admin Admin
	// Ops holds the health/metrics listeners and shutdown timeouts (ops.go).
	Ops Ops
	// Temporal holds TLS and API-key settings for dialling Temporal (ops.go).
	Temporal TemporalConn
}

// Defaults.
const (
	DefaultNamespace       = "default"
	DefaultDataDir         = "./data"
	DefaultHTTPAddr        = "127.0.0.1:8080"
	DefaultDevTemporalPort = 7233
	DefaultDevUIPort       = 8233
	DefaultDevPGPort       = 54329
	DefaultSettingsPath    = "settings/inference_settings.json"
	DefaultRetention       = 30 * 24 * time.Hour
)

// FromEnv reads the configuration through getenv (os.Getenv in mains, a map in tests). It
// returns every problem at once.
func FromEnv(getenv func(string) string) (Config, error) {
	var errs []error
	c := Config{
		APIKey:             getenv("API_KEY"),
		AdminKey:           getenv("ADMIN_KEY"),
		AccountsEncryptKey: getenv("ACCOUNTS_ENCRYPT_KEY"),
		DatabaseURL:        getenv("DATABASE_URL"),
		TemporalAddress:    getenv("TEMPORAL_ADDRESS"),
		TemporalNamespace:  orDefault(getenv("TEMPORAL_NAMESPACE"), DefaultNamespace),
		CORSOrigins:        splitList(getenv("CORS_ORIGINS")),
		DataDir:            orDefault(getenv("GOONI_DATA_DIR"), DefaultDataDir),
		HTTPAddr:           orDefault(getenv("GOONI_HTTP_ADDR"), DefaultHTTPAddr),
		SettingsPath:       getenv("GOONI_SETTINGS"),
		RunnerCommand:      strings.Fields(getenv("GOONI_RUNNER_COMMAND")),
		RunnerName:         getenv("GOONI_RUNNER_NAME"),
		WorkerToken:        getenv("GOONI_WORKER_TOKEN"),
		APIURL:             getenv("GOONI_API_URL"),
		LogFormat:          orDefault(getenv("GOONI_LOG_FORMAT"), "text"),
	}
	c.DevTemporalPort = port(getenv, "GOONI_DEV_TEMPORAL_PORT", DefaultDevTemporalPort, &errs)
	c.DevUIPort = port(getenv, "GOONI_DEV_UI_PORT", DefaultDevUIPort, &errs)
	c.DevPGPort = port(getenv, "GOONI_DEV_PG_PORT", DefaultDevPGPort, &errs)
	c.Retention = duration(getenv, "GOONI_RETENTION", DefaultRetention, &errs)
	c.API = readAPI(getenv, &errs)
	c.Admin = readAdmin(getenv, &errs)
	c.Ops = readOps(getenv, &errs)
	c.Temporal = readTemporalConn(getenv, &errs)

	if c.RunnerName == "" {
		c.RunnerName = "cpu"
		if len(c.RunnerCommand) > 0 {
			c.RunnerName = "custom"
		}
	}
	if c.WorkerToken != "" && c.APIURL == "" {
		errs = append(errs, errors.New("GOONI_WORKER_TOKEN is set but GOONI_API_URL is not: set it to the API the worker registers with (http://api:8080)"))
	}
	if c.APIURL != "" && !strings.HasPrefix(c.APIURL, "http://") && !strings.HasPrefix(c.APIURL, "https://") {
		errs = append(errs, fmt.Errorf("GOONI_API_URL=%q: use an http:// or https:// URL", c.APIURL))
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("GOONI_HTTP_ADDR=%q is not host:port (for example 127.0.0.1:8080)", c.HTTPAddr))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("GOONI_LOG_FORMAT=%q: use text or json", c.LogFormat))
	}
	if lvl := getenv("GOONI_LOG_LEVEL"); lvl != "" {
		if err := c.LogLevel.UnmarshalText([]byte(lvl)); err != nil {
			errs = append(errs, fmt.Errorf("GOONI_LOG_LEVEL=%q: use debug, info, warn or error", lvl))
		}
	}
	for _, o := range c.CORSOrigins {
		if o == "*" {
			errs = append(errs, errors.New("CORS_ORIGINS: list the allowed origins (https://studio.example.com), not '*'"))
		}
	}
	if c.APIKey != "" && len(c.APIKey) < 16 {
		errs = append(errs, errors.New("API_KEY is shorter than 16 characters: use a long random key (openssl rand -hex 32)"))
	}
	return c, errors.Join(errs...)
}

// RequireProduction checks what a process outside dev mode cannot start without.
func (c Config) RequireProduction(needDatabase, needAPIKey bool) error {
	var errs []error
	if needDatabase && c.DatabaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL is not set: set it to the PostgreSQL URL (postgres://user:pass@host:5432/gooni)"))
	}
	if c.TemporalAddress == "" {
		errs = append(errs, errors.New("TEMPORAL_ADDRESS is not set: set it to the Temporal frontend host:port (temporal:7233)"))
	} else if _, _, err := net.SplitHostPort(c.TemporalAddress); err != nil {
		errs = append(errs, fmt.Errorf("TEMPORAL_ADDRESS=%q is not host:port (temporal:7233, or <ns>.<account>.tmprl.cloud:7233)", c.TemporalAddress))
	}
	if needAPIKey && c.APIKey == "" {
		errs = append(errs, errors.New("API_KEY is not set: set a long random key (openssl rand -hex 32)"))
	}
	return errors.Join(errs...)
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func port(getenv func(string) string, name string, def int, errs *[]error) int {
	v := getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 65535 {
		*errs = append(*errs, fmt.Errorf("%s=%q is not a port number (1-65535)", name, v))
		return def
	}
	return n
}

func duration(getenv func(string) string, name string, def time.Duration, errs *[]error) time.Duration {
	v := getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		*errs = append(*errs, fmt.Errorf("%s=%q is not a positive duration (for example 720h)", name, v))
		return def
	}
	return d
}
