package stack_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/stack"
	"github.com/gooni/gooni/workers"
)

// TestDiffusersRunnerServesPonyThroughTheGPUWorker drives the Python diffusers runner
// (runners/diffusers) as the GPU worker's runner process: a pony txt2img submitted through the
// API runs the runner's real protocol loop, parameter mapping, model loading code, step callback
// and PNG writer, with its stand-in pipelines (GOONI_DIFFUSERS_STANDIN=1, a test mode: no torch,
// no weights, no GPU; the picture is procedural).
func TestDiffusersRunnerServesPonyThroughTheGPUWorker(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: skipping the diffusers runner integration test (the runner is a Python program)")
	}
	script, err := filepath.Abs("../../runners/diffusers/runner.py")
	require.NoError(t, err)

	// The runner checks that the weights named by its model map exist in the model cache; the
	// stand-in pipelines never read them, so an empty file stands for the checkpoint.
	cache := t.TempDir()
	ckpt := filepath.Join(cache, "checkpoints", "ponyDiffusionV6XL_v6StartWithThisOne.safetensors")
	require.NoError(t, os.MkdirAll(filepath.Dir(ckpt), 0o755))
	require.NoError(t, os.WriteFile(ckpt, nil, 0o644))

	e := setup(t, envOptions{noGPUWorker: true})
	logger := slog.New(slog.NewTextHandler(io.MultiWriter(e.logs, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	g, err := stack.StartGPUWorker(e.temporal, e.catalogue, e.artifacts, workers.StoreReporter{Store: e.store}, stack.GPUWorkerConfig{
		Models:        []string{"pony"},
		RunnerName:    "diffusers",
		RunnerCommand: []string{python, script},
		RunnerEnv: []string{
			"GOONI_DIFFUSERS_STANDIN=1", // test mode: stand-in pipelines, never the default
			"GOONI_MODEL_CACHE=" + cache,
			"GOONI_DIFFUSERS_STANDIN_STEP_DELAY=40",
		},
		WorkDir: t.TempDir(),
		Logger:  logger,
	})
	require.NoError(t, err)
	t.Cleanup(g.Stop)
	e.gpu = g

	id := e.submit(map[string]any{"model": "pony", "mode": "txt2img", "prompt": "a lighthouse at dusk",
		"width": 512, "height": 512, "steps": 20, "sampler": "DPM++ 2M Karras", "clip_skip": 2})
	seen := e.waitTerminal(id, 120*time.Second)
	final := seen[len(seen)-1]
	require.Equal(t, "done", final.Status, "%+v", final)

	// Real per-step progress from the pipeline's step callback, as the API shows it.
	stepDetail := regexp.MustCompile(`^step ([0-9]+)/20$`)
	steps := map[string]bool{}
	for _, s := range seen {
		if s.Status == "processing" && s.Stage == "inference" && stepDetail.MatchString(s.StageDetail) {
			require.Greater(t, s.Progress, 5.0)
			require.Less(t, s.Progress, 95.01)
			steps[s.StageDetail] = true
		}
	}
	require.GreaterOrEqual(t, len(steps), 2, "inference steps seen: %v (statuses %+v)", steps, seen)

	code, body, hdr := e.do("GET", "/results/"+id, nil, nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "image/png", hdr.Get("Content-Type"))
	img, err := png.Decode(bytes.NewReader(body))
	require.NoError(t, err)
	require.Equal(t, image.Rect(0, 0, 512, 512), img.Bounds())
	colours := map[uint32]bool{}
	for y := 0; y < 512; y += 16 {
		for x := 0; x < 512; x += 16 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[r>>8<<16|g>>8<<8|b>>8] = true
		}
	}
	require.Greater(t, len(colours), 20, "the picture is not a real, varied image")

	code, prev, _ := e.do("GET", "/preview/"+id, nil, nil)
	require.Equal(t, http.StatusOK, code)
	_, err = jpeg.Decode(bytes.NewReader(prev))
	require.NoError(t, err)

	require.Equal(t, 1, g.Loads("pony"))
	logs := e.logs.String()
	require.Contains(t, logs, "TEST MODE")
	require.False(t, strings.Contains(logs, "lighthouse"), "the runner logged the prompt")
}
