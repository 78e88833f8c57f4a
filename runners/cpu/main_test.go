package cpu_test

import (
	"encoding/json"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/runner"
	"github.com/gooni/gooni/runners/cpu"
)

func TestReadyAnnouncesProtocolVersionAndDevice(t *testing.T) {
	t.Parallel()
	h := setup(t, fast)
	require.Equal(t, runner.ProtocolVersion, h.ready.Protocol)
	require.Equal(t, "cpu", h.ready.Runner)
	require.Equal(t, "cpu", h.ready.Device)
}

func TestLoadAnswersLoadedForAnyModel(t *testing.T) {
	t.Parallel()
	h := setup(t, cpu.Config{LoadDelay: 20 * time.Millisecond})
	h.send(runner.Message{Type: runner.TypeLoad, Model: "some-model"})
	m := h.next()
	require.Equal(t, runner.TypeLoaded, m.Type)
	require.Equal(t, "some-model", m.Model)
	require.GreaterOrEqual(t, m.ElapsedMS, int64(20))
}

func TestSameRequestGivesIdenticalBytes(t *testing.T) {
	t.Parallel()
	params := map[string]any{"prompt": "a red fox", "negative_prompt": "blur", "seed": 42, "width": 96, "height": 64, "steps": 4}
	first, _ := setup(t, fast).run(generate(t, "a", params))
	second, _ := setup(t, fast).run(generate(t, "b", params))
	require.Equal(t, readResult(t, first), readResult(t, second))

	// Key order and number spelling do not matter: params are canonicalised.
	same := generate(t, "c", nil)
	same.Params = json.RawMessage(`{"steps":4.0,"height":64,"width":96e0,"seed":42,"negative_prompt":"blur","prompt":"a red fox"}`)
	third, _ := setup(t, fast).run(same)
	require.Equal(t, readResult(t, first), readResult(t, third))
}

func TestPromptSeedAndModelChangeThePicture(t *testing.T) {
	t.Parallel()
	base := map[string]any{"prompt": "a red fox", "seed": 42, "width": 64, "height": 64, "steps": 3}
	h := setup(t, fast)
	ref, _ := h.run(generate(t, "base", base))
	want := readResult(t, ref)

	changes := map[string]func(m *runner.Message){
		"prompt":          func(m *runner.Message) { *m = generate(t, m.ID, with(base, "prompt", "a blue fox")) },
		"seed":            func(m *runner.Message) { *m = generate(t, m.ID, with(base, "seed", 43)) },
		"negative_prompt": func(m *runner.Message) { *m = generate(t, m.ID, with(base, "negative_prompt", "fog")) },
		"model":           func(m *runner.Message) { m.Model = "other" },
	}
	for name, change := range changes {
		m := generate(t, name, base)
		change(&m)
		got, _ := h.run(m)
		require.NotEqual(t, want, readResult(t, got), "changing %s must change the picture", name)
	}
}

func TestResultHasRequestedSizeAndFormat(t *testing.T) {
	t.Parallel()
	cases := []struct {
		format, mime, ext string
		w, h              int
	}{
		{"png", "image/png", ".png", 320, 200},
		{"", "image/png", ".png", 33, 77},
		{"jpeg", "image/jpeg", ".jpg", 200, 320},
	}
	h := setup(t, fast)
	for _, c := range cases {
		m := generate(t, "size", map[string]any{"width": c.w, "height": c.h, "steps": 2})
		m.OutputFormat = c.format
		got, _ := h.run(m)
		require.Equal(t, runner.TypeResult, got.Type, "%+v", got)
		require.Equal(t, c.mime, got.MIME)
		require.Equal(t, c.ext, filepath.Ext(got.Path))
		require.Equal(t, m.OutputDir, filepath.Dir(got.Path), "the result must be inside output_dir")
		require.Equal(t, [2]int{c.w, c.h}, [2]int{got.Width, got.Height})
		b := decode(t, got.Path).Bounds()
		require.Equal(t, [2]int{c.w, c.h}, [2]int{b.Dx(), b.Dy()})
		entries, err := os.ReadDir(m.OutputDir)
		require.NoError(t, err)
		require.Len(t, entries, 1, "only the result is left in output_dir")
	}
}

func TestProgressReportsEveryStep(t *testing.T) {
	t.Parallel()
	h := setup(t, cpu.Config{StepDelay: time.Millisecond})
	got, progress := h.run(generate(t, "p", map[string]any{"width": 64, "height": 64, "steps": 7}))
	require.Equal(t, runner.TypeResult, got.Type)
	var steps []int
	for _, p := range progress {
		if p.Stage == runner.StageInference {
			require.Equal(t, 7, p.Total)
			steps = append(steps, p.Step)
		}
	}
	require.Equal(t, []int{1, 2, 3, 4, 5, 6, 7}, steps)
}

func TestStepDelayPacesSteps(t *testing.T) {
	t.Parallel()
	h := setup(t, cpu.Config{StepDelay: 30 * time.Millisecond})
	start := time.Now()
	got, _ := h.run(generate(t, "p", map[string]any{"width": 32, "height": 32, "steps": 5}))
	require.Equal(t, runner.TypeResult, got.Type)
	require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
}

func TestCancelStopsWithinAStep(t *testing.T) {
	t.Parallel()
	const stepDelay = 100 * time.Millisecond
	h := setup(t, cpu.Config{StepDelay: stepDelay})
	m := generate(t, "c", map[string]any{"width": 64, "height": 64, "steps": 100})
	h.send(m)
	for {
		p := h.next()
		require.Equal(t, runner.TypeProgress, p.Type)
		if p.Stage == runner.StageInference && p.Step == 2 {
			break
		}
	}
	start := time.Now()
	h.send(runner.Message{Type: runner.TypeCancel, ID: m.ID})
	for {
		got := h.next()
		if got.Type == runner.TypeProgress {
			continue
		}
		require.Equal(t, runner.TypeCancelled, got.Type)
		break
	}
	require.Less(t, time.Since(start), stepDelay+400*time.Millisecond, "cancel takes effect within about one step")
	entries, err := os.ReadDir(m.OutputDir)
	require.NoError(t, err)
	require.Empty(t, entries, "a cancelled request leaves nothing behind")

	// The runner serves the next request.
	next, _ := h.run(generate(t, "after", map[string]any{"width": 16, "height": 16, "steps": 1}))
	require.Equal(t, runner.TypeResult, next.Type)
}

func TestImg2ImgPullsTowardsTheReference(t *testing.T) {
	t.Parallel()
	red := color.RGBA{R: 230, G: 20, B: 20, A: 255}
	refPath := writeSolidPNG(t, 50, 40, red)
	params := map[string]any{"prompt": "a fox", "seed": 7, "width": 80, "height": 80, "steps": 3, "denoising_strength": 0.5}
	h := setup(t, fast)

	txt, _ := h.run(generate(t, "txt", params))
	img := generate(t, "img", params)
	img.Mode = "img2img"
	img.Inputs = []runner.Input{{Field: "reference_image", Path: refPath, MIME: "image/png", FrameIndex: -1}}
	got, _ := h.run(img)
	require.NotEqual(t, readResult(t, txt), readResult(t, got))

	dist := func(c [3]float64) float64 {
		return math.Sqrt(math.Pow(c[0]-230, 2) + math.Pow(c[1]-20, 2) + math.Pow(c[2]-20, 2))
	}
	txtDist := dist(meanColour(decode(t, txt.Path)))
	imgDist := dist(meanColour(decode(t, got.Path)))
	require.Less(t, imgDist, txtDist*0.75, "img2img must move the picture towards the reference")
}

func TestInvalidRequestsAreRejected(t *testing.T) {
	t.Parallel()
	cases := map[string]func(m *runner.Message){
		"zero width":         func(m *runner.Message) { m.Params = json.RawMessage(`{"width":0}`) },
		"too high":           func(m *runner.Message) { m.Params = json.RawMessage(`{"height":4097}`) },
		"zero steps":         func(m *runner.Message) { m.Params = json.RawMessage(`{"steps":0}`) },
		"fractional steps":   func(m *runner.Message) { m.Params = json.RawMessage(`{"steps":2.5}`) },
		"steps not a number": func(m *runner.Message) { m.Params = json.RawMessage(`{"steps":"ten"}`) },
		"params not object":  func(m *runner.Message) { m.Params = json.RawMessage(`[1]`) },
		"strength above one": func(m *runner.Message) { m.Params = json.RawMessage(`{"denoising_strength":2}`) },
		"relative dir":       func(m *runner.Message) { m.OutputDir = "out" },
		"missing dir":        func(m *runner.Message) { m.OutputDir = filepath.Join(m.OutputDir, "nope") },
		"gif output":         func(m *runner.Message) { m.OutputFormat = "gif" },
		"img2img no input":   func(m *runner.Message) { m.Mode = "img2img" },
		"unreadable reference": func(m *runner.Message) {
			m.Mode = "img2img"
			m.Inputs = []runner.Input{{Field: "reference_image", Path: filepath.Join(m.OutputDir, "missing.png")}}
		},
	}
	h := setup(t, fast)
	for name, change := range cases {
		m := generate(t, "bad", map[string]any{"width": 16, "height": 16, "steps": 1})
		change(&m)
		got, _ := h.run(m)
		require.Equal(t, runner.TypeError, got.Type, name)
		require.Equal(t, runner.CodeInvalidInput, got.Code, name)
		require.False(t, got.Retryable, name)
	}
}

func TestSecondRequestWhileBusyIsRejected(t *testing.T) {
	t.Parallel()
	h := setup(t, cpu.Config{StepDelay: 50 * time.Millisecond})
	first := generate(t, "first", map[string]any{"width": 16, "height": 16, "steps": 100})
	h.send(first)
	require.Equal(t, runner.TypeProgress, h.next().Type)
	h.send(generate(t, "second", map[string]any{"width": 16, "height": 16, "steps": 1}))
	for {
		m := h.next()
		if m.ID == "second" {
			require.Equal(t, runner.TypeError, m.Type)
			require.Equal(t, runner.CodeRunnerBusy, m.Code)
			require.True(t, m.Retryable)
			break
		}
	}
	h.send(runner.Message{Type: runner.TypeCancel, ID: "first"})
}

func TestShutdownEndsMain(t *testing.T) {
	t.Parallel()
	h := setup(t, cpu.Config{StepDelay: 50 * time.Millisecond})
	h.send(generate(t, "running", map[string]any{"width": 16, "height": 16, "steps": 100}))
	require.Equal(t, runner.TypeProgress, h.next().Type)
	h.send(runner.Message{Type: runner.TypeShutdown})
	select {
	case <-h.done:
		require.NoError(t, h.mainErr)
	case <-time.After(waitTimeout):
		require.FailNow(t, "Main did not return after shutdown")
	}
}

func TestConfigFromEnv(t *testing.T) {
	cases := []struct {
		step, load, ffmpeg string
		want               cpu.Config
		wantErr            bool
	}{
		{"", "", "", cpu.Config{StepDelay: cpu.DefaultStepDelay, LoadDelay: cpu.DefaultLoadDelay, FFmpeg: "ffmpeg"}, false},
		{"0", "50ms", "/opt/ffmpeg/bin/ffmpeg", cpu.Config{StepDelay: 0, LoadDelay: 50 * time.Millisecond, FFmpeg: "/opt/ffmpeg/bin/ffmpeg"}, false},
		{"80", "1s", " ", cpu.Config{StepDelay: 80 * time.Millisecond, LoadDelay: time.Second, FFmpeg: "ffmpeg"}, false},
		{"soon", "", "", cpu.Config{}, true},
		{"-5ms", "", "", cpu.Config{}, true},
	}
	for _, c := range cases {
		t.Setenv(cpu.EnvStepDelay, c.step)
		t.Setenv(cpu.EnvLoadDelay, c.load)
		t.Setenv(cpu.EnvFFmpeg, c.ffmpeg)
		got, err := cpu.ConfigFromEnv()
		if c.wantErr {
			require.Error(t, err, "step=%q", c.step)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, c.want, got)
	}
}

// with returns a copy of m with key set to v.
func with(m map[string]any, key string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, e := range m {
		out[k] = e
	}
	out[key] = v
	return out
}
