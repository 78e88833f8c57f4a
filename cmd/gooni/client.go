package main

import (
	"context"
	"os"

	"golang.org/x/term"

	"github.com/gooni/gooni/internal/cli"
)

// clientCommand runs a client subcommand (internal/cli) against the API at GOONI_URL with the
// key in API_KEY, writing to this process's stdout and stderr.
func clientCommand(run func(context.Context, cli.Env, []string) error) func(context.Context, []string) error {
	return func(ctx context.Context, args []string) error {
		dir, err := os.Getwd()
		if err != nil {
			return err
		}
		return run(ctx, cli.Env{
			Stdout:   os.Stdout,
			Stderr:   os.Stderr,
			Getenv:   os.Getenv,
			Terminal: term.IsTerminal(int(os.Stdout.Fd())),
			Dir:      dir,
		}, args)
	}
}
