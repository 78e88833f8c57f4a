// Package micro holds micro-benchmarks of the work a generation does besides orchestration:
// validating a request against the catalogue, the CPU runner rendering an image step by step,
// and making the JPEG preview. They run under `go test -bench . ./bench/micro` and, through
// Report, as part of `make bench`.
package micro

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/gooni/gooni/bench/stats"
	"github.com/gooni/gooni/internal/preview"
	"github.com/gooni/gooni/internal/runner"
	"github.com/gooni/gooni/internal/stack"
	"github.com/gooni/gooni/runners/cpu"
)

// Sizes of the CPU runner benchmark: the smallest pony request the catalogue allows.
const (
	RunnerSide  = 512
	RunnerSteps = 20
)

// typicalRequest is a pony request as the web UI sends it.
var typicalRequest = []byte(`{"model":"pony","mode":"txt2img","prompt":"score_9, score_8_up, a lighthouse at dusk, dramatic sky",` +
	`"negative_prompt":"blurry, lowres","width":1024,"height":1024,"seed":-1,"steps":25,"cfg_scale":7,"sampler":"Euler a","clip_skip":2}`)

// ValidateRequest validates a typical pony request against the catalogue (what POST /generate
// does before it touches the database).
func ValidateRequest(b *testing.B) {
	cat, err := stack.LoadCatalogue("")
	if err != nil {
		b.Fatal(err)
	}
	rnd := func() int64 { return 42 }
	if _, err := cat.Validate(typicalRequest, rnd); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := cat.Validate(typicalRequest, rnd); err != nil {
			b.Fatal(err)
		}
	}
}

// CPURunner runs the CPU runner in-process (no pacing) and times one RunnerSide² RunnerSteps-step
// generation per op, from generate to result, PNG written; it reports ms/step too.
func CPURunner(b *testing.B) {
	dir, err := os.MkdirTemp("", "gooni-bench-micro-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	h, err := startRunner()
	if err != nil {
		b.Fatal(err)
	}
	defer h.close()
	params, _ := json.Marshal(map[string]any{"prompt": "a lighthouse at dusk", "seed": 1, "width": RunnerSide, "height": RunnerSide, "steps": RunnerSteps})
	i := 0
	b.ResetTimer()
	for b.Loop() {
		i++
		m := runner.Message{Type: runner.TypeGenerate, ID: fmt.Sprint("r", i), Model: "pony", Kind: runner.KindImage, Mode: "txt2img", Params: params, OutputDir: dir}
		res, err := h.generate(m)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		_ = os.Remove(res.Path)
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)/RunnerSteps, "ms/step")
}

// Preview makes the JPEG preview of a 512×512 PNG (what the GPU activity does after the runner).
func Preview(b *testing.B) {
	dir, err := os.MkdirTemp("", "gooni-bench-micro-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "src.png")
	if err := writeTestPNG(src, RunnerSide); err != nil {
		b.Fatal(err)
	}
	dst := filepath.Join(dir, "preview.jpg")
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := preview.Make(src, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// Report runs the micro-benchmarks and prints their BENCH lines.
func Report(rep stats.Reporter) {
	v := testing.Benchmark(ValidateRequest)
	rep.Bench("micro.settings_validate", float64(v.NsPerOp())/1e3, "us")
	rep.Logf("   settings validation of a typical pony request: %.1f µs/op, %d allocs/op (%d ops)", float64(v.NsPerOp())/1e3, v.AllocsPerOp(), v.N)

	r := testing.Benchmark(CPURunner)
	perJob := float64(r.NsPerOp()) / 1e6
	rep.Bench("micro.cpu_runner_512.per_job", perJob, "ms")
	rep.Bench("micro.cpu_runner_512.per_step", perJob/RunnerSteps, "ms")
	rep.Logf("   CPU runner, %d×%d, %d steps, no pacing, in-process: %.1f ms/job, %.2f ms/step (%d ops)", RunnerSide, RunnerSide, RunnerSteps, perJob, perJob/RunnerSteps, r.N)

	p := testing.Benchmark(Preview)
	rep.Bench("micro.preview_512", float64(p.NsPerOp())/1e6, "ms")
	rep.Logf("   JPEG preview of a %d×%d PNG: %.2f ms/op (%d ops)", RunnerSide, RunnerSide, float64(p.NsPerOp())/1e6, p.N)
}

// runnerHarness drives an in-process CPU runner over pipes, as a worker would.
type runnerHarness struct {
	in     *io.PipeWriter
	out    *bufio.Scanner
	cancel context.CancelFunc
	done   chan error
}

func startRunner() (*runnerHarness, error) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	h := &runnerHarness{in: inW, out: bufio.NewScanner(outR), cancel: cancel, done: make(chan error, 1)}
	h.out.Buffer(make([]byte, 0, 64<<10), 1<<20)
	go func() {
		err := cpu.Main(ctx, inR, outW, io.Discard, cpu.Config{})
		_ = outW.Close()
		h.done <- err
	}()
	if m, err := h.next(); err != nil || m.Type != runner.TypeReady {
		h.close()
		return nil, fmt.Errorf("runner did not announce itself: %v %v", m.Type, err)
	}
	if err := h.send(runner.Message{Type: runner.TypeLoad, Model: "pony"}); err != nil {
		h.close()
		return nil, err
	}
	if m, err := h.next(); err != nil || m.Type != runner.TypeLoaded {
		h.close()
		return nil, fmt.Errorf("runner did not load: %v %v", m.Type, err)
	}
	return h, nil
}

func (h *runnerHarness) send(m runner.Message) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = h.in.Write(append(b, '\n'))
	return err
}

func (h *runnerHarness) next() (runner.Message, error) {
	var m runner.Message
	if !h.out.Scan() {
		if err := h.out.Err(); err != nil {
			return m, err
		}
		return m, io.EOF
	}
	err := json.Unmarshal(h.out.Bytes(), &m)
	return m, err
}

// generate sends m and reads messages until its result.
func (h *runnerHarness) generate(m runner.Message) (runner.Message, error) {
	if err := h.send(m); err != nil {
		return runner.Message{}, err
	}
	for {
		r, err := h.next()
		if err != nil {
			return r, err
		}
		switch r.Type {
		case runner.TypeResult:
			return r, nil
		case runner.TypeError:
			return r, fmt.Errorf("runner: %s: %s", r.Code, r.Text)
		}
	}
}

func (h *runnerHarness) close() {
	_ = h.in.Close()
	h.cancel()
	<-h.done
}

// writeTestPNG writes a side×side PNG with varied content (a flat image would compress to
// nothing and flatter the decoder).
func writeTestPNG(path string, side int) error {
	img := image.NewRGBA(image.Rect(0, 0, side, side))
	for y := range side {
		for x := range side {
			img.Set(x, y, color.RGBA{R: uint8(x*7 ^ y*3), G: uint8(x*y + y), B: uint8((x + y) * 5), A: 255})
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
