package cpu

import (
	"fmt"
	"sort"

	"github.com/gooni/gooni/internal/runner"
)

// Limits and defaults of video requests.
const (
	// maxVideoSide keeps a clip's working memory (scene, references, one
	// frame) in the hundreds of MB.
	maxVideoSide  = 2048
	maxFrames     = 1000
	maxFPS        = 120
	maxMotion     = 5.0
	maxKeyframes  = 64
	defaultFrames = 49
	defaultFPS    = 16
	defaultMotion = 3.0
	// defaultVideoDenoise is denoising_strength when the mode has none
	// (first_last_frame) or the request does not say.
	defaultVideoDenoise = 0.7
	// defaultKeyStrength weighs reference_image and keyframes, and
	// defaultEndStrength first_frame_image and last_frame_image, when neither
	// the input nor its strength parameter says.
	defaultKeyStrength = 0.85
	defaultEndStrength = 1.0
)

// Video modes of the catalogue.
const (
	modeT2V       = "t2v"
	modeI2V       = "i2v"
	modeFirstLast = "first_last_frame"
	modeArbitrary = "arbitrary_frame"
)

// keyframe is an input image that a frame of the clip must look like.
type keyframe struct {
	// frame is the frame index, or -1 for arbitrary_frame's reference_image,
	// which applies to every frame.
	frame int
	// strength in [0, 1] is how much of the frame the image makes up.
	strength float64
	input    runner.Input
}

// videoRequest is a validated generate message of kind video.
type videoRequest struct {
	id, model, mode string
	width, height   int
	steps           int
	frames, fps     int
	// motion is motion_score in [0, maxMotion]: how far the camera and the
	// shapes move over the clip.
	motion float64
	// denoise is denoising_strength: how much generated content replaces the
	// references away from their frames.
	denoise float64
	// grain adds per-frame film grain (lighting_variant high_noise).
	grain     bool
	format    string // "mp4" or "webm"
	outputDir string
	// keyframes are sorted by frame; empty for t2v.
	keyframes []keyframe
	// base is arbitrary_frame's optional reference_image, mixed into the
	// generated content of every frame.
	base *keyframe
	key  [32]byte
}

// parseVideoRequest validates a generate message of kind video. It only
// fails with invalid_input or not_supported_yet.
func parseVideoRequest(m runner.Message) (*videoRequest, *runner.Error) {
	switch m.Mode {
	case modeT2V, modeI2V, modeFirstLast, modeArbitrary:
	default:
		return nil, &runner.Error{Code: runner.CodeNotSupportedYet, Message: fmt.Sprintf("video mode %q is not supported by the CPU runner", m.Mode)}
	}
	params, e := decodeParams(m)
	if e != nil {
		return nil, e
	}
	r := &videoRequest{id: m.ID, model: m.Model, mode: m.Mode, outputDir: m.OutputDir}
	for _, p := range []struct {
		v           *int
		name        string
		def, lo, hi int
	}{
		{&r.width, "width", defaultSide, 2, maxVideoSide},
		{&r.height, "height", defaultSide, 2, maxVideoSide},
		{&r.steps, "steps", defaultSteps, 1, maxSteps},
		{&r.frames, "num_frames", defaultFrames, 1, maxFrames},
		{&r.fps, "fps", defaultFPS, 1, maxFPS},
	} {
		if *p.v, e = intParam(params, p.name, p.def, p.lo, p.hi); e != nil {
			return nil, e
		}
	}
	if r.width%2 != 0 || r.height%2 != 0 {
		return nil, invalid("a video's width and height must be even (4:2:0 chroma), not %d×%d", r.width, r.height)
	}
	if r.motion, e = floatParam(params, "motion_score", defaultMotion, 0, maxMotion); e != nil {
		return nil, e
	}
	if r.denoise, e = floatParam(params, "denoising_strength", defaultVideoDenoise, 0, 1); e != nil {
		return nil, e
	}
	switch v := params["lighting_variant"]; v {
	case nil, "low_noise":
	case "high_noise":
		r.grain = true
	default:
		return nil, invalid("lighting_variant must be high_noise or low_noise")
	}
	if r.format, e = videoFormat(m.OutputFormat); e != nil {
		return nil, e
	}
	if e = r.readKeyframes(m.Inputs, params); e != nil {
		return nil, e
	}
	if r.key, e = requestKey(m, runner.KindVideo, params); e != nil {
		return nil, e
	}
	return r, nil
}

// videoFormat normalises output_format for a video; mp4 is the default.
func videoFormat(f string) (string, *runner.Error) {
	switch f {
	case "", "mp4":
		return "mp4", nil
	case "webm":
		return "webm", nil
	default:
		return "", invalid("output_format %q: the CPU runner writes mp4 or webm videos", f)
	}
}

// readKeyframes takes the mode's reference images from inputs.
func (r *videoRequest) readKeyframes(inputs []runner.Input, params map[string]any) *runner.Error {
	ref := findInput(inputs, func(in runner.Input) bool { return referenceFields[in.Field] })
	switch r.mode {
	case modeI2V:
		if ref == nil {
			return invalid("i2v needs a reference_image input")
		}
		k, e := newKeyframe(*ref, 0, params, "reference_strength", defaultKeyStrength)
		if e != nil {
			return e
		}
		r.keyframes = []keyframe{k}
	case modeFirstLast:
		first := findInput(inputs, func(in runner.Input) bool { return in.Field == "first_frame_image" })
		last := findInput(inputs, func(in runner.Input) bool { return in.Field == "last_frame_image" })
		if first == nil || last == nil {
			return invalid("first_last_frame needs first_frame_image and last_frame_image inputs")
		}
		if r.frames < 2 {
			return invalid("first_last_frame needs num_frames of at least 2")
		}
		kf, e := newKeyframe(*first, 0, params, "first_strength", defaultEndStrength)
		if e != nil {
			return e
		}
		kl, e := newKeyframe(*last, r.frames-1, params, "last_strength", defaultEndStrength)
		if e != nil {
			return e
		}
		r.keyframes = []keyframe{kf, kl}
	case modeArbitrary:
		used := map[int]string{}
		for _, in := range inputs {
			if in.FrameIndex < 0 {
				continue
			}
			if in.FrameIndex >= r.frames {
				return invalid("%s: frame_index %d is past the last frame (%d) of a %d-frame video", in.Field, in.FrameIndex, r.frames-1, r.frames)
			}
			if other, dup := used[in.FrameIndex]; dup {
				return invalid("%s: frame_index %d is already used by %s", in.Field, in.FrameIndex, other)
			}
			used[in.FrameIndex] = in.Field
			k, e := newKeyframe(in, in.FrameIndex, nil, "", defaultKeyStrength)
			if e != nil {
				return e
			}
			r.keyframes = append(r.keyframes, k)
		}
		if len(r.keyframes) == 0 {
			return invalid("arbitrary_frame needs at least one keyframe input (arbitrary_frames[N].image with a frame_index)")
		}
		if len(r.keyframes) > maxKeyframes {
			return invalid("arbitrary_frame takes at most %d keyframes, not %d", maxKeyframes, len(r.keyframes))
		}
		sort.Slice(r.keyframes, func(i, j int) bool { return r.keyframes[i].frame < r.keyframes[j].frame })
		if ref != nil && ref.FrameIndex < 0 {
			k, e := newKeyframe(*ref, -1, params, "reference_strength", defaultKeyStrength)
			if e != nil {
				return e
			}
			r.base = &k
		}
	}
	return nil
}

// findInput returns the first input that match accepts, or nil.
func findInput(inputs []runner.Input, match func(runner.Input) bool) *runner.Input {
	for i := range inputs {
		if match(inputs[i]) {
			return &inputs[i]
		}
	}
	return nil
}

// newKeyframe weighs in by its own strength, else by the parameter param
// (when params has it), else by def.
func newKeyframe(in runner.Input, frame int, params map[string]any, param string, def float64) (keyframe, *runner.Error) {
	if in.Strength < 0 || in.Strength > 1 {
		return keyframe{}, invalid("%s: strength must be between 0 and 1", in.Field)
	}
	k := keyframe{frame: frame, strength: in.Strength, input: in}
	if k.strength == 0 && param != "" {
		var e *runner.Error
		if k.strength, e = floatParam(params, param, def, 0, 1); e != nil {
			return keyframe{}, e
		}
	}
	if k.strength == 0 {
		k.strength = def
	}
	return k, nil
}
