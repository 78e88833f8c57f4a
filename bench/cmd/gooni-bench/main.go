// Command gooni-bench starts a whole Gooni stack in-process on loopback (throwaway PostgreSQL or
// DATABASE_URL, embedded Temporal, control worker, GPU workers with real runner processes, the
// HTTP API) and measures it against a bare Temporal workflow on the same server, in the same run.
// It prints `BENCH <name> <value> <unit>` lines on stdout and a summary on stderr; see
// bench/README.md. Run from the repository root: `make bench`.
//
// The same binary is the runner process its GPU workers start (see bench/runnertrace).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gooni/gooni/bench/benchstack"
	"github.com/gooni/gooni/bench/micro"
	"github.com/gooni/gooni/bench/runnertrace"
	"github.com/gooni/gooni/bench/stats"
	"github.com/gooni/gooni/bench/suite"
)

func main() {
	if runnertrace.Enabled() {
		if err := runnertrace.Main(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "runner:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gooni-bench:", err)
		os.Exit(1)
	}
}

func run() error {
	d := suite.Defaults
	var opts suite.Options
	only := flag.String("only", "", "comma-separated benchmarks to run: micro,"+strings.Join(suite.Benchmarks, ",")+" (default: all)")
	flag.IntVar(&opts.Warmups, "warmups", d.Warmups, "overhead: warm-up runs")
	flag.IntVar(&opts.Runs, "runs", d.Runs, "overhead: measured sequential runs")
	flag.IntVar(&opts.Concurrent, "concurrent", d.Concurrent, "throughput: generations (and bare workflows) submitted at once")
	flag.IntVar(&opts.LaneConcurrency, "lane-concurrency", d.LaneConcurrency, "throughput: GPU worker concurrency for the model")
	flag.IntVar(&opts.ProgressRuns, "progress-runs", d.ProgressRuns, "progress: runs")
	flag.IntVar(&opts.ProgressSteps, "progress-steps", d.ProgressSteps, "progress: steps per run")
	flag.DurationVar(&opts.ProgressStepDelay, "progress-step-delay", d.ProgressStepDelay, "progress: runner step pacing")
	flag.IntVar(&opts.ReuseJobs, "reuse-jobs", d.ReuseJobs, "reuse: jobs queued on one worker")
	verbose := flag.Bool("v", false, "log the stack at info level (default: warnings)")
	logPath := flag.String("log", "", "write the stack's logs to this file instead of stderr")
	flag.Parse()

	want := map[string]bool{}
	var names []string
	for _, n := range strings.Split(*only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
			if n != "micro" {
				names = append(names, n)
			}
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep := stats.Reporter{Out: os.Stdout, Log: os.Stderr}
	began := time.Now()
	rep.Logf("gooni-bench: %d CPUs, %s %s/%s; every figure below is measured in this run", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH)

	if len(want) == 0 || want["micro"] {
		rep.Logf("\n== micro")
		micro.Report(rep)
	}
	if len(want) == 0 || len(names) > 0 {
		level := slog.LevelWarn
		if *verbose {
			level = slog.LevelInfo
		}
		logOut := io.Writer(os.Stderr)
		if *logPath != "" {
			f, err := os.Create(*logPath)
			if err != nil {
				return err
			}
			defer f.Close()
			logOut = f
		}
		counted := newCountingHandler(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level}))
		logger := slog.New(counted)
		defer func() {
			if *logPath != "" {
				rep.Logf("\nthe stack logged %d warnings and %d errors (in %s)", counted.counts.warn.Load(), counted.counts.err.Load(), *logPath)
			}
		}()
		startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		t0 := time.Now()
		s, err := benchstack.Start(startCtx, benchstack.Config{DatabaseURL: os.Getenv("DATABASE_URL"), Logger: logger})
		cancel()
		if err != nil {
			return err
		}
		defer s.Stop()
		db := "DATABASE_URL"
		if s.PostgresLocal {
			db = "throwaway PostgreSQL cluster (fsync off)"
		}
		rep.Logf("stack up in %s: %s, embedded Temporal (SQLite, WAL), control worker, API on loopback", time.Since(t0).Round(time.Millisecond), db)
		su, err := suite.New(s, rep, opts)
		if err != nil {
			return err
		}
		defer su.Close()
		if err := su.Run(ctx, names); err != nil {
			return err
		}
	}
	rep.Logf("\ngooni-bench: done in %s", time.Since(began).Round(100*time.Millisecond))
	return nil
}

// countingHandler counts the warnings and errors the stack logs.
type countingHandler struct {
	slog.Handler
	counts *logCounts
}

type logCounts struct{ warn, err atomic.Int64 }

func newCountingHandler(h slog.Handler) *countingHandler {
	return &countingHandler{Handler: h, counts: &logCounts{}}
}

func (h *countingHandler) Handle(ctx context.Context, r slog.Record) error {
	switch {
	case r.Level >= slog.LevelError:
		h.counts.err.Add(1)
	case r.Level >= slog.LevelWarn:
		h.counts.warn.Add(1)
	}
	return h.Handler.Handle(ctx, r)
}

func (h *countingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &countingHandler{Handler: h.Handler.WithAttrs(attrs), counts: h.counts}
}

func (h *countingHandler) WithGroup(name string) slog.Handler {
	return &countingHandler{Handler: h.Handler.WithGroup(name), counts: h.counts}
}
