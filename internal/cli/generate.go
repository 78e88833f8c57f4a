package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/google/uuid"

	"github.com/gooni/gooni/internal/client"
)

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ", ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// GenerateOptions are the hooks of a generate run besides its flags.
type GenerateOptions struct {
	// OnStatus, when set, is called with every status the command sees (tests observe progress).
	OnStatus func(*client.Status)
}

// Generate is `gooni generate`: submit, follow the progress, download the result.
func Generate(ctx context.Context, env Env, args []string) error {
	return GenerateWith(ctx, env, args, GenerateOptions{})
}

// GenerateWith is Generate with hooks.
func GenerateWith(ctx context.Context, env Env, args []string, opts GenerateOptions) error {
	fs := newFlagSet("generate", `--model ID --prompt "…" [--mode M] [--param name=value …] [--image field=path …] [--out FILE] [--no-wait]`, env.Stderr)
	var spec client.RequestSpec
	var params, images stringList
	fs.StringVar(&spec.Model, "model", "", "model id (GET /models lists them)")
	fs.StringVar(&spec.Prompt, "prompt", "", "what to generate")
	fs.StringVar(&spec.Mode, "mode", "", "the model's mode (default: the model's default mode)")
	fs.Var(&params, "param", "a parameter, name=value (numbers and true/false are sent as JSON numbers and booleans); repeatable")
	fs.Var(&images, "image", "a reference image, field=path (sent as a data URI); repeatable")
	out := fs.String("out", "", "where to save the result (default <task_id>.<ext>)")
	noWait := fs.Bool("no-wait", false, "print the task id and exit without waiting")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return quietHelp(err)
	}
	if len(pos) > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected argument %q (quote the prompt: --prompt \"…\")", pos[0])
	}
	spec.Params, spec.Images = params, images
	body, err := spec.Body()
	if err != nil {
		return err
	}
	c, err := env.newClient()
	if err != nil {
		return err
	}
	// One key per invocation: the client's own retries after a network failure reuse it, so
	// the API never starts a second generation for this command.
	accepted, err := c.Generate(ctx, body, uuid.NewString())
	if err != nil {
		return explain(err)
	}
	if *noWait {
		fmt.Fprintln(env.Stdout, accepted.TaskID)
		return nil
	}
	fmt.Fprintf(env.Stdout, "task %s submitted (%s)\n", accepted.TaskID, accepted.Status)

	view := newProgressView(env)
	final, err := c.Wait(ctx, accepted.TaskID, func(st *client.Status) {
		if opts.OnStatus != nil {
			opts.OnStatus(st)
		}
		view.update(st)
	})
	view.close()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintf(env.Stderr, "interrupted; the task goes on: gooni status %s, or gooni cancel %s\n", accepted.TaskID, accepted.TaskID)
		}
		return explain(err)
	}
	switch final.Status {
	case "failed":
		msg := final.ErrorMsg
		if msg == "" {
			msg = "no message"
		}
		return fmt.Errorf("task %s failed [%s]: %s", final.TaskID, final.ErrorCode, msg)
	case "cancelled":
		return fmt.Errorf("task %s was cancelled", final.TaskID)
	}
	path, ct, err := c.Download(ctx, final.TaskID, *out, env.Dir)
	if err != nil {
		return explain(err)
	}
	size := ""
	if fi, err := os.Stat(path); err == nil {
		size = fmt.Sprintf(", %s", humanBytes(fi.Size()))
	}
	fmt.Fprintf(env.Stdout, "saved %s (%s%s, seed %d)\n", path, ct, size, final.Seed)
	return nil
}

// humanBytes formats a size such as 1.2 MiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
