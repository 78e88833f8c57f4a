package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gooni/gooni/internal/config"
	"github.com/gooni/gooni/internal/secret"
)

// devSecrets are the keys `gooni dev` runs with: from the environment when set, else generated
// on first start and kept (0600) in the data dir, so the studio and admin pages work at once and
// a restart keeps sessions' keys and encrypted worker tokens readable.
type devSecrets struct {
	APIKey, AdminKey string
	// Generated names the keys made by this start (printed once to the terminal, never logged).
	APIKeyGenerated, AdminKeyGenerated bool
}

// loadDevSecrets fills cfg's API key, admin key and accounts encryption key.
func loadDevSecrets(cfg *config.Config, dataDir string) (devSecrets, error) {
	var s devSecrets
	var err error
	if s.APIKey, s.APIKeyGenerated, err = devSecret(cfg.APIKey, dataDir, "api_key", randomHexKey); err != nil {
		return s, err
	}
	if s.AdminKey, s.AdminKeyGenerated, err = devSecret(cfg.AdminKey, dataDir, "admin_key", randomHexKey); err != nil {
		return s, err
	}
	if s.AdminKey == s.APIKey {
		return s, errors.New("ADMIN_KEY equals API_KEY: the admin key must be its own secret")
	}
	cfg.AdminKey = s.AdminKey
	if cfg.AccountsEncryptKey, _, err = devSecret(cfg.AccountsEncryptKey, dataDir, "accounts_key", secret.NewKey); err != nil {
		return s, err
	}
	return s, nil
}

// devSecret returns configured, or the value kept in dataDir/name, generating and keeping one
// with make on first start.
func devSecret(configured, dataDir, name string, make func() (string, error)) (value string, generated bool, err error) {
	if configured != "" {
		return configured, false, nil
	}
	path := filepath.Join(dataDir, name)
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 16 {
		return strings.TrimSpace(string(b)), false, nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", false, fmt.Errorf("read dev %s %s: %w", name, path, err)
	}
	value, err = make()
	if err != nil {
		return "", false, err
	}
	if err := os.WriteFile(path, []byte(value+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("keep dev %s in %s: %w", name, path, err)
	}
	return value, true, nil
}

// randomHexKey is 24 random bytes, hex-encoded.
func randomHexKey() (string, error) {
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return hex.EncodeToString(raw), nil
}
