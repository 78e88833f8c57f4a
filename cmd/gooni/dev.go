//go:build dev

package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"go.temporal.io/sdk/client"

	"github.com/gooni/gooni/activities/control"
	"github.com/gooni/gooni/api"
	"github.com/gooni/gooni/internal/artifact"
	"github.com/gooni/gooni/internal/config"
	"github.com/gooni/gooni/internal/devtemporal"
	"github.com/gooni/gooni/internal/pgcluster"
	"github.com/gooni/gooni/internal/stack"
	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/internal/temporalsetup"
	"github.com/gooni/gooni/settings"
	"github.com/gooni/gooni/workers"
	"github.com/gooni/gooni/workflows"
)

func init() {
	commands["dev"] = command{"run everything in one process: embedded Temporal and Web UI, local PostgreSQL, API, workers, CPU runner", runDev}
}

// runDev starts the whole product in one process and stops it cleanly on Ctrl-C. Parts are
// stopped in reverse order of start.
func runDev(ctx context.Context, args []string) (err error) {
	fset := flag.NewFlagSet("dev", flag.ContinueOnError)
	noGPU := fset.Bool("no-gpu-worker", false, "do not run the in-process GPU worker (run `gooni worker gpu` separately)")
	if err := fset.Parse(args); err != nil {
		return err
	}
	b, err := loadBase()
	if err != nil {
		return err
	}
	cfg, logger := b.cfg, b.logger
	var stops []func()
	defer func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("GOONI_DATA_DIR %s: %w", cfg.DataDir, err)
	}
	dataDir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	secrets, err := loadDevSecrets(&cfg, dataDir)
	if err != nil {
		return err
	}
	apiKey := secrets.APIKey
	cat, err := stack.LoadCatalogue(cfg.SettingsPath)
	if err != nil {
		return err
	}

	dbURL := cfg.DatabaseURL
	if dbURL == "" {
		cluster, err := pgcluster.Start(ctx, pgcluster.Config{Dir: filepath.Join(dataDir, "postgres"), Port: cfg.DevPGPort, Logger: logger})
		if err != nil {
			return fmt.Errorf("start local PostgreSQL (or set DATABASE_URL): %w", err)
		}
		stops = append(stops, func() {
			if err := cluster.Stop(context.Background()); err != nil {
				logger.Error("stop postgres", "err", err)
			}
		})
		dbURL = cluster.URL("gooni")
	}
	st, err := openStore(ctx, dbURL)
	if err != nil {
		return err
	}
	stops = append(stops, st.Close)

	address, uiAddress := cfg.TemporalAddress, ""
	if address == "" {
		srv, err := devtemporal.Start(ctx, devtemporal.Config{
			DataDir: filepath.Join(dataDir, "temporal"), Port: cfg.DevTemporalPort, UIPort: cfg.DevUIPort, UIEnabled: true,
			Namespace: cfg.TemporalNamespace, SearchAttributes: temporalsetup.SearchAttributes(), Logger: logger.With("component", "temporal-server"),
		})
		if err != nil {
			return fmt.Errorf("start embedded Temporal: %w", err)
		}
		stops = append(stops, srv.Stop)
		address, uiAddress = srv.FrontendAddress(), srv.UIAddress()
	}
	tc, err := stack.DialTemporal(ctx, address, cfg.TemporalNamespace, logger, dialWait)
	if err != nil {
		return err
	}
	stops = append(stops, tc.Close)
	if cfg.TemporalAddress != "" {
		if err := temporalsetup.EnsureSearchAttributes(ctx, tc, cfg.TemporalNamespace, temporalsetup.SearchAttributes()); err != nil {
			return err
		}
	}

	arts, err := artifact.NewLocal(filepath.Join(dataDir, "artifacts"))
	if err != nil {
		return err
	}
	mcfg, err := maintenanceConfig(cfg, logger)
	if err != nil {
		return err
	}
	cw, err := stack.StartControlWorkerWith(tc, workflows.ControlTaskQueue, st, arts,
		stack.ControlWorkerConfig{Control: control.Config{Retention: cfg.Retention, Logger: logger}, Maintenance: mcfg})
	if err != nil {
		return err
	}
	stops = append(stops, cw.Stop)
	if err := stack.EnsureSchedules(ctx, tc, "", workflows.ControlTaskQueue, logger); err != nil {
		return err
	}
	if !*noGPU {
		if err := startDevGPUWorker(cfg, tc, cat, arts, st, dataDir, logger, &stops); err != nil {
			return err
		}
	}

	apiCfg := apiConfig(cfg, apiKey, logger)
	if os.Getenv("GOONI_COOKIE_SECURE") == "" {
		apiCfg.InsecureCookies = true // dev serves plain HTTP; browsers drop Secure cookies off localhost
	}
	if apiCfg.TemporalUIURL == "" && uiAddress != "" {
		apiCfg.TemporalUIURL = uiAddress // admin answers link the embedded Web UI
	}
	srv, err := api.New(apiCfg,
		api.Deps{Store: st, Temporal: tc, Catalogue: cat, Artifacts: arts})
	if err != nil {
		return err
	}
	printBanner(cfg.HTTPAddr, uiAddress, cfg.TemporalNamespace, dataDir, secrets)
	return serveFor(ctx, srv, cfg.HTTPAddr, cfg.Ops.ShutdownTimeout, func() {}, logger)
}

// startDevGPUWorker runs a GPU worker in-process serving every lane with this binary's CPU runner.
func startDevGPUWorker(cfg config.Config, tc client.Client, cat *settings.Catalogue, arts artifact.Store, st *store.Store, dataDir string, logger *slog.Logger, stops *[]func()) error {
	cmd, err := runnerCommand(cfg)
	if err != nil {
		return err
	}
	workDir := filepath.Join(dataDir, "work")
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return err
	}
	g, err := stack.StartGPUWorker(tc, cat, arts, workers.StoreReporter{Store: st}, stack.GPUWorkerConfig{
		Shared: true, RunnerName: cfg.RunnerName, RunnerCommand: cmd, WorkDir: workDir, Logger: logger.With("component", "gpu-worker"),
	})
	if err != nil {
		return err
	}
	*stops = append(*stops, g.Stop)
	return nil
}

// printBanner tells the person who ran `make run` where everything is. A key is printed only
// when it was just generated (to the terminal, never to the log).
func printBanner(httpAddr, uiAddress, namespace, dataDir string, secrets devSecrets) {
	fmt.Fprintf(os.Stdout, "\nGooni is running (dev mode, CPU runner: results are rendered stand-ins, not real model output)\n")
	fmt.Fprintf(os.Stdout, "  Studio:     http://%s/\n", httpAddr)
	fmt.Fprintf(os.Stdout, "  Admin:      http://%s/admin\n", httpAddr)
	fmt.Fprintf(os.Stdout, "  API:        http://%s   (try: curl http://%s/health; docs at /docs)\n", httpAddr, httpAddr)
	if uiAddress != "" {
		fmt.Fprintf(os.Stdout, "  Web UI:     %s/namespaces/%s/workflows\n", uiAddress, namespace)
	}
	fmt.Fprintf(os.Stdout, "  Data dir:   %s\n", dataDir)
	printKey("API key:  ", "API_KEY", secrets.APIKey, secrets.APIKeyGenerated, filepath.Join(dataDir, "api_key"))
	printKey("Admin key:", "ADMIN_KEY", secrets.AdminKey, secrets.AdminKeyGenerated, filepath.Join(dataDir, "admin_key"))
	fmt.Fprintf(os.Stdout, "Press Ctrl-C to stop.\n\n")
}

// printKey prints a just-generated key once, otherwise only where it comes from.
func printKey(label, env, key string, generated bool, path string) {
	if generated {
		fmt.Fprintf(os.Stdout, "  %s  %s   (generated once; kept in %s)\n", label, key, path)
		return
	}
	fmt.Fprintf(os.Stdout, "  %s  from %s or %s\n", label, env, path)
}
