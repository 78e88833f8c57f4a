package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/gooni/gooni/internal/metrics"
	"github.com/gooni/gooni/internal/ops"
	"github.com/gooni/gooni/internal/stack"
	"github.com/gooni/gooni/internal/store"
)

// dial connects to Temporal with the process's TLS/API-key settings, reporting the SDK's metrics
// to m.
func dial(ctx context.Context, b base, m *metrics.Metrics) (client.Client, error) {
	return stack.Dial(ctx, stack.DialOptions{
		Address: b.cfg.TemporalAddress, Namespace: b.cfg.TemporalNamespace, Conn: b.cfg.Temporal,
		Metrics: m.TemporalHandler(), Logger: b.logger, Wait: dialWait,
	})
}

// dependencyChecks are the readiness checks of a process that uses PostgreSQL and Temporal.
func dependencyChecks(st *store.Store, tc client.Client) []ops.Check {
	return []ops.Check{
		{Name: "postgres", Run: func(ctx context.Context) error { return st.Pool().Ping(ctx) }},
		{Name: "temporal", Run: func(ctx context.Context) error {
			_, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		}},
	}
}

// opsListener is a process's /healthz, /readyz and /metrics listener; nil when disabled.
type opsListener struct {
	srv    *ops.Server
	logger *slog.Logger
}

// startOps starts the listener on addr ("" leaves it disabled).
func startOps(addr string, m *metrics.Metrics, checks []ops.Check, logger *slog.Logger) (*opsListener, error) {
	if addr == "" {
		logger.Info("ops listener disabled")
		return &opsListener{logger: logger}, nil
	}
	srv, err := ops.Start(ops.Config{Addr: addr, Metrics: m.Handler(), Checks: checks, Logger: logger})
	if err != nil {
		return nil, err
	}
	logger.Info("ops listening", "addr", srv.Addr(), "paths", "/healthz /readyz /metrics")
	return &opsListener{srv: srv, logger: logger}, nil
}

// draining makes /readyz answer 503: the process is stopping.
func (o *opsListener) draining() {
	if o.srv != nil {
		o.srv.SetStopping()
	}
}

// close stops the listener.
func (o *opsListener) close() {
	if o.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := o.srv.Shutdown(ctx); err != nil {
		o.logger.Warn("stop ops listener", "err", err)
	}
}

// runProbe is `gooni probe URL`: exit 0 when URL answers 200 within 3 s. Container health checks
// use it (the image has no curl).
func runProbe(ctx context.Context, args []string) error {
	if len(args) != 1 {
		return errors.New("usage: gooni probe http://127.0.0.1:9090/readyz")
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, args[0], nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s answered %d: %s", args[0], resp.StatusCode, body)
	}
	return nil
}
