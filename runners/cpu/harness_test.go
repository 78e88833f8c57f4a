package cpu_test

import (
	"bufio"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/runner"
	"github.com/gooni/gooni/runners/cpu"
)

// waitTimeout bounds every wait for a message in these tests.
const waitTimeout = 10 * time.Second

// harness runs cpu.Main in-process on pipes and speaks the protocol to it.
type harness struct {
	t    testing.TB
	in   *io.PipeWriter
	msgs chan runner.Message
	// done is closed when cpu.Main has returned mainErr.
	done    chan struct{}
	mainErr error
	// ready is the runner's first message.
	ready runner.Message
}

// setup starts cpu.Main with cfg and consumes its ready message.
func setup(t testing.TB, cfg cpu.Config) *harness {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, in: inW, msgs: make(chan runner.Message, 4096), done: make(chan struct{})}
	go func() {
		h.mainErr = cpu.Main(ctx, inR, outW, io.Discard, cfg)
		_ = outW.Close()
		close(h.done)
	}()
	go func() {
		defer close(h.msgs)
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			var m runner.Message
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("runner wrote a line that is not JSON: %q", sc.Text())
				continue
			}
			h.msgs <- m
		}
	}()
	t.Cleanup(func() {
		cancel()
		_ = inW.Close()
		select {
		case <-h.done:
		case <-time.After(waitTimeout):
			t.Error("cpu.Main did not return after its context ended")
		}
	})
	h.ready = h.next()
	require.Equal(t, runner.TypeReady, h.ready.Type)
	return h
}

// send writes one message to the runner's stdin.
func (h *harness) send(m runner.Message) {
	h.t.Helper()
	b, err := json.Marshal(m)
	require.NoError(h.t, err)
	_, err = h.in.Write(append(b, '\n'))
	require.NoError(h.t, err)
}

// next returns the runner's next message.
func (h *harness) next() runner.Message {
	h.t.Helper()
	select {
	case m, ok := <-h.msgs:
		require.True(h.t, ok, "runner closed stdout")
		return m
	case <-time.After(waitTimeout):
		require.FailNow(h.t, "no message from the runner")
		return runner.Message{}
	}
}

// run sends a generate message and collects messages until its final one,
// which it returns with the progress seen on the way.
func (h *harness) run(m runner.Message) (runner.Message, []runner.Message) {
	h.t.Helper()
	h.send(m)
	var progress []runner.Message
	for {
		got := h.next()
		require.Equal(h.t, m.ID, got.ID, "message %+v", got)
		if got.Type != runner.TypeProgress {
			return got, progress
		}
		progress = append(progress, got)
	}
}

// generate builds a generate message writing into a fresh directory.
func generate(t *testing.T, id string, params map[string]any) runner.Message {
	t.Helper()
	raw, err := json.Marshal(params)
	require.NoError(t, err)
	return runner.Message{
		Type: runner.TypeGenerate, ID: id, Model: "pony", Kind: runner.KindImage, Mode: "txt2img",
		Params: raw, OutputDir: t.TempDir(), OutputFormat: "png",
	}
}

// fast is a Config that does not pace.
var fast = cpu.Config{}

// readResult returns the bytes of a result message's file.
func readResult(t *testing.T, m runner.Message) []byte {
	t.Helper()
	require.Equal(t, runner.TypeResult, m.Type, "final message %+v", m)
	b, err := os.ReadFile(m.Path)
	require.NoError(t, err)
	return b
}

// decode decodes a result file.
func decode(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	img, _, err := image.Decode(f)
	require.NoError(t, err)
	return img
}

// meanColour is the average colour of img, each channel in [0, 255].
func meanColour(img image.Image) [3]float64 {
	var sum [3]float64
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			sum[0] += float64(r >> 8)
			sum[1] += float64(g >> 8)
			sum[2] += float64(bl >> 8)
		}
	}
	n := float64(b.Dx() * b.Dy())
	return [3]float64{sum[0] / n, sum[1] / n, sum[2] / n}
}

// writeSolidPNG writes a w×h png of one colour and returns its path.
func writeSolidPNG(t *testing.T, w, h int, c color.Color) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, c)
		}
	}
	path := filepath.Join(t.TempDir(), "ref.png")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, png.Encode(f, img))
	require.NoError(t, f.Close())
	return path
}
