package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/config"
	"github.com/gooni/gooni/internal/secret"
)

func TestDevSecretsAreGeneratedOnceKeptPrivateAndReused(t *testing.T) {
	dir := t.TempDir()
	var cfg config.Config
	first, err := loadDevSecrets(&cfg, dir)
	require.NoError(t, err)
	require.True(t, first.APIKeyGenerated)
	require.True(t, first.AdminKeyGenerated)
	require.Len(t, first.APIKey, 48)
	require.NotEqual(t, first.APIKey, first.AdminKey)
	require.Equal(t, first.AdminKey, cfg.AdminKey)
	_, err = secret.ParseKeys(cfg.AccountsEncryptKey)
	require.NoError(t, err, "the accounts key is a Fernet key")
	for _, name := range []string{"api_key", "admin_key", "accounts_key"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), name)
	}

	var again config.Config
	second, err := loadDevSecrets(&again, dir)
	require.NoError(t, err)
	require.False(t, second.APIKeyGenerated)
	require.False(t, second.AdminKeyGenerated)
	require.Equal(t, first.APIKey, second.APIKey)
	require.Equal(t, cfg.AccountsEncryptKey, again.AccountsEncryptKey)
}

func TestDevSecretsPreferTheEnvironmentAndRefuseAnAdminKeyEqualToTheAPIKey(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Config{APIKey: "configured-api-key-0123456789", AdminKey: "configured-admin-key-012345"}
	s, err := loadDevSecrets(&cfg, dir)
	require.NoError(t, err)
	require.Equal(t, "configured-api-key-0123456789", s.APIKey)
	require.False(t, s.APIKeyGenerated)
	require.Equal(t, "configured-admin-key-012345", cfg.AdminKey)
	_, err = os.Stat(filepath.Join(dir, "api_key"))
	require.ErrorIs(t, err, os.ErrNotExist, "a configured key is not written to disk")

	same := config.Config{APIKey: "same-key-0123456789abcdef", AdminKey: "same-key-0123456789abcdef"}
	_, err = loadDevSecrets(&same, t.TempDir())
	require.ErrorContains(t, err, "ADMIN_KEY equals API_KEY")
}
