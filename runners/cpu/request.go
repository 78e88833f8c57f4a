package cpu

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/gooni/gooni/internal/runner"
)

// Limits and defaults of the parameters the CPU runner reads.
const (
	maxSide         = 4096
	maxSteps        = 1000
	defaultSide     = 512
	defaultSteps    = 25
	defaultStrength = 0.75
)

// referenceFields are the input fields img2img takes its image from.
var referenceFields = map[string]bool{"reference_image": true, "init_image": true, "image": true}

// request is a validated generate message.
type request struct {
	id, model, mode string
	width, height   int
	steps           int
	// strength is denoising_strength: how much of the reference img2img
	// replaces (1 = all of it, 0 = none).
	strength  float64
	reference *runner.Input
	outputDir string
	format    string // "png" or "jpeg"
	// key seeds the rendering: a hash of the model, mode and canonical params.
	key [32]byte
}

// parseRequest validates a generate message for an image. It only fails
// with invalid_input or not_supported_yet.
func parseRequest(m runner.Message) (*request, *runner.Error) {
	if m.Mode != "txt2img" && m.Mode != "img2img" {
		return nil, &runner.Error{Code: runner.CodeNotSupportedYet, Message: fmt.Sprintf("mode %q is not supported by the CPU runner", m.Mode)}
	}
	params, e := decodeParams(m)
	if e != nil {
		return nil, e
	}

	r := &request{id: m.ID, model: m.Model, mode: m.Mode, outputDir: m.OutputDir}
	if r.width, e = intParam(params, "width", defaultSide, 1, maxSide); e != nil {
		return nil, e
	}
	if r.height, e = intParam(params, "height", defaultSide, 1, maxSide); e != nil {
		return nil, e
	}
	if r.steps, e = intParam(params, "steps", defaultSteps, 1, maxSteps); e != nil {
		return nil, e
	}
	if r.strength, e = floatParam(params, "denoising_strength", defaultStrength, 0, 1); e != nil {
		return nil, e
	}
	if r.format, e = outputFormat(m.OutputFormat); e != nil {
		return nil, e
	}
	if m.Mode == "img2img" {
		for i := range m.Inputs {
			if referenceFields[m.Inputs[i].Field] {
				r.reference = &m.Inputs[i]
				break
			}
		}
		if r.reference == nil {
			return nil, invalid("img2img needs a reference_image input")
		}
	}
	if r.key, e = requestKey(m, runner.KindImage, params); e != nil {
		return nil, e
	}
	return r, nil
}

// decodeParams checks what every generate message needs (a model, an
// existing absolute output_dir) and decodes its params, numbers as
// json.Number.
func decodeParams(m runner.Message) (map[string]any, *runner.Error) {
	if m.Model == "" {
		return nil, invalid("model is empty")
	}
	params := map[string]any{}
	if len(m.Params) > 0 {
		dec := json.NewDecoder(bytes.NewReader(m.Params))
		dec.UseNumber()
		if err := dec.Decode(&params); err != nil {
			return nil, invalid("params must be a JSON object: %v", err)
		}
	}
	if !filepath.IsAbs(m.OutputDir) {
		return nil, invalid("output_dir %q is not an absolute path", m.OutputDir)
	}
	if st, err := os.Stat(m.OutputDir); err != nil || !st.IsDir() {
		return nil, invalid("output_dir %q is not a directory", m.OutputDir)
	}
	return params, nil
}

// requestKey is the seed of a request: a SHA-256 of the model, kind, mode and
// canonical params. Inputs are not part of it: their pixels shape the output
// directly.
func requestKey(m runner.Message, kind string, params map[string]any) ([32]byte, *runner.Error) {
	canon, err := json.Marshal(map[string]any{
		"model":  m.Model,
		"kind":   kind,
		"mode":   m.Mode,
		"params": canonical(params),
	})
	if err != nil {
		return [32]byte{}, invalid("params: %v", err)
	}
	return sha256.Sum256(canon), nil
}

// outputFormat normalises output_format; png is the default.
func outputFormat(f string) (string, *runner.Error) {
	switch f {
	case "", "png":
		return "png", nil
	case "jpeg", "jpg":
		return "jpeg", nil
	default:
		return "", invalid("output_format %q: the CPU runner writes png or jpeg", f)
	}
}

// intParam reads a whole-number parameter in [lo, hi], def when absent.
func intParam(p map[string]any, key string, def, lo, hi int) (int, *runner.Error) {
	f, e := floatParam(p, key, float64(def), float64(lo), float64(hi))
	if e != nil {
		return 0, e
	}
	if f != math.Trunc(f) {
		return 0, invalid("%s must be a whole number", key)
	}
	return int(f), nil
}

// floatParam reads a number parameter in [lo, hi], def when absent or null.
func floatParam(p map[string]any, key string, def, lo, hi float64) (float64, *runner.Error) {
	v, ok := p[key]
	if !ok || v == nil {
		return def, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, invalid("%s must be a number", key)
	}
	f, err := n.Float64()
	if err != nil || f < lo || f > hi {
		return 0, invalid("%s must be between %v and %v", key, lo, hi)
	}
	return f, nil
}

// canonical rewrites decoded JSON so that equal values encode identically:
// numbers in one spelling (25, 25.0 and 2.5e1 are all 25); json.Marshal sorts
// object keys.
func canonical(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return json.Number(strconv.FormatInt(i, 10))
		}
		f, err := x.Float64()
		if err != nil {
			return x
		}
		if f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return json.Number(strconv.FormatInt(int64(f), 10))
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = canonical(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = canonical(e)
		}
		return out
	default:
		return v
	}
}
