package config_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/config"
)

func TestAPISettingsDefaultToSecureCookiesAndTheDocumentedLimits(t *testing.T) {
	t.Parallel()
	c, err := config.FromEnv(env(nil))
	require.NoError(t, err)
	require.Equal(t, config.API{
		BodyLimit: 64 << 20, RequestTimeout: 30 * time.Second, CookieSecure: true, CookieSameSite: "Lax",
		SignedURLTTL: 4 * time.Hour, GeneratePerMinute: 10, MaxActiveTasks: 2,
	}, c.API)
}

func TestAPISettingsAreReadFromTheEnvironment(t *testing.T) {
	t.Parallel()
	c, err := config.FromEnv(env(map[string]string{
		"GOONI_BODY_LIMIT": "16MiB", "GOONI_REQUEST_TIMEOUT": "45s", "GOONI_COOKIE_SECURE": "false",
		"GOONI_COOKIE_SAMESITE": "strict", "GOONI_URL_SIGNING_KEY": "0123456789abcdef0123456789abcdef",
		"GOONI_SIGNED_URL_TTL": "90m", "GOONI_RATE_GENERATE_PER_MIN": "30", "GOONI_MAX_ACTIVE_TASKS": "5",
	}))
	require.NoError(t, err)
	require.Equal(t, config.API{
		BodyLimit: 16 << 20, RequestTimeout: 45 * time.Second, CookieSecure: false, CookieSameSite: "Strict",
		URLSigningKey: "0123456789abcdef0123456789abcdef", SignedURLTTL: 90 * time.Minute,
		GeneratePerMinute: 30, MaxActiveTasks: 5,
	}, c.API)

	c, err = config.FromEnv(env(map[string]string{"GOONI_BODY_LIMIT": "1048576"}))
	require.NoError(t, err)
	require.Equal(t, 1<<20, c.API.BodyLimit)
}

func TestAPISettingsNameEveryBadVariable(t *testing.T) {
	t.Parallel()
	_, err := config.FromEnv(env(map[string]string{
		"GOONI_BODY_LIMIT": "lots", "GOONI_REQUEST_TIMEOUT": "-1s", "GOONI_COOKIE_SECURE": "maybe",
		"GOONI_COOKIE_SAMESITE": "sometimes", "GOONI_URL_SIGNING_KEY": "short", "GOONI_SIGNED_URL_TTL": "0s",
		"GOONI_RATE_GENERATE_PER_MIN": "0", "GOONI_MAX_ACTIVE_TASKS": "-2",
	}))
	require.Error(t, err)
	for _, name := range []string{"GOONI_BODY_LIMIT", "GOONI_REQUEST_TIMEOUT", "GOONI_COOKIE_SECURE", "GOONI_COOKIE_SAMESITE",
		"GOONI_URL_SIGNING_KEY", "GOONI_SIGNED_URL_TTL", "GOONI_RATE_GENERATE_PER_MIN", "GOONI_MAX_ACTIVE_TASKS"} {
		require.Contains(t, err.Error(), name)
	}

	_, err = config.FromEnv(env(map[string]string{"GOONI_COOKIE_SAMESITE": "None", "GOONI_COOKIE_SECURE": "false"}))
	require.ErrorContains(t, err, "GOONI_COOKIE_SAMESITE=None needs GOONI_COOKIE_SECURE=true")
}
