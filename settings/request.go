package settings

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Request is a generation request validated against the catalogue: defaults and fixed values
// applied, the random seed resolved, reference images decoded.
type Request struct {
	// Model is the requested model.
	Model *Model
	// Mode is the requested mode, or the model's default mode.
	Mode string
	// Prompt and NegativePrompt are the texts as sent (they are not repeated in Params).
	Prompt, NegativePrompt string
	// Width and Height are the requested output size.
	Width, Height int
	// Seed is the seed to run with; a random request (-1) is already resolved.
	Seed int64
	// OutputFormat is the effective output_format ("png", "mp4", ...).
	OutputFormat string
	// Params holds every effective parameter of the mode: values sent, defaults for the rest,
	// fixed values, including width, height, seed (resolved) and output_format. Parameters not
	// visible in the mode, the prompts and image fields are not in it. Values are string,
	// int64, float64 or bool.
	Params map[string]any
	// Images are the decoded reference images in catalogue parameter order; keyframes are
	// sorted by frame index.
	Images []Image
}

// Validate checks a POST /generate body (one JSON object) against the catalogue and returns
// the effective request. Every problem found is reported; the error is always a
// *ValidationError. rnd resolves a random seed and must return a value in 0..2147483647 (a
// value outside the seed's range is folded into it); nil uses math/rand/v2.
//
// Rules, all taken from the catalogue: "model" names a model id; "mode" one of its modes
// (default: default_mode); every other field is a parameter of the model (common parameters
// whose applies_to includes the model's type, the model's parameters and fixed_parameters) —
// anything else is rejected, and so is a parameter whose visible_if is false for the mode.
// JSON null counts as not sent.
func (c *Catalogue) Validate(body []byte, rnd func() int64) (*Request, error) {
	members, err := decodeObject(body)
	if err != nil {
		return nil, &ValidationError{Fields: []FieldError{{Message: "invalid request body: " + err.Error()}}}
	}
	var (
		rest     []member
		modelRaw = json.RawMessage("null")
	)
	for _, mb := range members {
		if mb.Key == "model" {
			modelRaw = mb.Value
		} else {
			rest = append(rest, mb)
		}
	}
	valid := "valid models: " + strings.Join(c.IDs(), ", ")
	if isNull(modelRaw) {
		return nil, fieldError("model", "model is required; "+valid)
	}
	var id string
	if err := json.Unmarshal(modelRaw, &id); err != nil {
		return nil, fieldError("model", "model must be a string; "+valid)
	}
	m, ok := c.byID[id]
	if !ok {
		return nil, fieldError("model", fmt.Sprintf("model %q does not exist; %s", id, valid))
	}
	req, verr := m.validate(rest, rnd)
	if verr != nil {
		return nil, verr
	}
	return req, nil
}

// fieldError is a ValidationError with a single problem.
func fieldError(field, msg string) *ValidationError {
	return &ValidationError{Fields: []FieldError{{Field: field, Message: msg}}}
}

// validate checks the request members other than "model" against m.
func (m *Model) validate(members []member, rnd func() int64) (*Request, *ValidationError) {
	v := &requestValidator{m: m, sent: make(map[string]json.RawMessage), mode: m.DefaultMode}
	if !v.readFields(members) {
		return nil, &ValidationError{Fields: v.errs}
	}
	req := &Request{Model: m, Mode: v.mode, Params: make(map[string]any)}
	var imageParams []*param
	for _, p := range m.params {
		raw, sent := v.sent[p.name]
		if !p.visibleIn(v.mode) {
			if sent {
				v.fail(p.name, "%s applies only when %s", p.name, p.visibleIf)
			}
			continue
		}
		switch {
		case p.source == sourceFixed:
			if val, ok := v.fixed(p, raw, sent); ok {
				req.Params[p.name] = val
			}
		case p.kind == kindImage:
			if img, ok := v.image(p, raw, sent); ok {
				req.Images = append(req.Images, img)
				imageParams = append(imageParams, p)
			}
		case p.kind == kindKeyframes:
			imgs := v.keyframes(p, raw, sent)
			req.Images = append(req.Images, imgs...)
			for range imgs {
				imageParams = append(imageParams, p)
			}
		default:
			if val, ok := v.scalar(p, raw, sent); ok {
				if p.randomValue != nil && val == *p.randomValue {
					val = resolveRandom(p, rnd)
				}
				req.Params[p.name] = val
			}
		}
	}
	v.checkFrameLimits(imageParams, req)
	if len(v.errs) > 0 {
		return nil, &ValidationError{Fields: v.errs}
	}
	for i, p := range imageParams {
		if s, ok := req.Params[p.strengthParam].(float64); ok && p.strengthParam != "" {
			req.Images[i].Strength = s
		}
	}
	req.Prompt, _ = req.Params["prompt"].(string)
	req.NegativePrompt, _ = req.Params["negative_prompt"].(string)
	delete(req.Params, "prompt")
	delete(req.Params, "negative_prompt")
	w, _ := req.Params["width"].(int64)
	h, _ := req.Params["height"].(int64)
	req.Width, req.Height = int(w), int(h)
	req.Seed, _ = req.Params["seed"].(int64)
	req.OutputFormat, _ = req.Params["output_format"].(string)
	return req, nil
}

// requestValidator collects the problems of one request.
type requestValidator struct {
	m    *Model
	mode string
	sent map[string]json.RawMessage
	errs []FieldError
}

// fail records a problem with field.
func (v *requestValidator) fail(field, format string, args ...any) {
	v.errs = append(v.errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// readFields sorts the members into mode and parameters and rejects unknown fields; it
// returns false when the mode is unusable (visibility cannot be decided without it).
func (v *requestValidator) readFields(members []member) bool {
	modeOK := true
	validModes := "valid modes: " + strings.Join(v.m.Modes, ", ")
	for _, mb := range members {
		switch {
		case mb.Key == "mode":
			if isNull(mb.Value) {
				continue
			}
			var mode string
			if err := json.Unmarshal(mb.Value, &mode); err != nil {
				v.fail("mode", "mode must be a string; %s", validModes)
				modeOK = false
			} else if !slices.Contains(v.m.Modes, mode) {
				v.fail("mode", "mode %q is not a mode of %s; %s", mode, v.m.ID, validModes)
				modeOK = false
			} else {
				v.mode = mode
			}
		case v.m.byName[mb.Key] == nil:
			v.fail(mb.Key, "unknown field %q for model %s", mb.Key, v.m.ID)
		case !isNull(mb.Value):
			v.sent[mb.Key] = mb.Value
		}
	}
	return modeOK
}

// scalar checks a string, number, bool or enum parameter and returns its effective value;
// ok is false when it has none (not sent, no default) or a problem was recorded.
func (v *requestValidator) scalar(p *param, raw json.RawMessage, sent bool) (any, bool) {
	var val any
	switch {
	case sent:
		dv, err := decodeValue(raw)
		if err != nil {
			v.fail(p.name, "%s is not valid JSON", p.name)
			return nil, false
		}
		nv, problem := p.check(dv)
		if problem != "" {
			v.fail(p.name, "%s %s", p.name, problem)
			return nil, false
		}
		val = nv
	case p.hasDef:
		val = p.def
	default:
		if p.required || p.requiredIn(v.mode) {
			v.fail(p.name, "%s is required%s", p.name, v.when(p))
		}
		return nil, false
	}
	if s, isString := val.(string); isString && (p.required || p.requiredIn(v.mode)) && strings.TrimSpace(s) == "" {
		if sent {
			v.fail(p.name, "%s must not be blank", p.name)
		} else {
			v.fail(p.name, "%s is required%s", p.name, v.when(p))
		}
		return nil, false
	}
	return val, true
}

// when renders the condition that made p required, for messages.
func (v *requestValidator) when(p *param) string {
	if p.requiredIf != nil && p.requiredIn(v.mode) {
		return " when " + p.requiredIf.String()
	}
	return ""
}

// fixed applies a fixed parameter: a locked value must not be contradicted; an unlocked one is
// a recommendation the client may override within its min and max.
func (v *requestValidator) fixed(p *param, raw json.RawMessage, sent bool) (any, bool) {
	if !sent {
		return p.def, true
	}
	dv, err := decodeValue(raw)
	if p.locked {
		if err != nil || !sameValue(p.def, dv) {
			v.fail(p.name, "%s is fixed at %s for %s", p.name, p.valueText, v.m.ID)
			return nil, false
		}
		return p.def, true
	}
	if err != nil {
		v.fail(p.name, "%s is not valid JSON", p.name)
		return nil, false
	}
	nv, problem := p.check(dv)
	if problem != "" {
		v.fail(p.name, "%s %s", p.name, problem)
		return nil, false
	}
	return nv, true
}

// image decodes an image_upload parameter.
func (v *requestValidator) image(p *param, raw json.RawMessage, sent bool) (Image, bool) {
	if !sent {
		if p.requiredIn(v.mode) {
			v.fail(p.name, "%s is required%s", p.name, v.when(p))
		}
		return Image{}, false
	}
	dv, err := decodeValue(raw)
	if err != nil {
		v.fail(p.name, "%s is not valid JSON", p.name)
		return Image{}, false
	}
	img, problem := decodeImage(p, dv)
	if problem != "" {
		v.fail(p.name, "%s %s", p.name, problem)
		return Image{}, false
	}
	return img, true
}

// resolveRandom draws the value that replaces a parameter's random_value, in 0..max.
func resolveRandom(p *param, rnd func() int64) int64 {
	n := uint64(p.max.value) + 1
	if rnd == nil {
		return int64(rand.Uint64N(n))
	}
	r := rnd()
	if r < 0 || uint64(r) >= n {
		r = int64(uint64(r) % n)
	}
	return r
}

// checkFrameLimits rejects keyframes whose frame index is not below the parameter the catalogue
// names for it (e.g. a keyframe at frame 100 of a 49-frame clip).
func (v *requestValidator) checkFrameLimits(imageParams []*param, req *Request) {
	for i, p := range imageParams {
		if p.item == nil || p.item.frameLimit == "" {
			continue
		}
		limit, ok := req.Params[p.item.frameLimit].(int64)
		if !ok {
			continue
		}
		if img := req.Images[i]; int64(img.FrameIndex) >= limit {
			v.fail(strings.TrimSuffix(img.Field, ".image")+".frame_index", "frame_index %d is past the last frame: %s is %d, so frame indexes run 0..%d",
				img.FrameIndex, p.item.frameLimit, limit, limit-1)
		}
	}
}
