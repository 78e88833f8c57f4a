package devtemporal

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uioptions "github.com/temporalio/ui-server/v2/server/server_options"
)

// uiStopTimeout bounds how long Stop waits for the UI server's goroutine to return.
const uiStopTimeout = 5 * time.Second

// webUI is the Temporal Web UI server running in its own goroutine (its Start blocks).
type webUI struct {
	server *uiserver.Server
	url    string
	done   chan struct{}
}

// startUI starts the Web UI for the frontend at frontendAddr and returns once it answers HTTP.
// The UI server calls log.Fatal when it cannot listen, so the port must have been checked free.
func startUI(ctx context.Context, cfg Config, frontendAddr string, logger *slog.Logger) (*webUI, error) {
	server, err := newUIServer(cfg, frontendAddr)
	if err != nil {
		return nil, err
	}
	ui := &webUI{
		server: server,
		url:    "http://" + net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.UIPort)),
		done:   make(chan struct{}),
	}
	go func() {
		defer close(ui.done)
		if err := server.Start(); err != nil {
			logger.Error("temporal web ui stopped", "error", err)
		}
	}()
	if err := ui.waitHealthy(ctx); err != nil {
		ui.stop()
		return nil, err
	}
	return ui, nil
}

// newUIServer builds the UI server; the library panics on a bad configuration, which is returned
// as an error here.
func newUIServer(cfg Config, frontendAddr string) (server *uiserver.Server, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("create temporal web ui: %v", r)
		}
	}()
	return uiserver.NewServer(uioptions.WithConfigProvider(&uiconfig.Config{
		Host:                cfg.Host,
		Port:                cfg.UIPort,
		TemporalGRPCAddress: frontendAddr,
		EnableUI:            true,
		DefaultNamespace:    cfg.Namespace,
		// No network in dev and tests: no news or release checks.
		DisableNewsFetch:   true,
		NotifyOnNewVersion: false,
		// Plain HTTP on loopback: the CSRF cookie must not require HTTPS.
		CORS:     uiconfig.CORS{CookieInsecure: true},
		HideLogs: true,
	})), nil
}

// waitHealthy polls the UI's health route until it answers 200.
func (ui *webUI) waitHealthy(ctx context.Context) error {
	client := &http.Client{Timeout: time.Second}
	var last error
	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, ui.url+"/healthz", nil)
		if err != nil {
			return fmt.Errorf("temporal web ui: %w", err)
		}
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /healthz: %s", resp.Status)
		}
		last = err
		select {
		case <-ctx.Done():
			return fmt.Errorf("temporal web ui on %s not healthy: %w (last error: %v)", ui.url, ctx.Err(), last)
		case <-ui.done:
			return fmt.Errorf("temporal web ui on %s stopped during start-up (last error: %v)", ui.url, last)
		case <-ticker.C:
		}
	}
}

// stop closes the UI server and waits (bounded) for its goroutine.
func (ui *webUI) stop() {
	ui.server.Stop()
	select {
	case <-ui.done:
	case <-time.After(uiStopTimeout):
	}
}
