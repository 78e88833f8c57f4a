package main

import (
	"log/slog"

	"github.com/gooni/gooni/api"
	"github.com/gooni/gooni/internal/config"
)

// apiConfig is the API's configuration from the process configuration, with apiKey (which dev
// mode may generate).
func apiConfig(cfg config.Config, apiKey string, logger *slog.Logger) api.Config {
	c := api.Config{
		APIKey:              apiKey,
		CORSOrigins:         cfg.CORSOrigins,
		Namespace:           cfg.TemporalNamespace,
		Logger:              logger,
		BodyLimit:           cfg.API.BodyLimit,
		RequestTimeout:      cfg.API.RequestTimeout,
		InsecureCookies:     !cfg.API.CookieSecure,
		CookieSameSite:      cfg.API.CookieSameSite,
		SignedURLTTL:        cfg.API.SignedURLTTL,
		GeneratePerMinute:   cfg.API.GeneratePerMinute,
		MaxActiveTasks:      cfg.API.MaxActiveTasks,
		AdminKey:            cfg.AdminKey,
		AdminIdleTimeout:    cfg.Admin.IdleTimeout,
		AdminAuthPerMinute:  cfg.Admin.AuthPerMinute,
		AdminReadPerMinute:  cfg.Admin.ReadPerMinute,
		AdminWritePerMinute: cfg.Admin.WritePerMinute,
		AccountsEncryptKey:  cfg.AccountsEncryptKey,
		GPUSecondCost:       cfg.Admin.GPUSecondCost,
		AccountCooldown:     cfg.Admin.AccountCooldown,
		AccountMaxFailures:  cfg.Admin.AccountMaxFailures,
		TemporalUIURL:       cfg.API.TemporalUIURL,
	}
	if cfg.API.URLSigningKey != "" {
		c.URLSigningKey = []byte(cfg.API.URLSigningKey)
	}
	return c
}
