package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

// Ops is how processes expose health and metrics and how they stop.
type Ops struct {
	// WorkerHTTPAddr (GOONI_WORKER_HTTP_ADDR) is where a worker serves /healthz, /readyz and
	// /metrics. Default 127.0.0.1:9090 for `worker control`, 127.0.0.1:9091 for `worker gpu`
	// (WorkerAddr applies it); "0" disables the listener.
	WorkerHTTPAddr string
	// APIMetricsAddr (GOONI_API_METRICS_ADDR), default 127.0.0.1:9092: where the API process
	// serves /metrics (with /healthz and /readyz), apart from its public port so metrics are
	// never public by accident. "0" disables it.
	APIMetricsAddr string
	// WorkerStopTimeout (GOONI_WORKER_STOP_TIMEOUT), default 5m: how long a stopping worker
	// (SIGTERM) waits for its running activities to finish before it cancels them. A cancelled
	// or abandoned generation is retried by Temporal on another worker. Keep the orchestrator's
	// grace period (Kubernetes terminationGracePeriodSeconds, compose stop_grace_period) above it.
	WorkerStopTimeout time.Duration
	// ShutdownTimeout (GOONI_SHUTDOWN_TIMEOUT), default 15s: how long a stopping API waits for
	// requests in flight (event streams end at once).
	ShutdownTimeout time.Duration
}

// Ops defaults.
const (
	DefaultControlHTTPAddr   = "127.0.0.1:9090"
	DefaultGPUHTTPAddr       = "127.0.0.1:9091"
	DefaultAPIMetricsAddr    = "127.0.0.1:9092"
	DefaultWorkerStopTimeout = 5 * time.Minute
	DefaultShutdownTimeout   = 15 * time.Second
)

// WorkerAddr is the worker's ops listener address: GOONI_WORKER_HTTP_ADDR, or def when unset;
// "" when it is disabled ("0").
func (o Ops) WorkerAddr(def string) string {
	switch o.WorkerHTTPAddr {
	case "":
		return def
	case "0":
		return ""
	}
	return o.WorkerHTTPAddr
}

// APIOpsAddr is the API's metrics listener address, "" when disabled.
func (o Ops) APIOpsAddr() string {
	if o.APIMetricsAddr == "0" {
		return ""
	}
	return o.APIMetricsAddr
}

func readOps(getenv func(string) string, errs *[]error) Ops {
	o := Ops{
		WorkerHTTPAddr: getenv("GOONI_WORKER_HTTP_ADDR"),
		APIMetricsAddr: orDefault(getenv("GOONI_API_METRICS_ADDR"), DefaultAPIMetricsAddr),
	}
	for name, v := range map[string]string{"GOONI_WORKER_HTTP_ADDR": o.WorkerHTTPAddr, "GOONI_API_METRICS_ADDR": o.APIMetricsAddr} {
		if v == "" || v == "0" {
			continue
		}
		if _, p, err := net.SplitHostPort(v); err != nil || !validPort(p) {
			*errs = append(*errs, fmt.Errorf("%s=%q is not host:port (for example 127.0.0.1:9090; 0 disables the listener)", name, v))
		}
	}
	o.WorkerStopTimeout = duration(getenv, "GOONI_WORKER_STOP_TIMEOUT", DefaultWorkerStopTimeout, errs)
	o.ShutdownTimeout = duration(getenv, "GOONI_SHUTDOWN_TIMEOUT", DefaultShutdownTimeout, errs)
	return o
}

func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n >= 0 && n <= 65535
}

// TemporalConn is how processes authenticate to Temporal beyond TEMPORAL_ADDRESS: TLS (mTLS for a
// self-hosted cluster or Temporal Cloud with certificates) and Temporal Cloud API keys.
type TemporalConn struct {
	// TLS (TEMPORAL_TLS), default false unless one of the other TLS variables or an API key is
	// set: dial with TLS, verifying the server against the system roots or TLSCA.
	TLS bool
	// TLSCert and TLSKey (TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY) are PEM files of the client
	// certificate and key for mTLS; set both or neither.
	TLSCert, TLSKey string
	// TLSCA (TEMPORAL_TLS_CA) is a PEM file of the CA that signed the server's certificate.
	// Default: the system roots.
	TLSCA string
	// TLSServerName (TEMPORAL_TLS_SERVER_NAME) overrides the name checked in the server's
	// certificate. Default: the host of TEMPORAL_ADDRESS.
	TLSServerName string
	// APIKey (TEMPORAL_API_KEY) is a Temporal Cloud API key, sent on every call; it implies TLS.
	APIKey string
}

func readTemporalConn(getenv func(string) string, errs *[]error) TemporalConn {
	t := TemporalConn{
		TLSCert:       getenv("TEMPORAL_TLS_CERT"),
		TLSKey:        getenv("TEMPORAL_TLS_KEY"),
		TLSCA:         getenv("TEMPORAL_TLS_CA"),
		TLSServerName: getenv("TEMPORAL_TLS_SERVER_NAME"),
		APIKey:        getenv("TEMPORAL_API_KEY"),
	}
	if v := getenv("TEMPORAL_TLS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			*errs = append(*errs, fmt.Errorf("TEMPORAL_TLS=%q: use true or false", v))
		}
		t.TLS = b
	}
	if t.TLSCert != "" || t.TLSKey != "" || t.TLSCA != "" || t.TLSServerName != "" || t.APIKey != "" {
		if v := getenv("TEMPORAL_TLS"); v != "" && !t.TLS {
			*errs = append(*errs, errors.New("TEMPORAL_TLS=false but TLS certificates or TEMPORAL_API_KEY are set: remove TEMPORAL_TLS or the TLS settings"))
		}
		t.TLS = true
	}
	if (t.TLSCert == "") != (t.TLSKey == "") {
		*errs = append(*errs, errors.New("TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together: set both (client certificate and key, PEM) or neither"))
	}
	for name, path := range map[string]string{"TEMPORAL_TLS_CERT": t.TLSCert, "TEMPORAL_TLS_KEY": t.TLSKey, "TEMPORAL_TLS_CA": t.TLSCA} {
		if path == "" {
			continue
		}
		if _, err := os.Stat(path); err != nil {
			*errs = append(*errs, fmt.Errorf("%s=%q cannot be read (%v): give the path of a PEM file", name, path, errors.Unwrap(err)))
		}
	}
	return t
}
