package main

import (
	"fmt"
	"log/slog"

	"github.com/gooni/gooni/activities/maintenance"
	"github.com/gooni/gooni/internal/config"
	"github.com/gooni/gooni/internal/secret"
)

// maintenanceConfig is the control worker's maintenance configuration: the account settings the
// health sweep uses and the ACCOUNTS_ENCRYPT_KEY keys rotate-keys re-encrypts under. Unset keys
// leave rotate-keys failing with accounts_misconfigured; unreadable keys fail the start.
func maintenanceConfig(cfg config.Config, logger *slog.Logger) (maintenance.Config, error) {
	m := maintenance.Config{
		Retention:          cfg.Retention,
		Logger:             logger,
		AccountSilentAfter: cfg.Admin.AccountSilentAfter,
		AccountCooldown:    cfg.Admin.AccountCooldown,
		AccountMaxFailures: cfg.Admin.AccountMaxFailures,
	}
	if cfg.AccountsEncryptKey == "" {
		logger.Warn("rotate-keys unavailable: ACCOUNTS_ENCRYPT_KEY is unset on the control worker")
		return m, nil
	}
	keys, err := secret.ParseKeys(cfg.AccountsEncryptKey)
	if err != nil {
		return m, fmt.Errorf("ACCOUNTS_ENCRYPT_KEY: %w", err)
	}
	m.Keys = keys
	return m, nil
}
