// Command gooni runs Gooni: `gooni dev` (everything in one process, built with -tags dev),
// `gooni api`, `gooni worker control`, `gooni worker gpu`, `gooni migrate` and
// `gooni runner cpu` (the CPU model runner a GPU worker starts as its child process), and the
// API client commands `gooni generate`, `gooni status`, `gooni gallery` and `gooni cancel`,
// and `gooni admin …` for operators.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/gooni/gooni/internal/cli"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

// commands maps names ("worker gpu") to subcommands; dev.go adds "dev" when built with -tags dev.
var commands = map[string]command{
	"api":            {"serve the HTTP API", runAPI},
	"worker control": {"run the control worker (workflows, task state)", runControlWorker},
	"worker gpu":     {"run a GPU worker for the given lanes", runGPUWorker},
	"migrate":        {"apply database migrations and exit", runMigrate},
	"probe":          {"exit 0 when a URL answers 200 (container health checks: gooni probe http://127.0.0.1:9090/readyz)", runProbe},
	"runner cpu":     {"the CPU model runner (started by GPU workers; speaks JSON lines on stdin/stdout)", runCPURunner},
	"generate":       {"submit a generation, show its progress and download the result (GOONI_URL, API_KEY)", clientCommand(cli.Generate)},
	"status":         {"show a task's status", clientCommand(cli.Status)},
	"gallery":        {"list finished items", clientCommand(cli.Gallery)},
	"cancel":         {"cancel a task", clientCommand(cli.Cancel)},
	"admin":          {"admin operations: accounts create|list|disable, rotate-keys, maintenance <name> (GOONI_URL, ADMIN_KEY)", clientCommand(cli.Admin)},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	name, cmd, rest, ok := lookup(os.Args[1:])
	if !ok {
		usage()
		os.Exit(2)
	}
	if err := cmd.run(ctx, rest); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(os.Stderr, "gooni %s: %v\n", name, err)
		os.Exit(1)
	}
}

// lookup finds the longest command name that prefixes args.
func lookup(args []string) (string, command, []string, bool) {
	for n := min(2, len(args)); n >= 1; n-- {
		name := strings.Join(args[:n], " ")
		if c, ok := commands[name]; ok {
			return name, c, args[n:], true
		}
	}
	return "", command{}, nil, false
}

func usage() {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(os.Stderr, "usage: gooni <command> [flags]\n\ncommands:")
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-16s %s\n", n, commands[n].summary)
	}
}
