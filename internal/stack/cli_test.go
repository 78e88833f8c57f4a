package stack_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/cli"
	"github.com/gooni/gooni/internal/client"
)

// cliEnv runs the gooni client commands against e's API as a person would from a pipe (plain
// progress lines), with output captured.
type cliEnv struct {
	cli.Env
	stdout, stderr *bytes.Buffer
}

func (e *env) cli() *cliEnv {
	vars := map[string]string{"GOONI_URL": e.baseURL, "API_KEY": testAPIKey}
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &cliEnv{
		Env:    cli.Env{Stdout: out, Stderr: errOut, Getenv: func(k string) string { return vars[k] }, Dir: e.t.TempDir()},
		stdout: out, stderr: errOut,
	}
}

func (e *env) client() *client.Client {
	c, err := client.New(client.Config{BaseURL: e.baseURL, APIKey: testAPIKey, PollInterval: 100 * time.Millisecond})
	require.NoError(e.t, err)
	return c
}

// TestCLIGenerateFollowsRealProgressAndDownloadsThePNG runs `gooni generate` against the real
// stack: it submits, follows the live event stream (several distinct progress values, with the
// step), saves <task_id>.png as a real 512×512 PNG, and never prints the API key. `gooni status`
// and `gooni gallery` then show the task.
func TestCLIGenerateFollowsRealProgressAndDownloadsThePNG(t *testing.T) {
	e := setup(t, envOptions{})
	ce := e.cli()
	var mu sync.Mutex
	var progress []float64
	err := cli.GenerateWith(context.Background(), ce.Env, []string{
		"--model", "pony", "--prompt", "a lighthouse at dusk", "--param", "width=512", "--param", "height=512", "--param", "steps=20",
		"--param", "sampler=Euler a",
	}, cli.GenerateOptions{OnStatus: func(st *client.Status) {
		mu.Lock()
		defer mu.Unlock()
		progress = append(progress, st.Progress)
	}})
	require.NoError(t, err, "stdout:\n%s\nstderr:\n%s", ce.stdout, ce.stderr)
	out := ce.stdout.String()
	t.Logf("gooni generate printed:\n%s", out)

	require.GreaterOrEqual(t, len(distinct(progress)), 3, "progress moved through several values: %v", progress)
	require.Equal(t, 100.0, progress[len(progress)-1])
	require.Regexp(t, `(?m)inference · step \d+/20`, out, "progress lines show the stage and step")
	require.Regexp(t, `(?m)ETA \d+s`, out, "progress lines show an ETA")

	files, err := filepath.Glob(filepath.Join(ce.Dir, "*.png"))
	require.NoError(t, err)
	require.Len(t, files, 1, "the result is saved as <task_id>.png")
	taskID := strings.TrimSuffix(filepath.Base(files[0]), ".png")
	require.Contains(t, out, "task "+taskID+" submitted")
	require.Contains(t, out, "saved "+files[0])
	raw, err := os.ReadFile(files[0])
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(raw))
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 512, 512), img.Bounds())

	st := e.getStatus(taskID)
	require.Equal(t, "done", st.Status)

	ce2 := e.cli()
	require.NoError(t, cli.Status(context.Background(), ce2.Env, []string{taskID}))
	require.Regexp(t, `(?m)^status\s+done$`, ce2.stdout.String())
	require.Regexp(t, `(?m)^progress\s+100\.0%$`, ce2.stdout.String())

	ce3 := e.cli()
	err = cli.Gallery(context.Background(), ce3.Env, []string{"--model", "pony", "--per-page", "5"})
	var apiErr *cli.APIError
	if errors.As(err, &apiErr) && apiErr.Env.Code == "route_not_found" {
		t.Logf("this API has no gallery; the CLI printed: %v", err)
	} else {
		require.NoError(t, err, ce3.stderr.String())
		require.Contains(t, ce3.stdout.String(), taskID, "the gallery lists the finished task")
		require.Contains(t, ce3.stdout.String(), "page 1, 1 of 1 items")
	}

	for _, s := range []string{out, ce.stderr.String(), ce2.stdout.String(), ce3.stdout.String()} {
		require.NotContains(t, s, testAPIKey, "the API key is never printed")
	}
}

// TestCLICancelStopsARunningTask cancels a running generation with `gooni cancel` and sees the
// task end cancelled through the client's stream; a second cancel prints the API's refusal.
func TestCLICancelStopsARunningTask(t *testing.T) {
	e := setup(t, envOptions{})
	c := e.client()
	ctx := context.Background()
	accepted, err := c.Generate(ctx, map[string]any{"model": "pony", "prompt": "a long run", "width": 512, "height": 512, "steps": 60}, "cli-cancel-1")
	require.NoError(t, err)
	e.waitStatus(accepted.TaskID, 60*time.Second, "processing with progress > 5", func(s status) bool {
		return s.Status == "processing" && s.Progress > 5
	})

	ce := e.cli()
	require.NoError(t, cli.Cancel(ctx, ce.Env, []string{accepted.TaskID}))
	require.Equal(t, "task "+accepted.TaskID+": cancelling\n", ce.stdout.String())

	waitCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	final, err := c.Wait(waitCtx, accepted.TaskID, nil)
	require.NoError(t, err)
	require.Equal(t, "cancelled", final.Status)
	require.Less(t, final.Progress, 100.0)

	ce2 := e.cli()
	err = cli.Cancel(ctx, ce2.Env, []string{accepted.TaskID})
	var apiErr *cli.APIError
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "task_already_finished", apiErr.Env.Code)
	require.Contains(t, err.Error(), "The task has already ended (cancelled).")
	require.Contains(t, err.Error(), "what to do: Nothing to cancel")
}

// TestCLIPrintsTheErrorEnvelopeForABadModel: a request the API refuses comes back as the
// envelope's detail, failing fields and advice, and nothing is created.
func TestCLIPrintsTheErrorEnvelopeForABadModel(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true})
	ce := e.cli()
	err := cli.Generate(context.Background(), ce.Env, []string{"--model", "sdxl", "--prompt", "x"})
	var apiErr *cli.APIError
	require.ErrorAs(t, err, &apiErr, "%v", err)
	require.Equal(t, 422, apiErr.Env.Status)
	msg := err.Error()
	t.Logf("gooni generate printed: %s", msg)
	require.Contains(t, msg, "[validation_error, HTTP 422]")
	require.Contains(t, msg, `model: model "sdxl" does not exist`)
	require.Contains(t, msg, "what to do: Fix the fields listed in metadata.fields")
	require.NotContains(t, msg, testAPIKey)
	require.Equal(t, 0, e.countTasks())

	// A wrong key is the envelope too, and the key the CLI sent is not in the message.
	wrong := e.cli()
	wrong.Getenv = func(k string) string {
		return map[string]string{"GOONI_URL": e.baseURL, "API_KEY": "wrong-key-wrong-key"}[k]
	}
	err = cli.Status(context.Background(), wrong.Env, []string{"00000000-0000-4000-8000-000000000000"})
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, "invalid_api_key", apiErr.Env.Code)
	require.NotContains(t, err.Error(), "wrong-key-wrong-key")
}
