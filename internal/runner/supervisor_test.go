package runner_test

import (
	"bytes"
	"context"
	"image/png"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/runner"
)

// setup returns a Supervisor whose runner is this test binary in helper mode
// mode (see helperMain), closed when the test ends. cfg may set timeouts.
func setup(t *testing.T, mode string, cfg runner.Config) *runner.Supervisor {
	t.Helper()
	cfg.Command = []string{os.Args[0]}
	cfg.Env = append(cfg.Env,
		helperEnv+"="+mode,
		markerEnv+"="+filepath.Join(t.TempDir(), "crashed"),
		"GOONI_CPU_RUNNER_STEP_DELAY=5ms",
		"GOONI_CPU_RUNNER_LOAD_DELAY=10ms",
		// A race-enabled helper otherwise sleeps 1s before exiting.
		"GORACE=atexit_sleep_ms=0",
	)
	cfg.Model = "pony"
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s := runner.New(cfg)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// request is a small txt2img request writing into a fresh directory.
func request(t *testing.T, id string, steps int) runner.GenerateRequest {
	return runner.GenerateRequest{
		ID: id, Kind: runner.KindImage, Mode: "txt2img",
		Params:    map[string]any{"prompt": "a fox", "seed": 1, "width": 48, "height": 32, "steps": steps},
		OutputDir: t.TempDir(), OutputFormat: "png",
	}
}

// requireCode asserts err is an *runner.Error with code and retryable.
func requireCode(t *testing.T, err error, code string, retryable bool) {
	t.Helper()
	var e *runner.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, code, e.Code, "error: %v", err)
	require.Equal(t, retryable, e.Retryable, "error: %v", err)
}

func TestWarmRunnerLoadsModelOnce(t *testing.T) {
	t.Parallel()
	s := setup(t, "cpu", runner.Config{})
	for i := range 3 {
		var stages []string
		var steps int
		req := request(t, "r"+string(rune('0'+i)), 4)
		res, err := s.Generate(context.Background(), req, func(p runner.Progress) {
			stages = append(stages, p.Stage)
			if p.Stage == runner.StageInference {
				steps++
			}
		})
		require.NoError(t, err)
		require.Equal(t, req.OutputDir, filepath.Dir(res.Path))
		require.Equal(t, "image/png", res.MIME)
		require.Equal(t, [2]int{48, 32}, [2]int{res.Width, res.Height})
		f, err := os.Open(res.Path)
		require.NoError(t, err)
		cfg, err := png.DecodeConfig(f)
		require.NoError(t, f.Close())
		require.NoError(t, err)
		require.Equal(t, [2]int{48, 32}, [2]int{cfg.Width, cfg.Height})
		require.Equal(t, 4, steps)
		require.Equal(t, i == 0, stages[0] == runner.StageLoadingModel, "only the first request loads the model")
	}
	require.Equal(t, 1, s.Loads())
}

func TestCrashMidRequestIsRetryableAndRestartsRunner(t *testing.T) {
	t.Parallel()
	s := setup(t, "crash-once", runner.Config{})
	_, err := s.Generate(context.Background(), request(t, "a", 3), nil)
	requireCode(t, err, runner.CodeRunnerCrashed, true)
	require.Contains(t, err.Error(), "exit status 3")

	res, err := s.Generate(context.Background(), request(t, "b", 3), nil)
	require.NoError(t, err)
	require.FileExists(t, res.Path)
	require.Equal(t, 2, s.Loads())
}

func TestStalledRunnerIsKilled(t *testing.T) {
	t.Parallel()
	const stall = 300 * time.Millisecond
	s := setup(t, "stall", runner.Config{StallTimeout: stall})
	start := time.Now()
	_, err := s.Generate(context.Background(), request(t, "a", 3), nil)
	requireCode(t, err, runner.CodeRunnerStalled, true)
	require.Less(t, time.Since(start), stall+3*time.Second)

	// A fresh process serves (and stalls on) the next request.
	_, err = s.Generate(context.Background(), request(t, "b", 3), nil)
	requireCode(t, err, runner.CodeRunnerStalled, true)
	require.Equal(t, 2, s.Loads())
}

func TestCancelStopsRequestAndKeepsWarmRunner(t *testing.T) {
	t.Parallel()
	const grace = time.Second
	s := setup(t, "cpu", runner.Config{CancelGrace: grace})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelledAt time.Time
	_, err := s.Generate(ctx, request(t, "a", 1000), func(p runner.Progress) {
		if p.Stage == runner.StageInference && p.Step == 2 {
			cancelledAt = time.Now()
			cancel()
		}
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, time.Since(cancelledAt), grace)

	res, err := s.Generate(context.Background(), request(t, "b", 2), nil)
	require.NoError(t, err)
	require.FileExists(t, res.Path)
	require.Equal(t, 1, s.Loads(), "a runner that acknowledged the cancel stays loaded")
}

func TestIgnoredCancelKillsRunnerAfterGrace(t *testing.T) {
	t.Parallel()
	const grace = 100 * time.Millisecond
	s := setup(t, "ignore-cancel", runner.Config{CancelGrace: grace})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelledAt time.Time
	_, err := s.Generate(ctx, request(t, "a", 1), func(p runner.Progress) {
		if p.Stage == runner.StageInference && p.Step == 1 {
			cancelledAt = time.Now()
			cancel()
		}
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, time.Since(cancelledAt), grace+time.Second)

	res, err := s.Generate(context.Background(), request(t, "b", 1), nil)
	require.NoError(t, err)
	require.FileExists(t, res.Path)
	require.Equal(t, 2, s.Loads(), "the killed runner was replaced")
}

func TestBrokenProtocolKillsRunner(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"garbage", "escape", "poster-escape", "protocol-2"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			s := setup(t, mode, runner.Config{})
			_, err := s.Generate(context.Background(), request(t, "a", 1), nil)
			requireCode(t, err, runner.CodeRunnerProtocolError, false)
		})
	}
}

func TestRunnerErrorsPassThrough(t *testing.T) {
	t.Parallel()
	s := setup(t, "oom", runner.Config{})
	for _, id := range []string{"a", "b"} {
		_, err := s.Generate(context.Background(), request(t, id, 1), nil)
		requireCode(t, err, runner.CodeGPUMemoryExceeded, false)
		require.Contains(t, err.Error(), "CUDA out of memory")
	}
	require.Equal(t, 1, s.Loads(), "a request failure does not restart the runner")

	cpu := setup(t, "cpu", runner.Config{})
	req := request(t, "video", 1)
	req.Kind = runner.KindVideo
	_, err := cpu.Generate(context.Background(), req, nil)
	requireCode(t, err, runner.CodeNotSupportedYet, false)
}

func TestStartFailures(t *testing.T) {
	t.Parallel()
	missing := runner.New(runner.Config{Command: []string{filepath.Join(t.TempDir(), "no-such-runner")}, Model: "pony"})
	defer func() { _ = missing.Close() }()
	_, err := missing.Generate(context.Background(), request(t, "a", 1), nil)
	requireCode(t, err, runner.CodeRunnerStartFailed, true)

	for _, cfg := range []runner.Config{{Model: "pony"}, {Command: []string{os.Args[0]}}} {
		misconfigured := runner.New(cfg)
		_, err = misconfigured.Generate(context.Background(), request(t, "a", 1), nil)
		requireCode(t, err, runner.CodeRunnerStartFailed, false)
	}

	s := setup(t, "exit-before-ready", runner.Config{})
	_, err = s.Generate(context.Background(), request(t, "a", 1), nil)
	requireCode(t, err, runner.CodeRunnerStartFailed, true)
	require.Equal(t, 0, s.Loads())
}

func TestInvalidRequestIsRejectedBeforeStart(t *testing.T) {
	t.Parallel()
	s := setup(t, "cpu", runner.Config{})
	req := request(t, "a", 1)
	req.OutputDir = "relative/dir"
	_, err := s.Generate(context.Background(), req, nil)
	requireCode(t, err, runner.CodeInvalidInput, false)
	require.Equal(t, 0, s.Loads())
}

func TestConcurrentGeneratesTakeTurns(t *testing.T) {
	t.Parallel()
	s := setup(t, "cpu", runner.Config{})
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = s.Generate(context.Background(), request(t, string(rune('a'+i)), 3), nil)
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, s.Loads())
}

func TestCloseShutsRunnerDownAndRefusesRequests(t *testing.T) {
	t.Parallel()
	s := setup(t, "cpu", runner.Config{})
	_, err := s.Generate(context.Background(), request(t, "a", 1), nil)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close is idempotent")
	_, err = s.Generate(context.Background(), request(t, "b", 1), nil)
	require.ErrorIs(t, err, runner.ErrClosed)
}

func TestCloseInterruptsRunningRequest(t *testing.T) {
	t.Parallel()
	s := setup(t, "cpu", runner.Config{})
	started := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		_, err := s.Generate(context.Background(), request(t, "a", 1000), func(p runner.Progress) {
			if p.Stage == runner.StageInference {
				once.Do(func() { close(started) })
			}
		})
		done <- err
	}()
	<-started
	require.NoError(t, s.Close())
	select {
	case err := <-done:
		require.ErrorIs(t, err, runner.ErrClosed)
	case <-time.After(10 * time.Second):
		require.FailNow(t, "Generate did not return after Close")
	}
}

func TestRunnerLogIsForwardedWithoutParams(t *testing.T) {
	t.Parallel()
	var buf lockedBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := setup(t, "cpu", runner.Config{Logger: logger})
	req := request(t, "a", 1)
	req.Params["prompt"] = "a very secret prompt"
	_, err := s.Generate(context.Background(), req, nil)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	logs := buf.String()
	require.Contains(t, logs, "runner log", "the runner's stderr reaches the logger")
	require.Contains(t, logs, "generating")
	require.NotContains(t, logs, "secret")
}

// testWriter sends log output to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestVideoResultPassesThePosterThrough(t *testing.T) {
	t.Parallel()
	_, err := exec.LookPath("ffmpeg")
	require.NoError(t, err, "the CPU runner encodes videos with ffmpeg: run `make deps` (apt-get install ffmpeg)")
	s := setup(t, "cpu", runner.Config{})
	req := runner.GenerateRequest{
		ID: "clip", Kind: runner.KindVideo, Mode: "t2v",
		Params:    map[string]any{"prompt": "a kite", "seed": 2, "width": 64, "height": 48, "steps": 2, "num_frames": 5, "fps": 8},
		OutputDir: t.TempDir(), OutputFormat: "webm",
	}
	var encoded int
	res, err := s.Generate(context.Background(), req, func(p runner.Progress) {
		if p.Stage == runner.StageEncoding {
			require.Equal(t, 5, p.Total)
			encoded = p.Step
		}
	})
	require.NoError(t, err)
	require.Equal(t, 5, encoded, "encoding reports every frame")
	require.Equal(t, filepath.Join(req.OutputDir, "result.webm"), res.Path)
	require.Equal(t, "video/webm", res.MIME)
	require.Equal(t, [2]int{64, 48}, [2]int{res.Width, res.Height})
	require.Equal(t, filepath.Join(req.OutputDir, "poster.png"), res.Poster)
	f, err := os.Open(res.Poster)
	require.NoError(t, err)
	cfg, err := png.DecodeConfig(f)
	require.NoError(t, f.Close())
	require.NoError(t, err)
	require.Equal(t, [2]int{64, 48}, [2]int{cfg.Width, cfg.Height}, "the poster is a full-size frame")
}

func TestMissingVideoEncoderPassesThroughAsEncoderUnavailable(t *testing.T) {
	t.Parallel()
	s := setup(t, "cpu", runner.Config{Env: []string{"GOONI_FFMPEG=" + filepath.Join(t.TempDir(), "missing", "ffmpeg")}})
	req := runner.GenerateRequest{
		ID: "clip", Kind: runner.KindVideo, Mode: "t2v",
		Params:    map[string]any{"width": 64, "height": 48, "steps": 2, "num_frames": 5, "fps": 8},
		OutputDir: t.TempDir(), OutputFormat: "mp4",
	}
	_, err := s.Generate(context.Background(), req, nil)
	requireCode(t, err, runner.CodeEncoderUnavailable, false)
	require.Contains(t, err.Error(), "apt-get install ffmpeg")
	require.Equal(t, 1, s.Loads(), "the runner stays warm")
}
