package settings

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var (
	ponyBase    = map[string]any{"model": "pony", "prompt": "a cat"}
	fluxBase    = map[string]any{"model": "flux", "prompt": "a cat"}
	anisoraBase = map[string]any{"model": "anisora", "prompt": "a cat"}
	phr00tBase  = map[string]any{"model": "phr00t", "prompt": "a cat"}
)

// requestCase is one Validate call: valid when fields is nil, otherwise the fields of the
// expected problems in order and a substring of the message.
type requestCase struct {
	name   string
	body   []byte
	fields []string
	msg    string
	check  func(t *testing.T, r *Request)
}

func runRequestCases(t *testing.T, cases []requestCase) {
	t.Helper()
	c := setup(t)
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := c.Validate(tt.body, func() int64 { return 42 })
			if tt.fields == nil {
				require.NoError(t, err)
				require.NotNil(t, req)
				if tt.check != nil {
					tt.check(t, req)
				}
				return
			}
			require.Nil(t, req)
			var verr *ValidationError
			require.ErrorAs(t, err, &verr)
			got := make([]string, len(verr.Fields))
			for i, f := range verr.Fields {
				got[i] = f.Field
			}
			require.Equal(t, tt.fields, got, err.Error())
			require.ErrorContains(t, err, tt.msg)
		})
	}
}

func TestValidateBodyMustBeOneJSONObject(t *testing.T) {
	t.Parallel()
	runRequestCases(t, []requestCase{
		{name: "array", body: []byte(`[]`), fields: []string{""}, msg: "invalid request body: must be a JSON object"},
		{name: "not JSON", body: []byte(`{"model":`), fields: []string{""}, msg: "invalid request body: invalid JSON"},
		{name: "empty", body: nil, fields: []string{""}, msg: "unexpected end of input"},
		{name: "trailing data", body: []byte(`{"model":"pony","prompt":"p"} x`), fields: []string{""}, msg: "unexpected data after the JSON object"},
		{name: "duplicate field", body: []byte(`{"model":"pony","prompt":"p","steps":20,"steps":90}`), fields: []string{""}, msg: `duplicate name "steps"`},
	})
}

func TestValidateModelAndMode(t *testing.T) {
	t.Parallel()
	runRequestCases(t, []requestCase{
		{name: "known model", body: body(t, ponyBase, nil), check: func(t *testing.T, r *Request) {
			require.Equal(t, "pony", r.Model.ID)
		}},
		{name: "model missing", body: body(t, ponyBase, map[string]any{"model": del{}}),
			fields: []string{"model"}, msg: "model is required; valid models: pony, flux, anisora, phr00t"},
		{name: "model null", body: body(t, ponyBase, map[string]any{"model": nil}),
			fields: []string{"model"}, msg: "model is required"},
		{name: "model unknown", body: body(t, ponyBase, map[string]any{"model": "sd15"}),
			fields: []string{"model"}, msg: `model "sd15" does not exist; valid models: pony, flux, anisora, phr00t`},
		{name: "model by key is unknown", body: body(t, ponyBase, map[string]any{"model": "Pony_V6_XL"}),
			fields: []string{"model"}, msg: "does not exist"},
		{name: "model not a string", body: body(t, ponyBase, map[string]any{"model": 1}),
			fields: []string{"model"}, msg: "model must be a string"},
		{name: "mode defaults to default_mode", body: body(t, anisoraBase, nil), check: func(t *testing.T, r *Request) {
			require.Equal(t, "t2v", r.Mode)
		}},
		{name: "mode null defaults", body: body(t, ponyBase, map[string]any{"mode": nil}), check: func(t *testing.T, r *Request) {
			require.Equal(t, "txt2img", r.Mode)
		}},
		{name: "mode of the model", body: body(t, ponyBase, map[string]any{"mode": "img2img", "reference_image": pngURI(t, 8, 8)}),
			check: func(t *testing.T, r *Request) { require.Equal(t, "img2img", r.Mode) }},
		{name: "mode of another model", body: body(t, ponyBase, map[string]any{"mode": "t2v"}),
			fields: []string{"mode"}, msg: `mode "t2v" is not a mode of pony; valid modes: txt2img, img2img`},
		{name: "mode not supported by phr00t", body: body(t, phr00tBase, map[string]any{"mode": "arbitrary_frame"}),
			fields: []string{"mode"}, msg: "valid modes: t2v, i2v, first_last_frame"},
		{name: "mode not a string", body: body(t, ponyBase, map[string]any{"mode": 2}),
			fields: []string{"mode"}, msg: "mode must be a string"},
	})
}

func TestValidateRejectsUnknownFields(t *testing.T) {
	t.Parallel()
	runRequestCases(t, []requestCase{
		{name: "parameter of the model", body: body(t, ponyBase, map[string]any{"clip_skip": 3}),
			check: func(t *testing.T, r *Request) { require.Equal(t, int64(3), r.Params["clip_skip"]) }},
		{name: "unknown field", body: body(t, ponyBase, map[string]any{"foo": 1}),
			fields: []string{"foo"}, msg: `unknown field "foo" for model pony`},
		{name: "parameter of another model", body: body(t, ponyBase, map[string]any{"motion_score": 3}),
			fields: []string{"motion_score"}, msg: `unknown field "motion_score" for model pony`},
		{name: "unknown even when null", body: body(t, ponyBase, map[string]any{"foo": nil}),
			fields: []string{"foo"}, msg: "unknown field"},
		{name: "reported with a bad mode", body: body(t, ponyBase, map[string]any{"mode": "x", "foo": 1}),
			fields: []string{"foo", "mode"}, msg: "unknown field"},
	})
}

func TestValidateOutputFormatDependsOnModelType(t *testing.T) {
	t.Parallel()
	runRequestCases(t, []requestCase{
		{name: "image default png", body: body(t, ponyBase, nil), check: func(t *testing.T, r *Request) {
			require.Equal(t, "png", r.OutputFormat)
			require.Equal(t, "png", r.Params["output_format"])
		}},
		{name: "image jpeg", body: body(t, fluxBase, map[string]any{"output_format": "jpeg"}),
			check: func(t *testing.T, r *Request) { require.Equal(t, "jpeg", r.OutputFormat) }},
		{name: "image mp4", body: body(t, ponyBase, map[string]any{"output_format": "mp4"}),
			fields: []string{"output_format"}, msg: `output_format must be one of "png", "jpeg"`},
		{name: "video default mp4", body: body(t, anisoraBase, nil),
			check: func(t *testing.T, r *Request) { require.Equal(t, "mp4", r.OutputFormat) }},
		{name: "video webm", body: body(t, phr00tBase, map[string]any{"output_format": "webm"}),
			check: func(t *testing.T, r *Request) { require.Equal(t, "webm", r.OutputFormat) }},
		{name: "video png", body: body(t, phr00tBase, map[string]any{"output_format": "png"}),
			fields: []string{"output_format"}, msg: `output_format must be one of "mp4", "webm"`},
	})
}

func TestValidatePrompts(t *testing.T) {
	t.Parallel()
	runRequestCases(t, []requestCase{
		{name: "prompt of 2000 characters", body: body(t, ponyBase, map[string]any{"prompt": strings.Repeat("é", 2000)}),
			check: func(t *testing.T, r *Request) {
				require.Equal(t, strings.Repeat("é", 2000), r.Prompt)
				require.NotContains(t, r.Params, "prompt")
			}},
		{name: "prompt of 2001 characters", body: body(t, ponyBase, map[string]any{"prompt": strings.Repeat("a", 2001)}),
			fields: []string{"prompt"}, msg: "prompt must be at most 2000 characters"},
		{name: "prompt missing", body: body(t, ponyBase, map[string]any{"prompt": del{}}),
			fields: []string{"prompt"}, msg: "prompt is required"},
		{name: "prompt empty", body: body(t, ponyBase, map[string]any{"prompt": ""}),
			fields: []string{"prompt"}, msg: "prompt must not be blank"},
		{name: "prompt blank", body: body(t, ponyBase, map[string]any{"prompt": " \t\n "}),
			fields: []string{"prompt"}, msg: "prompt must not be blank"},
		{name: "prompt not a string", body: body(t, ponyBase, map[string]any{"prompt": 5}),
			fields: []string{"prompt"}, msg: "prompt must be a string"},
		{name: "negative prompt of 1000 characters", body: body(t, ponyBase, map[string]any{"negative_prompt": strings.Repeat("ß", 1000)}),
			check: func(t *testing.T, r *Request) {
				require.Equal(t, strings.Repeat("ß", 1000), r.NegativePrompt)
				require.NotContains(t, r.Params, "negative_prompt")
			}},
		{name: "negative prompt of 1001 characters", body: body(t, ponyBase, map[string]any{"negative_prompt": strings.Repeat("a", 1001)}),
			fields: []string{"negative_prompt"}, msg: "negative_prompt must be at most 1000 characters"},
		{name: "negative prompt may be empty", body: body(t, ponyBase, map[string]any{"negative_prompt": ""}),
			check: func(t *testing.T, r *Request) { require.Empty(t, r.NegativePrompt) }},
	})
}

func TestValidateNumbers(t *testing.T) {
	t.Parallel()
	runRequestCases(t, []requestCase{
		{name: "int in range", body: body(t, ponyBase, map[string]any{"steps": 60}),
			check: func(t *testing.T, r *Request) { require.Equal(t, int64(60), r.Params["steps"]) }},
		{name: "int written with a zero fraction", body: []byte(`{"model":"pony","prompt":"p","steps":25.0}`),
			check: func(t *testing.T, r *Request) { require.Equal(t, int64(25), r.Params["steps"]) }},
		{name: "int with a fraction", body: []byte(`{"model":"pony","prompt":"p","steps":25.5}`),
			fields: []string{"steps"}, msg: "steps must be an integer"},
		{name: "int as a string", body: body(t, ponyBase, map[string]any{"steps": "25"}),
			fields: []string{"steps"}, msg: "steps must be an integer"},
		{name: "int huge", body: []byte(`{"model":"pony","prompt":"p","steps":1e400}`),
			fields: []string{"steps"}, msg: "steps must be an integer"},
		{name: "int below min", body: body(t, ponyBase, map[string]any{"steps": 19}),
			fields: []string{"steps"}, msg: "steps must be between 20 and 60"},
		{name: "int above max", body: body(t, ponyBase, map[string]any{"steps": 61}),
			fields: []string{"steps"}, msg: "steps must be between 20 and 60"},
		{name: "float in range", body: body(t, ponyBase, map[string]any{"cfg_scale": 12}),
			check: func(t *testing.T, r *Request) { require.Equal(t, 12.0, r.Params["cfg_scale"]) }},
		{name: "float off its UI step is accepted", body: body(t, ponyBase, map[string]any{"cfg_scale": 7.3}),
			check: func(t *testing.T, r *Request) { require.Equal(t, 7.3, r.Params["cfg_scale"]) }},
		{name: "float above max", body: body(t, ponyBase, map[string]any{"cfg_scale": 12.5}),
			fields: []string{"cfg_scale"}, msg: "cfg_scale must be between 1.0 and 12.0"},
		{name: "float not a number", body: body(t, ponyBase, map[string]any{"cfg_scale": true}),
			fields: []string{"cfg_scale"}, msg: "cfg_scale must be a number"},
		{name: "width on the step", body: body(t, ponyBase, map[string]any{"width": 528, "height": 1280}),
			check: func(t *testing.T, r *Request) { require.Equal(t, []int{528, 1280}, []int{r.Width, r.Height}) }},
		{name: "width off the step", body: body(t, ponyBase, map[string]any{"width": 520}),
			fields: []string{"width"}, msg: "width must be a multiple of 16"},
		{name: "height out of range", body: body(t, ponyBase, map[string]any{"height": 1296}),
			fields: []string{"height"}, msg: "height must be between 512 and 1280"},
		{name: "num_frames on the step from min", body: body(t, anisoraBase, map[string]any{"num_frames": 161}),
			check: func(t *testing.T, r *Request) { require.Equal(t, int64(161), r.Params["num_frames"]) }},
		{name: "num_frames off the step", body: body(t, anisoraBase, map[string]any{"num_frames": 80}),
			fields: []string{"num_frames"}, msg: "num_frames must be 49 plus a multiple of 4 (49, 53, 57, …)"},
	})
}

func TestValidateEnums(t *testing.T) {
	t.Parallel()
	runRequestCases(t, []requestCase{
		{name: "string option", body: body(t, ponyBase, map[string]any{"sampler": "DPM++ SDE Karras"}),
			check: func(t *testing.T, r *Request) { require.Equal(t, "DPM++ SDE Karras", r.Params["sampler"]) }},
		{name: "string option wrong case", body: body(t, ponyBase, map[string]any{"sampler": "euler a"}),
			fields: []string{"sampler"}, msg: `sampler must be one of "Euler a", "DPM++ 2M Karras", "DPM++ SDE Karras"`},
		{name: "sampler of another model", body: body(t, fluxBase, map[string]any{"sampler": "Euler a"}),
			fields: []string{"sampler"}, msg: `sampler must be one of "Euler", "flow-matching"`},
		{name: "number option", body: body(t, anisoraBase, map[string]any{"fps": 24}),
			check: func(t *testing.T, r *Request) { require.Equal(t, int64(24), r.Params["fps"]) }},
		{name: "number option with a zero fraction", body: []byte(`{"model":"anisora","prompt":"p","fps":8.0}`),
			check: func(t *testing.T, r *Request) { require.Equal(t, int64(8), r.Params["fps"]) }},
		{name: "number not an option", body: body(t, anisoraBase, map[string]any{"fps": 30}),
			fields: []string{"fps"}, msg: "fps must be one of 8, 16, 24"},
		{name: "number option as a string", body: body(t, anisoraBase, map[string]any{"fps": "16"}),
			fields: []string{"fps"}, msg: "fps must be one of 8, 16, 24"},
	})
}

func TestValidateFixedParameters(t *testing.T) {
	t.Parallel()
	runRequestCases(t, []requestCase{
		{name: "locked value applied", body: body(t, phr00tBase, nil), check: func(t *testing.T, r *Request) {
			require.Equal(t, int64(4), r.Params["steps"])
			require.Equal(t, 1.0, r.Params["cfg_scale"])
		}},
		{name: "locked value repeated", body: body(t, anisoraBase, map[string]any{"steps": 8}),
			check: func(t *testing.T, r *Request) { require.Equal(t, int64(8), r.Params["steps"]) }},
		{name: "locked float repeated as integer", body: body(t, phr00tBase, map[string]any{"cfg_scale": 1}),
			check: func(t *testing.T, r *Request) { require.Equal(t, 1.0, r.Params["cfg_scale"]) }},
		{name: "locked value contradicted", body: body(t, anisoraBase, map[string]any{"steps": 20}),
			fields: []string{"steps"}, msg: "steps is fixed at 8 for anisora"},
		{name: "locked float contradicted", body: body(t, phr00tBase, map[string]any{"cfg_scale": 7}),
			fields: []string{"cfg_scale"}, msg: "cfg_scale is fixed at 1.0 for phr00t"},
		{name: "locked value of the wrong type", body: body(t, phr00tBase, map[string]any{"steps": "4"}),
			fields: []string{"steps"}, msg: "steps is fixed at 4 for phr00t"},
		{name: "unlocked value defaults to the recommendation", body: body(t, anisoraBase, nil),
			check: func(t *testing.T, r *Request) { require.Equal(t, 1.0, r.Params["guidance_scale"]) }},
		{name: "unlocked value overridden", body: body(t, anisoraBase, map[string]any{"guidance_scale": 5}),
			check: func(t *testing.T, r *Request) { require.Equal(t, 5.0, r.Params["guidance_scale"]) }},
		{name: "unlocked override out of bounds", body: body(t, anisoraBase, map[string]any{"guidance_scale": 11}),
			fields: []string{"guidance_scale"}, msg: "guidance_scale must be between 1.0 and 10.0"},
		{name: "fixed parameter of another model", body: body(t, anisoraBase, map[string]any{"cfg_scale": 1.0}),
			fields: []string{"cfg_scale"}, msg: `unknown field "cfg_scale" for model anisora`},
	})
}

func TestValidateVisibility(t *testing.T) {
	t.Parallel()
	ref := pngURI(t, 8, 8)
	runRequestCases(t, []requestCase{
		{name: "visible parameter", body: body(t, ponyBase, map[string]any{"mode": "img2img", "reference_image": ref, "denoising_strength": 0.4}),
			check: func(t *testing.T, r *Request) { require.Equal(t, 0.4, r.Params["denoising_strength"]) }},
		{name: "visible parameter defaulted", body: body(t, ponyBase, map[string]any{"mode": "img2img", "reference_image": ref}),
			check: func(t *testing.T, r *Request) { require.Equal(t, 0.7, r.Params["denoising_strength"]) }},
		{name: "hidden parameter sent", body: body(t, ponyBase, map[string]any{"denoising_strength": 0.4}),
			fields: []string{"denoising_strength"}, msg: "denoising_strength applies only when mode == img2img"},
		{name: "hidden parameter not in params", body: body(t, ponyBase, nil),
			check: func(t *testing.T, r *Request) { require.NotContains(t, r.Params, "denoising_strength") }},
		{name: "hidden parameter sent as null", body: body(t, ponyBase, map[string]any{"denoising_strength": nil}),
			check: func(t *testing.T, r *Request) { require.NotContains(t, r.Params, "denoising_strength") }},
		{name: "reference image in txt2img", body: body(t, ponyBase, map[string]any{"reference_image": ref}),
			fields: []string{"reference_image"}, msg: "reference_image applies only when mode == img2img"},
		{name: "reference image in first_last_frame", body: body(t, anisoraBase, map[string]any{
			"mode": "first_last_frame", "first_frame_image": ref, "last_frame_image": ref, "reference_image": ref}),
			fields: []string{"reference_image"}, msg: "reference_image applies only when mode == i2v || mode == arbitrary_frame"},
		{name: "reference strength visible in arbitrary_frame", body: body(t, anisoraBase, map[string]any{
			"mode": "arbitrary_frame", "reference_strength": 0.5,
			"arbitrary_frames": []any{map[string]any{"frame_index": 0, "image": ref}}}),
			check: func(t *testing.T, r *Request) { require.Equal(t, 0.5, r.Params["reference_strength"]) }},
		{name: "phr00t reference strength only in i2v", body: body(t, phr00tBase, map[string]any{"reference_strength": 0.5}),
			fields: []string{"reference_strength"}, msg: "reference_strength applies only when mode == i2v"},
	})
}

func TestValidateRequiredImages(t *testing.T) {
	t.Parallel()
	ref := pngURI(t, 8, 8)
	runRequestCases(t, []requestCase{
		{name: "img2img with reference", body: body(t, fluxBase, map[string]any{"mode": "img2img", "reference_image": ref}),
			check: func(t *testing.T, r *Request) {
				require.Len(t, r.Images, 1)
				require.Equal(t, "reference_image", r.Images[0].Field)
				require.Equal(t, -1, r.Images[0].FrameIndex)
				require.Equal(t, 1.0, r.Images[0].Strength, "no strength_param declared")
				require.NotContains(t, r.Params, "reference_image")
			}},
		{name: "img2img without reference", body: body(t, fluxBase, map[string]any{"mode": "img2img"}),
			fields: []string{"reference_image"}, msg: "reference_image is required when mode == img2img"},
		{name: "i2v with reference", body: body(t, anisoraBase, map[string]any{"mode": "i2v", "reference_image": ref, "reference_strength": 0.6}),
			check: func(t *testing.T, r *Request) {
				require.Len(t, r.Images, 1)
				require.Equal(t, 0.6, r.Images[0].Strength, "strength from strength_param")
			}},
		{name: "i2v strength defaulted", body: body(t, phr00tBase, map[string]any{"mode": "i2v", "reference_image": ref}),
			check: func(t *testing.T, r *Request) { require.Equal(t, 1.0, r.Images[0].Strength) }},
		{name: "i2v without reference", body: body(t, phr00tBase, map[string]any{"mode": "i2v"}),
			fields: []string{"reference_image"}, msg: "reference_image is required when mode == i2v"},
		{name: "t2v needs no image", body: body(t, anisoraBase, map[string]any{"mode": "t2v"}),
			check: func(t *testing.T, r *Request) { require.Empty(t, r.Images) }},
		{name: "first_last_frame with both frames", body: body(t, phr00tBase, map[string]any{
			"mode": "first_last_frame", "first_frame_image": ref, "last_frame_image": dataURI("image/jpeg", jpegBytes(t, 16, 8)),
			"last_strength": 0.5}),
			check: func(t *testing.T, r *Request) {
				require.Len(t, r.Images, 2)
				require.Equal(t, "first_frame_image", r.Images[0].Field)
				require.Equal(t, 1.0, r.Images[0].Strength)
				require.Equal(t, "last_frame_image", r.Images[1].Field)
				require.Equal(t, 0.5, r.Images[1].Strength)
				require.Equal(t, "jpg", r.Images[1].Ext)
				require.Equal(t, []int{16, 8}, []int{r.Images[1].Width, r.Images[1].Height})
			}},
		{name: "first_last_frame without the last frame", body: body(t, anisoraBase, map[string]any{
			"mode": "first_last_frame", "first_frame_image": ref}),
			fields: []string{"last_frame_image"}, msg: "last_frame_image is required when mode == first_last_frame"},
		{name: "first_last_frame without frames", body: body(t, anisoraBase, map[string]any{"mode": "first_last_frame"}),
			fields: []string{"first_frame_image", "last_frame_image"}, msg: "first_frame_image is required"},
		{name: "arbitrary_frame with an optional reference", body: body(t, anisoraBase, map[string]any{
			"mode": "arbitrary_frame", "reference_image": ref,
			"arbitrary_frames": []any{map[string]any{"frame_index": 3, "image": ref}}}),
			check: func(t *testing.T, r *Request) {
				require.Len(t, r.Images, 2)
				require.Equal(t, "reference_image", r.Images[0].Field)
				require.Equal(t, 0.85, r.Images[0].Strength, "reference_strength default in arbitrary_frame")
				require.Equal(t, "arbitrary_frames[0].image", r.Images[1].Field)
			}},
	})
}

func TestValidateKeyframes(t *testing.T) {
	t.Parallel()
	ref := pngURI(t, 8, 8)
	kf := func(frame any, extra map[string]any) map[string]any {
		out := map[string]any{"frame_index": frame, "image": ref}
		for k, v := range extra {
			if _, isDel := v.(del); isDel {
				delete(out, k)
			} else {
				out[k] = v
			}
		}
		return out
	}
	arb := func(items ...any) []byte {
		return body(t, anisoraBase, map[string]any{"mode": "arbitrary_frame", "arbitrary_frames": append([]any{}, items...)})
	}
	runRequestCases(t, []requestCase{
		{name: "keyframes sorted by frame index", body: arb(
			kf(80, map[string]any{"strength": 0.3}), kf(0, nil), kf(40, map[string]any{"image": webpURI()})),
			check: func(t *testing.T, r *Request) {
				require.Len(t, r.Images, 3)
				require.Equal(t, []int{0, 40, 80}, []int{r.Images[0].FrameIndex, r.Images[1].FrameIndex, r.Images[2].FrameIndex})
				require.Equal(t, []string{"arbitrary_frames[1].image", "arbitrary_frames[2].image", "arbitrary_frames[0].image"},
					[]string{r.Images[0].Field, r.Images[1].Field, r.Images[2].Field})
				require.Equal(t, 0.85, r.Images[0].Strength, "item_schema default")
				require.Equal(t, 0.3, r.Images[2].Strength)
				require.Equal(t, "image/webp", r.Images[1].MIME)
				require.NotContains(t, r.Params, "arbitrary_frames")
			}},
		{name: "keyframe past the last frame", body: arb(kf(0, nil), kf(81, nil)),
			fields: []string{"arbitrary_frames[1].frame_index"}, msg: "frame_index 81 is past the last frame: num_frames is 81, so frame indexes run 0..80"},
		{name: "keyframe at the last frame of a longer clip", body: body(t, anisoraBase, map[string]any{"mode": "arbitrary_frame", "num_frames": 161,
			"arbitrary_frames": []any{kf(160, nil)}}),
			check: func(t *testing.T, r *Request) { require.Equal(t, 160, r.Images[0].FrameIndex) }},
		{name: "keyframes missing", body: body(t, anisoraBase, map[string]any{"mode": "arbitrary_frame"}),
			fields: []string{"arbitrary_frames"}, msg: "arbitrary_frames is required when mode == arbitrary_frame (at least 1 keyframe)"},
		{name: "keyframes empty", body: arb(),
			fields: []string{"arbitrary_frames"}, msg: "arbitrary_frames needs at least 1 keyframe"},
		{name: "keyframes outside arbitrary_frame", body: body(t, anisoraBase, map[string]any{"arbitrary_frames": []any{kf(0, nil)}}),
			fields: []string{"arbitrary_frames"}, msg: "arbitrary_frames applies only when mode == arbitrary_frame"},
		{name: "keyframes not an array", body: body(t, anisoraBase, map[string]any{"mode": "arbitrary_frame", "arbitrary_frames": "x"}),
			fields: []string{"arbitrary_frames"}, msg: "arbitrary_frames must be an array of keyframes"},
		{name: "keyframe not an object", body: arb(1),
			fields: []string{"arbitrary_frames[0]"}, msg: "arbitrary_frames[0] must be a JSON object"},
		{name: "frame index above 160", body: arb(kf(161, nil)),
			fields: []string{"arbitrary_frames[0].frame_index"}, msg: "arbitrary_frames[0].frame_index must be between 0 and 160"},
		{name: "frame index negative", body: arb(kf(-1, nil)),
			fields: []string{"arbitrary_frames[0].frame_index"}, msg: "must be between 0 and 160"},
		{name: "frame index not an integer", body: arb(kf(1.5, nil)),
			fields: []string{"arbitrary_frames[0].frame_index"}, msg: "arbitrary_frames[0].frame_index must be an integer"},
		{name: "frame index missing", body: arb(kf(del{}, map[string]any{"frame_index": del{}})),
			fields: []string{"arbitrary_frames[0].frame_index"}, msg: "arbitrary_frames[0].frame_index is required"},
		{name: "frame index repeated", body: arb(kf(10, nil), kf(20, nil), kf(10, nil)),
			fields: []string{"arbitrary_frames[2].frame_index"}, msg: "arbitrary_frames[2].frame_index 10 is already used by arbitrary_frames[0]"},
		{name: "strength out of range", body: arb(kf(0, map[string]any{"strength": 0.05})),
			fields: []string{"arbitrary_frames[0].strength"}, msg: "arbitrary_frames[0].strength must be between 0.1 and 1.0"},
		{name: "image missing", body: arb(kf(0, map[string]any{"image": del{}})),
			fields: []string{"arbitrary_frames[0].image"}, msg: "arbitrary_frames[0].image is required"},
		{name: "image invalid", body: arb(kf(0, map[string]any{"image": "data:image/png;base64,AAAA"})),
			fields: []string{"arbitrary_frames[0].image"}, msg: "arbitrary_frames[0].image is not a png image"},
		{name: "unknown keyframe field", body: arb(kf(0, map[string]any{"mask": "x"})),
			fields: []string{"arbitrary_frames[0].mask"}, msg: `unknown keyframe field "mask" in arbitrary_frames[0]`},
	})
}

func TestValidateSeed(t *testing.T) {
	t.Parallel()
	c := setup(t)
	tests := []struct {
		name string
		seed any
		rnd  func() int64
		want int64
	}{
		{"random resolved by rnd", -1, func() int64 { return 42 }, 42},
		{"random at the top of the range", -1, func() int64 { return 2147483647 }, 2147483647},
		{"default is random", del{}, func() int64 { return 7 }, 7},
		{"rnd out of range is folded", -1, func() int64 { return 2147483648 + 5 }, 5},
		{"negative rnd is folded into range", -1, func() int64 { return -1 }, int64(uint64(1<<64-1) % (1 << 31))},
		{"explicit seed kept", 1234, func() int64 { panic("rnd must not be called") }, 1234},
		{"zero seed kept", 0, func() int64 { panic("rnd must not be called") }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := c.Validate(body(t, ponyBase, map[string]any{"seed": tt.seed}), tt.rnd)
			require.NoError(t, err)
			require.Equal(t, tt.want, req.Seed)
			require.Equal(t, tt.want, req.Params["seed"])
		})
	}
	t.Run("nil rnd draws in range", func(t *testing.T) {
		t.Parallel()
		req, err := c.Validate(body(t, ponyBase, map[string]any{"seed": -1}), nil)
		require.NoError(t, err)
		require.GreaterOrEqual(t, req.Seed, int64(0))
		require.LessOrEqual(t, req.Seed, int64(2147483647))
	})
	runRequestCases(t, []requestCase{
		{name: "seed below -1", body: body(t, ponyBase, map[string]any{"seed": -2}),
			fields: []string{"seed"}, msg: "seed must be between -1 and 2147483647"},
		{name: "seed above max", body: body(t, ponyBase, map[string]any{"seed": 2147483648}),
			fields: []string{"seed"}, msg: "seed must be between -1 and 2147483647"},
	})
}

func TestValidateAppliesDefaults(t *testing.T) {
	t.Parallel()
	runRequestCases(t, []requestCase{
		{name: "pony txt2img", body: body(t, ponyBase, nil), check: func(t *testing.T, r *Request) {
			require.Equal(t, map[string]any{
				"width": int64(720), "height": int64(1280), "seed": int64(42), "steps": int64(25), "cfg_scale": 7.0,
				"sampler": "Euler a", "clip_skip": int64(2), "output_format": "png",
			}, r.Params)
			require.Equal(t, []int{720, 1280}, []int{r.Width, r.Height})
			require.Empty(t, r.Images)
		}},
		{name: "anisora t2v", body: body(t, anisoraBase, nil), check: func(t *testing.T, r *Request) {
			require.Equal(t, map[string]any{
				"width": int64(720), "height": int64(1280), "seed": int64(42), "output_format": "mp4",
				"num_frames": int64(81), "fps": int64(16), "motion_score": 3.0, "steps": int64(8), "guidance_scale": 1.0,
			}, r.Params)
		}},
		{name: "phr00t first_last_frame", body: body(t, phr00tBase, map[string]any{"mode": "first_last_frame",
			"first_frame_image": pngURI(t, 4, 4), "last_frame_image": pngURI(t, 4, 4)}), check: func(t *testing.T, r *Request) {
			require.Equal(t, map[string]any{
				"width": int64(720), "height": int64(1280), "seed": int64(42), "output_format": "mp4",
				"num_frames": int64(81), "fps": int64(16), "lighting_variant": "low_noise",
				"first_strength": 1.0, "last_strength": 1.0, "steps": int64(4), "cfg_scale": 1.0,
			}, r.Params)
		}},
	})
}

func TestValidateCollectsEveryProblem(t *testing.T) {
	t.Parallel()
	c := setup(t)
	_, err := c.Validate(body(t, anisoraBase, map[string]any{
		"mode": "i2v", "prompt": " ", "seed": -2, "steps": 9, "foo": 1, "first_strength": 1,
		"num_frames": 50, "fps": 15, "width": 100,
	}), nil)
	var verr *ValidationError
	require.ErrorAs(t, err, &verr)
	for _, field := range []string{"foo", "prompt", "width", "seed", "num_frames", "fps", "reference_image", "first_strength", "steps"} {
		require.True(t, verr.Has(field), "no problem reported for %s in %v", field, err)
	}
	require.Len(t, verr.Fields, 9)
}
