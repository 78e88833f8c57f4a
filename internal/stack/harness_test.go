package stack_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/gooni/gooni/activities/control"
	"github.com/gooni/gooni/activities/maintenance"
	"github.com/gooni/gooni/api"
	"github.com/gooni/gooni/internal/artifact"
	"github.com/gooni/gooni/internal/pgtest"
	"github.com/gooni/gooni/internal/secret"
	"github.com/gooni/gooni/internal/stack"
	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/settings"
	"github.com/gooni/gooni/workers"
)

const testAPIKey = "test-key-0123456789abcdef"

// env is one isolated Gooni stack: its own database schema, control task queue and lanes on the
// shared Temporal server, a real API on a loopback port, a control worker and (optionally) a GPU
// worker whose runners are real child processes.
type env struct {
	t         *testing.T
	baseURL   string
	store     *store.Store
	temporal  client.Client
	catalogue *settings.Catalogue
	gpu       *stack.GPUWorker
	logs      *syncBuffer
	srv       *api.Server
	artifacts artifact.Store

	// apiCfg and apiDeps are what srv was built with, for tests that start a second API replica.
	apiCfg  api.Config
	apiDeps api.Deps
	logger  *slog.Logger
}

type envOptions struct {
	noGPUWorker bool
	// gpuModels are the dedicated lanes the GPU worker serves (nil: all; empty: none).
	gpuModels []string
	// sharedLane makes the GPU worker serve the shared lane too.
	sharedLane bool
	bodyLimit  int
	// corsOrigins are the browser origins the API allows (api.Config.CORSOrigins).
	corsOrigins []string
	// edit changes the catalogue JSON before it is parsed (e.g. shorter timeouts).
	edit func(string) string
	// api changes the API's configuration or dependencies before it starts.
	api func(*api.Config, *api.Deps)
	// generatePerMinute and maxActiveTasks are the API's per-client limits; 0 leaves them high
	// (tests submit many tasks quickly).
	generatePerMinute, maxActiveTasks int
	// adminKey and accountsKey are ADMIN_KEY and ACCOUNTS_ENCRYPT_KEY ("": unset); the control
	// worker gets accountsKey too when it parses.
	adminKey, accountsKey string
	// maintenance changes the control worker's maintenance configuration.
	maintenance func(*maintenance.Config)
	// runnerEnv is added to the CPU runner's environment after the defaults (a later value of
	// the same variable wins), e.g. a slower GOONI_CPU_RUNNER_STEP_DELAY.
	runnerEnv []string
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// setup starts an isolated stack for t. Lanes and the control queue are prefixed with the test's
// name so tests sharing the Temporal server never take each other's work.
func setup(t *testing.T, opts envOptions) *env {
	t.Helper()
	prefix := strings.Trim(nonWord.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	raw, err := os.ReadFile("../../settings/inference_settings.json")
	require.NoError(t, err)
	text := strings.ReplaceAll(string(raw), `"gpu-`, `"`+prefix+`-gpu-`)
	if opts.edit != nil {
		text = opts.edit(text)
	}
	cat, err := settings.Parse([]byte(text))
	require.NoError(t, err)

	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(io.MultiWriter(logs, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	st := pgtest.NewStore(t)
	tc, err := temporalServer.NewClient()
	require.NoError(t, err)
	t.Cleanup(tc.Close)
	arts, err := artifact.NewLocal(t.TempDir())
	require.NoError(t, err)

	controlQueue := prefix + "-control"
	mcfg := maintenance.Config{}
	if keys, err := secret.ParseKeys(opts.accountsKey); err == nil {
		mcfg.Keys = keys
	}
	if opts.maintenance != nil {
		opts.maintenance(&mcfg)
	}
	cw, err := stack.StartControlWorkerWith(tc, controlQueue, st, arts, stack.ControlWorkerConfig{
		Control: control.Config{Logger: logger}, Maintenance: mcfg})
	require.NoError(t, err)
	t.Cleanup(cw.Stop)

	e := &env{t: t, store: st, temporal: tc, catalogue: cat, logs: logs, logger: logger}
	if !opts.noGPUWorker {
		exe, err := os.Executable()
		require.NoError(t, err)
		g, err := stack.StartGPUWorker(tc, cat, arts, workers.StoreReporter{Store: st}, stack.GPUWorkerConfig{
			Models:        opts.gpuModels,
			Shared:        opts.sharedLane,
			RunnerName:    "cpu",
			RunnerCommand: []string{exe},
			RunnerEnv: append([]string{runnerEnv + "=1", "GORACE=atexit_sleep_ms=0", "GOONI_CPU_RUNNER_STEP_DELAY=40ms",
				"GOONI_CPU_RUNNER_LOAD_DELAY=50ms"}, opts.runnerEnv...),
			WorkDir: t.TempDir(),
			Logger:  logger,
		})
		require.NoError(t, err)
		t.Cleanup(g.Stop)
		e.gpu = g
	}

	apiCfg := api.Config{APIKey: testAPIKey, ControlQueue: controlQueue, Logger: logger, BodyLimit: opts.bodyLimit,
		CORSOrigins: opts.corsOrigins}
	apiCfg.GeneratePerMinute = cmp.Or(opts.generatePerMinute, 100_000)
	apiCfg.MaxActiveTasks = cmp.Or(opts.maxActiveTasks, 1000)
	apiCfg.AdminKey, apiCfg.AccountsEncryptKey = opts.adminKey, opts.accountsKey
	apiDeps := api.Deps{Store: st, Temporal: tc, Catalogue: cat, Artifacts: arts}
	if opts.api != nil {
		opts.api(&apiCfg, &apiDeps)
	}
	srv, err := api.New(apiCfg, apiDeps)
	require.NoError(t, err)
	e.apiCfg, e.apiDeps = apiCfg, apiDeps
	e.srv, e.artifacts = srv, arts
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.App().Shutdown() })
	e.baseURL = "http://" + ln.Addr().String()
	return e
}

// do sends a request with the API key and returns the status and body.
func (e *env) do(method, path string, body any, header map[string]string) (int, []byte, http.Header) {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(e.t, err)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.baseURL+path, r)
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", testAPIKey)
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return resp.StatusCode, out, resp.Header
}

// status is the subset of GET /status the tests read.
type status struct {
	TaskID      string  `json:"task_id"`
	Status      string  `json:"status"`
	Progress    float64 `json:"progress"`
	Stage       string  `json:"stage"`
	StageDetail string  `json:"stage_detail"`
	LaneMode    string  `json:"lane_mode"`
	ErrorCode   string  `json:"error_code"`
	ErrorMsg    string  `json:"error_msg"`
	ResultURL   string  `json:"result_url"`
	PreviewURL  string  `json:"preview_url"`
	Seed        int64   `json:"seed"`
	Width       int     `json:"width"`
	Height      int     `json:"height"`
}

// waitTerminal polls GET /status until the task ends, returning every status seen.
func (e *env) waitTerminal(taskID string, timeout time.Duration) []status {
	e.t.Helper()
	var seen []status
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		code, body, _ := e.do("GET", "/status/"+taskID, nil, nil)
		require.Equal(e.t, http.StatusOK, code, string(body))
		var s status
		require.NoError(e.t, json.Unmarshal(body, &s))
		seen = append(seen, s)
		switch s.Status {
		case "done", "failed", "cancelled":
			return seen
		}
		time.Sleep(50 * time.Millisecond)
	}
	e.t.Fatalf("task %s did not end within %s; last status %+v", taskID, timeout, seen[len(seen)-1])
	return nil
}

// envelope is the error envelope.
type envelope struct {
	Code       string         `json:"code"`
	Detail     string         `json:"detail"`
	UserAction string         `json:"user_action"`
	Metadata   map[string]any `json:"metadata"`
}

func decodeEnvelope(t *testing.T, body []byte) envelope {
	t.Helper()
	var env envelope
	require.NoError(t, json.Unmarshal(body, &env), string(body))
	require.NotEmpty(t, env.Code, string(body))
	require.NotEmpty(t, env.Detail, string(body))
	require.NotEmpty(t, env.UserAction, string(body))
	return env
}

// syncBuffer collects log output for assertions (e.g. that a key never appears).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testWriter sends log lines to t.Log so a failing test shows what the stack did.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
