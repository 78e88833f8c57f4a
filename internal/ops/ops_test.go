package ops_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/ops"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestHealthReadyAndMetricsEndpoints(t *testing.T) {
	t.Parallel()
	var dbDown atomic.Bool
	srv, err := ops.Start(ops.Config{
		Addr:    "127.0.0.1:0",
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("up 1\n")) }),
		Checks: []ops.Check{
			{Name: "postgres", Run: func(context.Context) error {
				if dbDown.Load() {
					return errors.New("connection refused")
				}
				return nil
			}},
			{Name: "temporal", Run: func(context.Context) error { return nil }},
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	base := "http://" + srv.Addr()

	code, body := get(t, base+"/healthz")
	require.Equal(t, 200, code)
	require.JSONEq(t, `{"status":"ok"}`, body)

	code, body = get(t, base+"/readyz")
	require.Equal(t, 200, code, body)
	require.JSONEq(t, `{"status":"ready","checks":{"postgres":"ok","temporal":"ok"}}`, body)

	dbDown.Store(true)
	code, body = get(t, base+"/readyz")
	require.Equal(t, 503, code, body)
	var got struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	require.Equal(t, "not_ready", got.Status)
	require.Contains(t, got.Checks["postgres"], "connection refused")
	require.Equal(t, "ok", got.Checks["temporal"])

	dbDown.Store(false)
	srv.SetStopping()
	code, body = get(t, base+"/readyz")
	require.Equal(t, 503, code)
	require.Contains(t, body, "stopping")
	code, _ = get(t, base+"/healthz")
	require.Equal(t, 200, code, "a draining process is still alive")

	code, body = get(t, base+"/metrics")
	require.Equal(t, 200, code)
	require.True(t, strings.HasPrefix(body, "up 1"))
}

func TestReadyChecksAreBoundedByTheirTimeout(t *testing.T) {
	t.Parallel()
	res := ops.RunChecks(context.Background(), []ops.Check{{Name: "hung", Run: func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}}})
	require.ErrorIs(t, res["hung"], context.DeadlineExceeded)
}
