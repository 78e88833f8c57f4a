package config_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/config"
)

func TestAccountSilentAfterDefaultsToThreeHeartbeatsAndIsConfigurable(t *testing.T) {
	t.Parallel()
	c, err := config.FromEnv(env(nil))
	require.NoError(t, err)
	require.Equal(t, 15*time.Second, c.Admin.AccountSilentAfter)

	c, err = config.FromEnv(env(map[string]string{"GOONI_ACCOUNT_SILENT_AFTER": "45s"}))
	require.NoError(t, err)
	require.Equal(t, 45*time.Second, c.Admin.AccountSilentAfter)

	_, err = config.FromEnv(env(map[string]string{"GOONI_ACCOUNT_SILENT_AFTER": "soon"}))
	require.ErrorContains(t, err, "GOONI_ACCOUNT_SILENT_AFTER")
}
