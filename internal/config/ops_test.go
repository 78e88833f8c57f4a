package config_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/config"
)

func TestMetricsAndHealthListenersDefaultToLoopback(t *testing.T) {
	t.Parallel()
	c, err := config.FromEnv(env(nil))
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9090", c.Ops.WorkerAddr(config.DefaultControlHTTPAddr))
	require.Equal(t, "127.0.0.1:9091", c.Ops.WorkerAddr(config.DefaultGPUHTTPAddr))
	require.Equal(t, "127.0.0.1:9092", c.Ops.APIOpsAddr())
	require.Equal(t, 5*time.Minute, c.Ops.WorkerStopTimeout)
	require.Equal(t, 15*time.Second, c.Ops.ShutdownTimeout)
	require.False(t, c.Temporal.TLS)

	c, err = config.FromEnv(env(map[string]string{"GOONI_WORKER_HTTP_ADDR": "0", "GOONI_API_METRICS_ADDR": "0",
		"GOONI_WORKER_STOP_TIMEOUT": "30s", "GOONI_SHUTDOWN_TIMEOUT": "5s"}))
	require.NoError(t, err)
	require.Empty(t, c.Ops.WorkerAddr(config.DefaultGPUHTTPAddr), "0 disables the worker listener")
	require.Empty(t, c.Ops.APIOpsAddr(), "0 disables the API metrics listener")
	require.Equal(t, 30*time.Second, c.Ops.WorkerStopTimeout)

	c, err = config.FromEnv(env(map[string]string{"GOONI_WORKER_HTTP_ADDR": "0.0.0.0:9191"}))
	require.NoError(t, err)
	require.Equal(t, "0.0.0.0:9191", c.Ops.WorkerAddr(config.DefaultGPUHTTPAddr))
}

func TestMetricsAndHealthSettingsNameEveryBadVariable(t *testing.T) {
	t.Parallel()
	_, err := config.FromEnv(env(map[string]string{
		"GOONI_WORKER_HTTP_ADDR": "nine-thousand", "GOONI_API_METRICS_ADDR": "127.0.0.1:99999",
		"GOONI_WORKER_STOP_TIMEOUT": "forever", "GOONI_SHUTDOWN_TIMEOUT": "-1s",
		"TEMPORAL_TLS_CERT": "/nonexistent/client.pem", "TEMPORAL_TLS": "maybe",
	}))
	require.Error(t, err)
	for _, name := range []string{"GOONI_WORKER_HTTP_ADDR", "GOONI_API_METRICS_ADDR", "GOONI_WORKER_STOP_TIMEOUT",
		"GOONI_SHUTDOWN_TIMEOUT", "TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY", "TEMPORAL_TLS="} {
		require.Contains(t, err.Error(), name)
	}
}

func TestReadyForTemporalCloudWithTLSAndAPIKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	require.NoError(t, os.WriteFile(cert, []byte("x"), 0o600))
	require.NoError(t, os.WriteFile(key, []byte("x"), 0o600))
	c, err := config.FromEnv(env(map[string]string{"TEMPORAL_TLS_CERT": cert, "TEMPORAL_TLS_KEY": key}))
	require.NoError(t, err)
	require.True(t, c.Temporal.TLS, "a client certificate implies TLS")

	c, err = config.FromEnv(env(map[string]string{"TEMPORAL_API_KEY": "secret-api-key-value"}))
	require.NoError(t, err)
	require.True(t, c.Temporal.TLS, "an API key implies TLS")

	_, err = config.FromEnv(env(map[string]string{"TEMPORAL_API_KEY": "secret-api-key-value", "TEMPORAL_TLS": "false"}))
	require.ErrorContains(t, err, "TEMPORAL_TLS=false")
	require.NotContains(t, err.Error(), "secret-api-key-value", "the key is never echoed")

	c, err = config.FromEnv(env(map[string]string{"TEMPORAL_ADDRESS": "no-port"}))
	require.NoError(t, err)
	require.ErrorContains(t, c.RequireProduction(false, false), "TEMPORAL_ADDRESS=\"no-port\"")
}
