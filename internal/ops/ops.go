// Package ops serves a process's operations endpoints on a small HTTP listener of its own,
// apart from any public API: /healthz (the process is up), /readyz (its dependencies answer and
// it is not shutting down) and /metrics (Prometheus). Workers have no other HTTP port; the API
// uses it for /metrics so that metrics are never served on the public port by accident.
package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// CheckTimeout bounds each readiness check.
const CheckTimeout = 2 * time.Second

// Check is one readiness check: a dependency the process cannot work without.
type Check struct {
	// Name labels the check in answers and logs ("postgres", "temporal").
	Name string
	// Run returns nil when the dependency answers. It must honour ctx.
	Run func(ctx context.Context) error
}

// RunChecks runs checks in parallel, each bounded by CheckTimeout, and returns each one's error
// (nil when it passed) by name.
func RunChecks(ctx context.Context, checks []Check) map[string]error {
	out := make(map[string]error, len(checks))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, CheckTimeout)
			defer cancel()
			err := c.Run(cctx)
			mu.Lock()
			out[c.Name] = err
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// Config configures the listener.
type Config struct {
	// Addr is host:port to listen on (port 0 picks a free one). Required.
	Addr string
	// Metrics serves /metrics; nil leaves it out.
	Metrics http.Handler
	// Checks are what /readyz runs.
	Checks []Check
	// Logger receives failed checks. Default slog.Default().
	Logger *slog.Logger
}

// Server is a running operations listener.
type Server struct {
	cfg      Config
	srv      *http.Server
	ln       net.Listener
	stopping atomic.Bool
	done     chan struct{}
}

// Start listens on cfg.Addr and serves until Shutdown.
func Start(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("ops listener on %s: %w", cfg.Addr, err)
	}
	s := &Server{cfg: cfg, ln: ln, done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", cfg.Metrics)
	}
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			cfg.Logger.Error("ops listener stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return s, nil
}

// Addr is the address the listener is bound to.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// SetStopping makes /readyz answer 503 from now on: the process is draining and a load balancer
// or orchestrator should stop sending it work. /healthz keeps answering 200 until Shutdown.
func (s *Server) SetStopping() { s.stopping.Store(true) }

// Shutdown stops the listener, waiting for requests in flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	<-s.done
	return err
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.stopping.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "stopping"})
		return
	}
	results := RunChecks(r.Context(), s.cfg.Checks)
	checks := make(map[string]string, len(results))
	ready := true
	names := make([]string, 0, len(results))
	for name := range results {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := results[name]; err != nil {
			ready = false
			checks[name] = err.Error() // this listener is internal: the operator needs the cause
			s.cfg.Logger.Warn("readiness check failed", "check", name, "err", err)
		} else {
			checks[name] = "ok"
		}
	}
	if !ready {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not_ready", "checks": checks})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "checks": checks})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
