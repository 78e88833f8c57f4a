package config_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/config"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestFromEnvAppliesDefaults(t *testing.T) {
	t.Parallel()
	c, err := config.FromEnv(env(nil))
	require.NoError(t, err)
	require.Equal(t, "./data", c.DataDir)
	require.Equal(t, "127.0.0.1:8080", c.HTTPAddr)
	require.Equal(t, 7233, c.DevTemporalPort)
	require.Equal(t, 8233, c.DevUIPort)
	require.Equal(t, config.DefaultDevPGPort, c.DevPGPort)
	require.Equal(t, "default", c.TemporalNamespace)
	require.Equal(t, 30*24*time.Hour, c.Retention)
	require.Empty(t, c.CORSOrigins)
}

func TestFromEnvReadsEveryVariable(t *testing.T) {
	t.Parallel()
	c, err := config.FromEnv(env(map[string]string{
		"API_KEY": "0123456789abcdef0123", "CORS_ORIGINS": "http://a.test, http://b.test",
		"GOONI_DEV_PG_PORT": "6000", "GOONI_RETENTION": "48h", "GOONI_LOG_LEVEL": "debug",
	}))
	require.NoError(t, err)
	require.Equal(t, []string{"http://a.test", "http://b.test"}, c.CORSOrigins)
	require.Equal(t, 6000, c.DevPGPort)
	require.Equal(t, 48*time.Hour, c.Retention)
}

func TestFromEnvNamesEveryBadVariable(t *testing.T) {
	t.Parallel()
	_, err := config.FromEnv(env(map[string]string{
		"GOONI_DEV_UI_PORT": "99999", "GOONI_RETENTION": "soon", "CORS_ORIGINS": "*",
		"API_KEY": "tinykey", "GOONI_HTTP_ADDR": "nope", "GOONI_LOG_FORMAT": "xml",
	}))
	require.Error(t, err)
	for _, name := range []string{"GOONI_DEV_UI_PORT", "GOONI_RETENTION", "CORS_ORIGINS", "API_KEY", "GOONI_HTTP_ADDR", "GOONI_LOG_FORMAT"} {
		require.Contains(t, err.Error(), name)
	}
	require.NotContains(t, err.Error(), "tinykey", "the key's value is never echoed")
}

func TestRequireProductionNamesMissingVariables(t *testing.T) {
	t.Parallel()
	c, err := config.FromEnv(env(nil))
	require.NoError(t, err)
	err = c.RequireProduction(true, true)
	require.ErrorContains(t, err, "DATABASE_URL")
	require.ErrorContains(t, err, "TEMPORAL_ADDRESS")
	require.ErrorContains(t, err, "API_KEY")
}
