package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gooni/gooni/internal/client"
)

// adminUsage lists the `gooni admin` subcommands.
const adminUsage = `usage: gooni admin <command> [flags]

commands:
  accounts create --label L --lanes a,b [--limit N]   add a GPU worker account; prints its worker token once
  accounts list [--json]                              list the accounts with status and usage
  accounts disable <id> [--reason R]                  disable an account; its workers stop taking work
  rotate-keys [--no-wait]                             re-encrypt every account secret under the newest key
  maintenance <name> [--wait]                         start a maintenance workflow (cleanup, reconcile, warmup,
                                                      audit-retention, rotate-keys, health-sweep)

environment: GOONI_URL (default ` + client.DefaultURL + `), ADMIN_KEY (the API's admin key; each command
starts an admin session with it, keeps the session cookie in memory only and ends it on exit)
`

// Admin is `gooni admin …`: the admin operations for operators without a browser.
func Admin(ctx context.Context, env Env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(env.Stderr, adminUsage)
		if len(args) == 0 {
			return errors.New("name an admin command")
		}
		return nil
	}
	switch {
	case len(args) >= 2 && args[0] == "accounts" && args[1] == "create":
		return adminCreateAccount(ctx, env, args[2:])
	case len(args) >= 2 && args[0] == "accounts" && args[1] == "list":
		return adminListAccounts(ctx, env, args[2:])
	case len(args) >= 2 && args[0] == "accounts" && args[1] == "disable":
		return adminDisableAccount(ctx, env, args[2:])
	case args[0] == "rotate-keys":
		return adminRotateKeys(ctx, env, args[1:])
	case args[0] == "maintenance":
		return adminMaintenance(ctx, env, args[1:])
	}
	fmt.Fprint(env.Stderr, adminUsage)
	return fmt.Errorf("unknown admin command %q", strings.Join(args, " "))
}

// withAdmin starts an admin session from ADMIN_KEY, runs fn and ends the session.
func withAdmin(ctx context.Context, env Env, fn func(*client.Admin) error) error {
	c, err := client.New(client.Config{BaseURL: env.Getenv("GOONI_URL"), HTTP: env.HTTP})
	if err != nil {
		return err
	}
	a, err := c.AdminSession(ctx, env.Getenv("ADMIN_KEY"))
	if err != nil {
		return explain(err)
	}
	defer func() {
		// Best effort: the session also ends by itself after its idle timeout.
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = a.Close(closeCtx)
	}()
	return explain(fn(a))
}

// newAdminFlagSet is newFlagSet with the admin environment in its usage.
func newAdminFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := newFlagSet("admin "+name, usage, stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: gooni admin %s %s\n\nenvironment: GOONI_URL (default %s), ADMIN_KEY\n\nflags:\n", name, usage, client.DefaultURL)
		fs.PrintDefaults()
	}
	return fs
}

func noArgs(fs *flag.FlagSet, pos []string) error {
	if len(pos) > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected argument %q", pos[0])
	}
	return nil
}

func adminCreateAccount(ctx context.Context, env Env, args []string) error {
	fs := newAdminFlagSet("accounts create", "--label L --lanes a,b [--limit GPU-SECONDS]", env.Stderr)
	label := fs.String("label", "", "the account's name (required)")
	lanes := fs.String("lanes", "", "comma-separated lanes its workers may serve (required; GET /admin/queues lists them)")
	limit := fs.Float64("limit", 0, "monthly limit in GPU-seconds (0: none); its workers stop at 90%")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return quietHelp(err)
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if *label == "" || *lanes == "" {
		fs.Usage()
		return errors.New("--label and --lanes are required")
	}
	var ls []string
	for _, l := range strings.Split(*lanes, ",") {
		if l = strings.TrimSpace(l); l != "" {
			ls = append(ls, l)
		}
	}
	return withAdmin(ctx, env, func(a *client.Admin) error {
		acc, err := a.CreateAccount(ctx, client.AccountRequest{Label: *label, Lanes: ls, MonthlyLimitGPUSeconds: *limit})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "account %s (%s) created, status %s, lanes %s\n", acc.ID, acc.Label, acc.Status, strings.Join(acc.Lanes, ","))
		fmt.Fprintf(env.Stdout, "worker token (shown once; give it to the account's GPU workers as GOONI_WORKER_TOKEN):\n%s\n", acc.WorkerToken)
		return nil
	})
}

func adminListAccounts(ctx context.Context, env Env, args []string) error {
	fs := newAdminFlagSet("accounts list", "[--json]", env.Stderr)
	asJSON := fs.Bool("json", false, "print the API's JSON")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return quietHelp(err)
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	return withAdmin(ctx, env, func(a *client.Admin) error {
		accs, err := a.Accounts(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(env, accs)
		}
		w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tLABEL\tSTATUS\tLANES\tUSAGE\tLAST SEEN\tREASON")
		for _, acc := range accs {
			usage := fmt.Sprintf("%.0f GPU-s", acc.Usage.GPUSeconds)
			if acc.Usage.LimitGPUSeconds > 0 {
				usage += fmt.Sprintf(" (%.0f%%)", acc.Usage.Fraction*100)
			}
			seen := "-"
			if acc.LastSeenAt != nil {
				seen = acc.LastSeenAt.Local().Format(time.DateTime)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", acc.ID, acc.Label, acc.Status, strings.Join(acc.Lanes, ","), usage, seen,
				truncate(acc.StatusReason, 60))
		}
		if err := w.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "%d account(s)\n", len(accs))
		return nil
	})
}

func adminDisableAccount(ctx context.Context, env Env, args []string) error {
	fs := newAdminFlagSet("accounts disable", "<id> [--reason R]", env.Stderr)
	reason := fs.String("reason", "", "why (recorded with the change)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return quietHelp(err)
	}
	if len(pos) != 1 || pos[0] == "" {
		fs.Usage()
		return errors.New("want exactly one account id")
	}
	return withAdmin(ctx, env, func(a *client.Admin) error {
		acc, err := a.DisableAccount(ctx, pos[0], *reason)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "account %s (%s): %s: %s\n", acc.ID, acc.Label, acc.Status, acc.StatusReason)
		return nil
	})
}

func adminRotateKeys(ctx context.Context, env Env, args []string) error {
	fs := newAdminFlagSet("rotate-keys", "[--no-wait]", env.Stderr)
	noWait := fs.Bool("no-wait", false, "print the run and return without waiting for its counts")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return quietHelp(err)
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	return runMaintenance(ctx, env, "rotate-keys", !*noWait)
}

func adminMaintenance(ctx context.Context, env Env, args []string) error {
	fs := newAdminFlagSet("maintenance", "<name> [--wait]", env.Stderr)
	wait := fs.Bool("wait", false, "wait for the run to end and print its result")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return quietHelp(err)
	}
	if len(pos) != 1 || pos[0] == "" {
		fs.Usage()
		return errors.New("want exactly one maintenance name")
	}
	return runMaintenance(ctx, env, pos[0], *wait)
}

// runMaintenance starts (or joins) the maintenance called name, prints its workflow id and Web
// UI link, and with wait prints its status and result once it ended.
func runMaintenance(ctx context.Context, env Env, name string, wait bool) error {
	return withAdmin(ctx, env, func(a *client.Admin) error {
		run, err := a.StartMaintenance(ctx, name, nil)
		if err != nil {
			return err
		}
		verb := "started"
		if run.Joined {
			verb = "joined the run in flight"
		}
		fmt.Fprintf(env.Stdout, "%s %s\nworkflow %s (run %s)\n%s\n", name, verb, run.WorkflowID, run.RunID, run.UIURL)
		if !wait {
			return nil
		}
		done, err := a.WaitMaintenance(ctx, run)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "status: %s\n", done.Status)
		if len(done.Result) > 0 {
			fmt.Fprintf(env.Stdout, "result: %s\n", done.Result)
		}
		if done.Status != "Completed" {
			return fmt.Errorf("%s ended %s: see %s", name, done.Status, run.UIURL)
		}
		return nil
	})
}
