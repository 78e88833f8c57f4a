// Package stack assembles Gooni's processes from their parts: the logger, the catalogue, the
// Temporal client, the control worker and the GPU worker. The mains in cmd/ and the end-to-end
// tests wire the same way through it.
package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/gooni/gooni/internal/config"
	"github.com/gooni/gooni/settings"
)

// NewLogger returns the process logger: text or JSON on w at the configured level.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// LoadCatalogue loads the model catalogue: the file at path when set, else the project's
// settings/inference_settings.json when present, else the copy built into the binary.
func LoadCatalogue(path string) (*settings.Catalogue, error) {
	if path != "" {
		return settings.Load(path)
	}
	if _, err := os.Stat(config.DefaultSettingsPath); err == nil {
		return settings.Load(config.DefaultSettingsPath)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("settings %s: %w", config.DefaultSettingsPath, err)
	}
	return settings.LoadDefault()
}

// DialTemporal connects to the Temporal frontend at address (plaintext, no SDK metrics),
// retrying for up to wait so that processes started together with Temporal do not race it.
// Production processes use Dial, which adds TLS, API keys and metrics.
func DialTemporal(ctx context.Context, address, namespace string, logger *slog.Logger, wait time.Duration) (client.Client, error) {
	return Dial(ctx, DialOptions{Address: address, Namespace: namespace, Logger: logger, Wait: wait})
}
