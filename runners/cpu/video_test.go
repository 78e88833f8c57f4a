package cpu_test

import (
	"bytes"
	"encoding/json"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/runner"
	"github.com/gooni/gooni/runners/cpu"
)

// Reference colours of the video tests.
var (
	red   = color.RGBA{R: 220, G: 30, B: 30, A: 255}
	green = color.RGBA{R: 30, G: 200, B: 40, A: 255}
	blue  = color.RGBA{R: 30, G: 40, B: 220, A: 255}
)

func mean(c color.RGBA) [3]float64 { return rgb(c.R, c.G, c.B) }

// input is a reference image input for field.
func input(field, path string, frame int, strength float64) runner.Input {
	return runner.Input{Field: field, Path: path, MIME: "image/png", FrameIndex: frame, Strength: strength}
}

// runVideo runs m on h and checks everything every video result has: the
// file and poster inside output_dir and nothing else, the media type and size,
// the codec, pixel format, frame rate and frame count ffprobe reports, and
// per-step then per-frame progress. It returns the result message.
func runVideo(t *testing.T, h *harness, m runner.Message) runner.Message {
	t.Helper()
	var params struct {
		Width, Height, Steps, FPS int
		Frames                    int `json:"num_frames"`
	}
	require.NoError(t, json.Unmarshal(m.Params, &params))
	got, progress := h.run(m)
	require.Equal(t, runner.TypeResult, got.Type, "final message %+v", got)

	format, codec, mime := "mp4", "h264", "video/mp4"
	if m.OutputFormat == "webm" {
		format, codec, mime = "webm", "vp9", "video/webm"
	}
	require.Equal(t, filepath.Join(m.OutputDir, "result."+format), got.Path)
	require.Equal(t, mime, got.MIME)
	require.Equal(t, [2]int{params.Width, params.Height}, [2]int{got.Width, got.Height})
	require.Equal(t, filepath.Join(m.OutputDir, "poster.png"), got.Poster)
	entries, err := os.ReadDir(m.OutputDir)
	require.NoError(t, err)
	require.Len(t, entries, 2, "only the video and its poster are left in output_dir")
	poster := decode(t, got.Poster).Bounds()
	require.Equal(t, [2]int{params.Width, params.Height}, [2]int{poster.Dx(), poster.Dy()})

	p := probe(t, got.Path)
	require.Equal(t, codec, p.Codec)
	require.Equal(t, "yuv420p", p.PixFmt)
	require.Equal(t, [2]int{params.Width, params.Height}, [2]int{p.Width, p.Height})
	require.Equal(t, strconv.Itoa(params.FPS)+"/1", p.Rate)
	require.Equal(t, strconv.Itoa(params.Frames), p.Frames)

	var steps, frames []int
	for _, pr := range progress {
		switch pr.Stage {
		case runner.StageInference:
			require.Equal(t, params.Steps, pr.Total)
			require.Empty(t, frames, "inference comes before encoding")
			steps = append(steps, pr.Step)
		case runner.StageEncoding:
			require.Equal(t, params.Frames, pr.Total)
			frames = append(frames, pr.Step)
		}
	}
	require.Equal(t, count(params.Steps), steps)
	require.Equal(t, count(params.Frames), frames)
	return got
}

// count is 1, 2, …, n.
func count(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i + 1
	}
	return s
}

func TestEveryCatalogueVideoModeRendersAndEncodes(t *testing.T) {
	t.Parallel()
	requireFFmpeg(t)
	first := writeSolidPNG(t, 64, 48, red)
	last := writeSolidPNG(t, 80, 40, blue)
	cases := []struct {
		model, mode, format string
		steps, fps          int
		inputs              []runner.Input
	}{
		{"anisora", "t2v", "mp4", 8, 16, nil},
		{"anisora", "i2v", "webm", 8, 8, []runner.Input{input("reference_image", first, -1, 0.85)}},
		{"anisora", "first_last_frame", "mp4", 8, 24, []runner.Input{
			input("first_frame_image", first, -1, 1), input("last_frame_image", last, -1, 1)}},
		{"anisora", "arbitrary_frame", "webm", 8, 16, []runner.Input{
			input("arbitrary_frames[0].image", last, 10, 0.85), input("arbitrary_frames[1].image", first, 3, 0.85)}},
		{"phr00t", "t2v", "webm", 4, 16, nil},
		{"phr00t", "i2v", "mp4", 4, 24, []runner.Input{input("reference_image", last, -1, 1)}},
		{"phr00t", "first_last_frame", "webm", 4, 8, []runner.Input{
			input("first_frame_image", last, -1, 0.5), input("last_frame_image", first, -1, 0.5)}},
	}
	for _, c := range cases {
		t.Run(c.model+"/"+c.mode+"/"+c.format, func(t *testing.T) {
			t.Parallel()
			params := map[string]any{
				"prompt": "a paper boat", "seed": 9, "width": 96, "height": 64, "steps": c.steps,
				"num_frames": 13, "fps": c.fps, "motion_score": 3, "output_format": c.format,
			}
			if c.model == "phr00t" {
				delete(params, "motion_score")
				params["lighting_variant"] = "high_noise"
			}
			runVideo(t, setup(t, fast), video(t, "v", c.model, c.mode, c.format, params, c.inputs...))
		})
	}
}

func TestMotionScoreMovesTheFrames(t *testing.T) {
	t.Parallel()
	requireFFmpeg(t)
	h := setup(t, fast)
	difference := func(motion float64) float64 {
		params := map[string]any{"seed": 5, "width": 128, "height": 96, "steps": 4, "num_frames": 17, "fps": 8, "motion_score": motion}
		got := runVideo(t, h, video(t, "m", "anisora", "t2v", "mp4", params))
		frames := decodeFrames(t, got.Path, 128, 96)
		require.Len(t, frames, 17)
		return frameDifference(frames[0], frames[16])
	}
	still, moving := difference(0), difference(5)
	require.Less(t, still, 2.0, "motion_score 0 keeps the picture still (codec noise only)")
	require.Greater(t, moving, 10.0, "motion_score 5 moves the picture visibly")
}

func TestSameVideoRequestGivesTheSameFrames(t *testing.T) {
	t.Parallel()
	requireFFmpeg(t)
	params := map[string]any{"prompt": "a lantern", "seed": 77, "width": 80, "height": 48, "steps": 3, "num_frames": 9, "fps": 8}
	run := func(id string, params map[string]any) runner.Message {
		return runVideo(t, setup(t, fast), video(t, id, "phr00t", "t2v", "mp4", params))
	}
	a, b := run("a", params), run("b", params)
	posterA, err := os.ReadFile(a.Poster)
	require.NoError(t, err)
	posterB, err := os.ReadFile(b.Poster)
	require.NoError(t, err)
	require.Equal(t, posterA, posterB, "the same request renders the same first frame")
	require.Equal(t, decodeFrames(t, a.Path, 80, 48), decodeFrames(t, b.Path, 80, 48), "and the same frames")

	c := run("c", with(params, "seed", 78))
	posterC, err := os.ReadFile(c.Poster)
	require.NoError(t, err)
	require.NotEqual(t, posterA, posterC, "another seed renders another video")
}

func TestI2VStartsFromTheReferenceAndKeepsItsMark(t *testing.T) {
	t.Parallel()
	requireFFmpeg(t)
	redRef, blueRef := writeSolidPNG(t, 120, 90, red), writeSolidPNG(t, 90, 120, blue)
	params := map[string]any{"prompt": "a fox", "seed": 3, "width": 96, "height": 96, "steps": 4, "num_frames": 13, "fps": 8, "reference_strength": 0.85}
	h := setup(t, fast)
	t2v := runVideo(t, h, video(t, "t", "anisora", "t2v", "mp4", params))
	fromRed := runVideo(t, h, video(t, "r", "anisora", "i2v", "mp4", params, input("reference_image", redRef, -1, 0)))
	fromBlue := runVideo(t, h, video(t, "b", "anisora", "i2v", "mp4", params, input("reference_image", blueRef, -1, 0)))

	posterMean := meanColour(decode(t, fromRed.Poster))
	require.Less(t, colourDistance(posterMean, mean(red)), 40.0, "the first frame is mostly the reference (poster mean %v)", posterMean)
	t2vFrames, redFrames, blueFrames := decodeFrames(t, t2v.Path, 96, 96), decodeFrames(t, fromRed.Path, 96, 96), decodeFrames(t, fromBlue.Path, 96, 96)
	firstMean := meanRGB(redFrames[0])
	require.Less(t, colourDistance(firstMean, mean(red)), 40.0, "decoded first frame mean %v", firstMean)
	require.Less(t, colourDistance(firstMean, mean(red)), colourDistance(meanRGB(t2vFrames[0]), mean(red))/2, "far closer to the reference than t2v")
	require.Less(t, colourDistance(meanRGB(blueFrames[0]), mean(blue)), 40.0, "decoded first frame mean %v", meanRGB(blueFrames[0]))

	// The same request with another reference differs only by it: the last
	// frame still leans towards its reference.
	last := len(redFrames) - 1
	redLast, blueLast := meanRGB(redFrames[last]), meanRGB(blueFrames[last])
	require.Greater(t, redLast[0]-redLast[2], blueLast[0]-blueLast[2]+40, "last frames %v (red reference) and %v (blue)", redLast, blueLast)
}

func TestFirstLastFrameRunsFromOneReferenceToTheOther(t *testing.T) {
	t.Parallel()
	requireFFmpeg(t)
	first, last := writeSolidPNG(t, 64, 64, red), writeSolidPNG(t, 64, 64, blue)
	params := map[string]any{"seed": 11, "width": 64, "height": 64, "steps": 4, "num_frames": 21, "fps": 16}
	got := runVideo(t, setup(t, fast), video(t, "fl", "phr00t", "first_last_frame", "mp4", params,
		input("first_frame_image", first, -1, 1), input("last_frame_image", last, -1, 1)))
	frames := decodeFrames(t, got.Path, 64, 64)
	require.Len(t, frames, 21)
	require.Less(t, colourDistance(meanRGB(frames[0]), mean(red)), 12.0, "first frame %v", meanRGB(frames[0]))
	require.Less(t, colourDistance(meanRGB(frames[20]), mean(blue)), 12.0, "last frame %v", meanRGB(frames[20]))
	mid := meanRGB(frames[10])
	require.Greater(t, mid[0], 50.0, "the middle frame still has red in it: %v", mid)
	require.Greater(t, mid[2], 50.0, "and already blue: %v", mid)
	var redness []float64
	for _, f := range frames {
		m := meanRGB(f)
		redness = append(redness, m[0]-m[2])
	}
	require.Greater(t, redness[5], redness[15], "the clip moves from red towards blue")
}

func TestArbitraryFramesHitTheirKeyframes(t *testing.T) {
	t.Parallel()
	requireFFmpeg(t)
	g, b := writeSolidPNG(t, 50, 50, green), writeSolidPNG(t, 50, 50, blue)
	params := map[string]any{"seed": 21, "width": 64, "height": 48, "steps": 4, "num_frames": 25, "fps": 8, "denoising_strength": 0.7}
	got := runVideo(t, setup(t, fast), video(t, "kf", "anisora", "arbitrary_frame", "webm", params,
		input("arbitrary_frames[0].image", b, 18, 0.9), input("arbitrary_frames[1].image", g, 6, 1)))
	frames := decodeFrames(t, got.Path, 64, 48)
	require.Len(t, frames, 25)
	require.Less(t, colourDistance(meanRGB(frames[6]), mean(green)), 15.0, "frame 6 is the green keyframe: %v", meanRGB(frames[6]))
	require.Less(t, colourDistance(meanRGB(frames[18]), mean(blue)), 35.0, "frame 18 is mostly the blue keyframe at strength 0.9: %v", meanRGB(frames[18]))
	require.Greater(t, colourDistance(meanRGB(frames[0]), mean(green)), colourDistance(meanRGB(frames[6]), mean(green)),
		"away from its keyframe the picture departs from it")
	mid := meanRGB(frames[12])
	require.Greater(t, mid[1], 60.0, "between the keyframes both show: %v", mid)
	require.Greater(t, mid[2], 60.0, "between the keyframes both show: %v", mid)
}

func TestCancelDuringEncodingStopsFFmpeg(t *testing.T) {
	t.Parallel()
	requireFFmpeg(t)
	h := setup(t, fast)
	m := video(t, "c", "anisora", "t2v", "mp4", map[string]any{"seed": 1, "width": 640, "height": 480, "steps": 2, "num_frames": 1000, "fps": 24})
	h.send(m)
	for {
		p := h.next()
		require.Equal(t, runner.TypeProgress, p.Type, "%+v", p)
		if p.Stage == runner.StageEncoding && p.Step == 3 {
			break
		}
	}
	require.NotEmpty(t, ffmpegProcessesFor(t, m.OutputDir), "ffmpeg runs while frames are encoded")
	start := time.Now()
	h.send(runner.Message{Type: runner.TypeCancel, ID: m.ID})
	for {
		got := h.next()
		if got.Type == runner.TypeProgress {
			continue
		}
		require.Equal(t, runner.TypeCancelled, got.Type, "%+v", got)
		break
	}
	require.Less(t, time.Since(start), time.Second, "cancel takes effect within a frame or two")
	require.Empty(t, ffmpegProcessesFor(t, m.OutputDir), "no ffmpeg outlives a cancelled request")
	entries, err := os.ReadDir(m.OutputDir)
	require.NoError(t, err)
	require.Empty(t, entries, "a cancelled request leaves nothing behind")

	next := runVideo(t, h, video(t, "after", "anisora", "t2v", "mp4", map[string]any{"width": 32, "height": 32, "steps": 1, "num_frames": 3, "fps": 8}))
	require.Equal(t, runner.TypeResult, next.Type)
}

// requireEncoderUnavailable checks a quick, actionable encoder_unavailable.
func requireEncoderUnavailable(t *testing.T, h *harness, elapsedMax time.Duration) runner.Message {
	t.Helper()
	m := video(t, "noenc", "phr00t", "t2v", "mp4", map[string]any{"width": 64, "height": 64, "steps": 4, "num_frames": 9, "fps": 8})
	start := time.Now()
	got, progress := h.run(m)
	require.Less(t, time.Since(start), elapsedMax, "answered before any inference step")
	require.Empty(t, progress)
	require.Equal(t, runner.TypeError, got.Type, "%+v", got)
	require.Equal(t, runner.CodeEncoderUnavailable, got.Code)
	require.False(t, got.Retryable)
	require.Contains(t, got.Text, "apt-get install ffmpeg")
	require.Contains(t, got.Text, "GOONI_FFMPEG")
	entries, err := os.ReadDir(m.OutputDir)
	require.NoError(t, err)
	require.Empty(t, entries)
	return got
}

func TestMissingFFmpegPathIsEncoderUnavailable(t *testing.T) {
	t.Parallel()
	h := setup(t, cpu.Config{StepDelay: time.Second, FFmpeg: filepath.Join(t.TempDir(), "no", "ffmpeg")})
	requireEncoderUnavailable(t, h, time.Second)
}

// Not parallel: it changes PATH for the whole process.
func TestFFmpegNotOnPathIsEncoderUnavailable(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv(cpu.EnvFFmpeg, "")
	cfg, err := cpu.ConfigFromEnv()
	require.NoError(t, err)
	cfg.StepDelay = time.Second
	got := requireEncoderUnavailable(t, setup(t, cfg), time.Second)
	require.Contains(t, got.Text, "$PATH")
}

func TestFFmpegWithoutTheCodecIsEncoderUnavailableAndOtherFailuresAreInternal(t *testing.T) {
	t.Parallel()
	script := func(body string) string {
		path := filepath.Join(t.TempDir(), "ffmpeg")
		require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\ncat >/dev/null\n"+body), 0o755))
		return path
	}
	cases := []struct {
		body, code string
		retryable  bool
	}{
		{"echo \"Unknown encoder 'libx264'\" >&2\nexit 1\n", runner.CodeEncoderUnavailable, false},
		{"echo 'disk full' >&2\nexit 3\n", runner.CodeInternal, true},
	}
	for _, c := range cases {
		h := setup(t, cpu.Config{FFmpeg: script(c.body)})
		m := video(t, "bad", "anisora", "t2v", "mp4", map[string]any{"width": 32, "height": 32, "steps": 1, "num_frames": 5, "fps": 8})
		got, _ := h.run(m)
		require.Equal(t, runner.TypeError, got.Type, "%+v", got)
		require.Equal(t, c.code, got.Code, got.Text)
		require.Equal(t, c.retryable, got.Retryable)
		entries, err := os.ReadDir(m.OutputDir)
		require.NoError(t, err)
		require.Empty(t, entries, "a failed request leaves nothing behind")
	}
}

func TestInvalidVideoRequestsAreRejected(t *testing.T) {
	t.Parallel()
	ref := writeSolidPNG(t, 8, 8, red)
	base := map[string]any{"width": 32, "height": 32, "steps": 1, "num_frames": 9, "fps": 8}
	cases := map[string]struct {
		mode, format string
		params       map[string]any
		inputs       []runner.Input
	}{
		"odd width":            {"t2v", "mp4", with(base, "width", 33), nil},
		"no frames":            {"t2v", "mp4", with(base, "num_frames", 0), nil},
		"zero fps":             {"t2v", "mp4", with(base, "fps", 0), nil},
		"fractional fps":       {"t2v", "mp4", with(base, "fps", 12.5), nil},
		"too much motion":      {"t2v", "mp4", with(base, "motion_score", 6), nil},
		"unknown lighting":     {"t2v", "mp4", with(base, "lighting_variant", "neon"), nil},
		"gif output":           {"t2v", "gif", base, nil},
		"too large":            {"t2v", "mp4", with(base, "width", 4096), nil},
		"i2v without image":    {"i2v", "mp4", base, nil},
		"first without last":   {"first_last_frame", "mp4", base, []runner.Input{input("first_frame_image", ref, -1, 1)}},
		"one-frame first_last": {"first_last_frame", "mp4", with(base, "num_frames", 1), []runner.Input{input("first_frame_image", ref, -1, 1), input("last_frame_image", ref, -1, 1)}},
		"no keyframes":         {"arbitrary_frame", "mp4", base, []runner.Input{input("reference_image", ref, -1, 1)}},
		"keyframe past end":    {"arbitrary_frame", "mp4", base, []runner.Input{input("arbitrary_frames[0].image", ref, 9, 1)}},
		"duplicate keyframe":   {"arbitrary_frame", "mp4", base, []runner.Input{input("arbitrary_frames[0].image", ref, 2, 1), input("arbitrary_frames[1].image", ref, 2, 1)}},
		"strength above one":   {"i2v", "mp4", base, []runner.Input{input("reference_image", ref, -1, 1.5)}},
		"unreadable reference": {"i2v", "mp4", base, []runner.Input{input("reference_image", filepath.Join(t.TempDir(), "missing.png"), -1, 1)}},
	}
	h := setup(t, fast)
	for name, c := range cases {
		got, _ := h.run(video(t, "bad", "anisora", c.mode, c.format, c.params, c.inputs...))
		require.Equal(t, runner.TypeError, got.Type, name)
		require.Equal(t, runner.CodeInvalidInput, got.Code, "%s: %s", name, got.Text)
		require.False(t, got.Retryable, name)
	}
}

func TestUnknownVideoModeIsNotSupportedYet(t *testing.T) {
	t.Parallel()
	got, _ := setup(t, fast).run(video(t, "v", "anisora", "txt2vid", "mp4", map[string]any{"num_frames": 16, "fps": 8}))
	require.Equal(t, runner.TypeError, got.Type)
	require.Equal(t, runner.CodeNotSupportedYet, got.Code)
	require.False(t, got.Retryable)
}

func TestPosterIsThePNGOfTheFirstFrame(t *testing.T) {
	t.Parallel()
	requireFFmpeg(t)
	params := map[string]any{"seed": 4, "width": 48, "height": 32, "steps": 2, "num_frames": 5, "fps": 8}
	got := runVideo(t, setup(t, fast), video(t, "p", "phr00t", "t2v", "mp4", params))
	b, err := os.ReadFile(got.Poster)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	first := decodeFrames(t, got.Path, 48, 32)[0]
	require.Less(t, colourDistance(meanColour(img), meanRGB(first)), 4.0, "the poster is the first frame, up to the codec's loss")
}

// BenchmarkVideo measures render and encode of catalogue-sized clips without
// step delay: go test -run '^$' -bench Video ./runners/cpu/
func BenchmarkVideo(b *testing.B) {
	requireFFmpeg(b)
	for _, c := range []struct {
		w, h, frames int
		format       string
	}{{512, 512, 49, "mp4"}, {720, 1280, 81, "mp4"}, {512, 512, 49, "webm"}, {720, 1280, 81, "webm"}} {
		b.Run(strconv.Itoa(c.w)+"x"+strconv.Itoa(c.h)+"x"+strconv.Itoa(c.frames)+"/"+c.format, func(b *testing.B) {
			h := setup(b, fast)
			params := map[string]any{"seed": 1, "width": c.w, "height": c.h, "steps": 8, "num_frames": c.frames, "fps": 16}
			for b.Loop() {
				m := video(b, "bench", "anisora", "t2v", c.format, params)
				got, _ := h.run(m)
				require.Equal(b, runner.TypeResult, got.Type, "%+v", got)
			}
		})
	}
}
