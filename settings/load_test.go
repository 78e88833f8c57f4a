package settings

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoadDefaultMatchesTheFileInTheRepository(t *testing.T) {
	t.Parallel()
	c := setup(t)
	onDisk, err := Load("inference_settings.json")
	require.NoError(t, err)
	data, err := os.ReadFile("inference_settings.json")
	require.NoError(t, err)
	require.JSONEq(t, string(data), string(c.Raw()))
	require.Equal(t, onDisk.IDs(), c.IDs())
}

func TestLoadKeepsEveryModelOfTheSeedInModelOrder(t *testing.T) {
	t.Parallel()
	c := setup(t)
	require.Equal(t, []string{"pony", "flux", "anisora", "phr00t"}, c.IDs())
	want := []struct {
		key, id, typ, defaultMode, lane string
		modes                           []string
	}{
		{"Pony_V6_XL", "pony", "image", "txt2img", "gpu-pony", []string{"txt2img", "img2img"}},
		{"Flux_dev_nf4", "flux", "image", "txt2img", "gpu-flux", []string{"txt2img", "img2img"}},
		{"Index-AniSora_V3.2", "anisora", "video", "t2v", "gpu-anisora", []string{"t2v", "i2v", "first_last_frame", "arbitrary_frame"}},
		{"Phr00t_WAN_Rapid_AllInOne_NSFW_v12", "phr00t", "video", "t2v", "gpu-phr00t", []string{"t2v", "i2v", "first_last_frame"}},
	}
	models := c.Models()
	require.Len(t, models, len(want))
	for i, w := range want {
		m := models[i]
		require.Equal(t, w.key, m.Key)
		require.Equal(t, w.id, m.ID)
		require.Equal(t, w.typ, m.Type)
		require.Equal(t, w.defaultMode, m.DefaultMode)
		require.Equal(t, w.modes, m.Modes)
		require.Equal(t, w.lane, m.Runtime.Lane)
		byID, ok := c.Model(w.id)
		require.True(t, ok)
		require.Same(t, m, byID)
	}
	_, ok := c.Model("Pony_V6_XL")
	require.False(t, ok, "models are looked up by id, not key")
}

func TestLoadReadsRuntimeDeclarations(t *testing.T) {
	t.Parallel()
	c := setup(t)
	pony, _ := c.Model("pony")
	require.Equal(t, Runtime{
		Lane: "gpu-pony", GPUProfile: "sdxl-fp16", VRAMGB: 8,
		ScheduleToStart: 10 * time.Minute, StartToClose: 5 * time.Minute, Heartbeat: 30 * time.Second,
		StallTimeout: 120 * time.Second,
		Retry: Retry{
			MaxAttempts: 3, InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaxInterval: 30 * time.Second,
			NonRetryableCodes: []string{"invalid_input", "gpu_memory_exceeded", "not_supported_yet"},
		},
		Concurrency: 1,
		Warmup:      map[string]any{"mode": "txt2img", "prompt": "warm-up", "width": int64(512), "height": int64(512), "steps": int64(20)},
	}, pony.Runtime)
	for _, m := range c.Models() {
		if m.Type == "video" {
			require.GreaterOrEqual(t, m.Runtime.VRAMGB, 24, m.ID)
			require.GreaterOrEqual(t, m.Runtime.StartToClose, 20*time.Minute, m.ID)
			require.Equal(t, time.Minute, m.Runtime.Heartbeat, m.ID)
		}
	}
	require.Equal(t, SharedLane{TaskQueue: "gpu-shared", MaxDepth: 25, MaxWait: 30 * time.Second}, c.SharedLane())
}

func TestRawReturnsACopy(t *testing.T) {
	t.Parallel()
	c := setup(t)
	raw := c.Raw()
	raw[0] = 'X'
	require.Equal(t, byte('{'), c.Raw()[0])
}

func TestLoadNamesTheFileOnError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := Load(filepath.Join(dir, "missing.json"))
	require.ErrorContains(t, err, "missing.json")

	path := filepath.Join(dir, "broken.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"common": 1}`), 0o600))
	_, err = Load(path)
	require.ErrorContains(t, err, "load settings "+path)
	require.ErrorContains(t, err, "common: must be a JSON object")
}

func TestParseRejectsBrokenFilesNamingThePath(t *testing.T) {
	t.Parallel()
	const (
		pony    = "Pony_V6_XL"
		anisora = "Index-AniSora_V3.2"
		phr00t  = "Phr00t_WAN_Rapid_AllInOne_NSFW_v12"
	)
	type file = map[string]any
	tests := []struct {
		name   string
		mutate func(t *testing.T, f file)
		want   string
	}{
		{"heartbeat not a duration", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "runtime")["heartbeat"] = "abc"
		}, `image_models.Pony_V6_XL.runtime.heartbeat: "abc" is not a duration`},
		{"duration not positive", func(t *testing.T, f file) {
			obj(t, f, "video_models", anisora, "runtime")["start_to_close"] = "-5s"
		}, `video_models.Index-AniSora_V3.2.runtime.start_to_close: "-5s" must be positive`},
		{"duration not a string", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "runtime")["schedule_to_start"] = 600
		}, `image_models.Pony_V6_XL.runtime.schedule_to_start: 600 is not a duration string`},
		{"runtime missing", func(t *testing.T, f file) {
			delete(obj(t, f, "image_models", pony), "runtime")
		}, `image_models.Pony_V6_XL.runtime: is required`},
		{"runtime key missing", func(t *testing.T, f file) {
			delete(obj(t, f, "image_models", pony, "runtime"), "stall_timeout")
		}, `image_models.Pony_V6_XL.runtime.stall_timeout: is required`},
		{"runtime unknown key", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "runtime")["lanes"] = "x"
		}, `image_models.Pony_V6_XL.runtime.lanes: unknown key`},
		{"max_attempts below 1", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "runtime", "retry")["max_attempts"] = 0
		}, `image_models.Pony_V6_XL.runtime.retry.max_attempts: 0 must be between 1`},
		{"backoff below 1", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "runtime", "retry")["backoff_coefficient"] = 0.5
		}, `image_models.Pony_V6_XL.runtime.retry.backoff_coefficient: 0.5 must be at least 1`},
		{"max_interval below initial", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "runtime", "retry")["max_interval"] = "1s"
		}, `image_models.Pony_V6_XL.runtime.retry.max_interval: 1s must not be shorter than initial_interval 2s`},
		{"concurrency below 1", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "runtime")["concurrency"] = 0
		}, `image_models.Pony_V6_XL.runtime.concurrency: 0 must be between 1`},
		{"concurrency not an integer", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "runtime")["concurrency"] = 1.5
		}, `image_models.Pony_V6_XL.runtime.concurrency: 1.5 is not an integer`},
		{"heartbeat not shorter than start_to_close", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "runtime")["heartbeat"] = "5m"
		}, `image_models.Pony_V6_XL.runtime.heartbeat: 5m0s must be shorter than start_to_close 5m0s`},
		{"vram below metadata minimum", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "runtime")["vram_gb"] = 4
		}, `image_models.Pony_V6_XL.runtime.vram_gb: 4 is below metadata.vram_min_gb 6`},
		{"duplicate lane", func(t *testing.T, f file) {
			obj(t, f, "video_models", phr00t, "runtime")["lane"] = "gpu-pony"
		}, `video_models.Phr00t_WAN_Rapid_AllInOne_NSFW_v12.runtime.lane: lane "gpu-pony" is also used by Pony_V6_XL`},
		{"lane is the shared lane", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "runtime")["lane"] = "gpu-shared"
		}, `image_models.Pony_V6_XL.runtime.lane: lane "gpu-shared" is also used by shared_lane.task_queue`},
		{"shared lane incomplete", func(t *testing.T, f file) {
			delete(obj(t, f, "shared_lane"), "max_wait")
		}, `shared_lane.max_wait: is required`},
		{"duplicate id", func(t *testing.T, f file) {
			obj(t, f, "image_models", "Flux_dev_nf4")["id"] = "pony"
		}, `.id: id "pony" is also used by `},
		{"missing id", func(t *testing.T, f file) {
			delete(obj(t, f, "image_models", pony), "id")
		}, `image_models.Pony_V6_XL.id: is required`},
		{"type does not match section", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony)["type"] = "video"
		}, `image_models.Pony_V6_XL.type: "video" in image_models; must be "image"`},
		{"no modes", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony)["modes"] = map[string]any{}
		}, `image_models.Pony_V6_XL.modes: must declare at least one mode`},
		{"default_mode not a mode", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony)["default_mode"] = "t2v"
		}, `image_models.Pony_V6_XL.default_mode: "t2v" is not one of the modes`},
		{"parameters missing", func(t *testing.T, f file) {
			delete(obj(t, f, "image_models", pony), "parameters")
		}, `image_models.Pony_V6_XL.parameters: is required`},
		{"unknown parameter type", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "parameters", "steps")["type"] = "integer"
		}, `image_models.Pony_V6_XL.parameters.steps.type: unknown type "integer"`},
		{"default above max", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "parameters", "steps")["default"] = 70
		}, `image_models.Pony_V6_XL.parameters.steps.default: 70: steps must be between 20 and 60`},
		{"default below min", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "parameters", "cfg_scale")["default"] = 0.5
		}, `image_models.Pony_V6_XL.parameters.cfg_scale.default: 0.5: cfg_scale must be between 1.0 and 12.0`},
		{"min above max", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "parameters", "clip_skip")["min"] = 5
		}, `image_models.Pony_V6_XL.parameters.clip_skip: min 5 is greater than max 4`},
		{"int bound not an integer", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "parameters", "clip_skip")["max"] = 4.5
		}, `image_models.Pony_V6_XL.parameters.clip_skip.max: 4.5 is not an integer`},
		{"default off the step", func(t *testing.T, f file) {
			obj(t, f, "common", "width")["step"] = 64
		}, `common.width.default: 720: width must be a multiple of 64`},
		{"enum default not an option", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "parameters", "sampler")["default"] = "DDIM"
		}, `image_models.Pony_V6_XL.parameters.sampler.default: "DDIM": sampler must be one of "Euler a", "DPM++ 2M Karras", "DPM++ SDE Karras"`},
		{"enum without options", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "parameters", "sampler")["options"] = []any{}
		}, `image_models.Pony_V6_XL.parameters.sampler.options: must not be empty`},
		{"enum duplicate option", func(t *testing.T, f file) {
			obj(t, f, "video_models", anisora, "parameters", "fps")["options"] = []any{8, 16, 16}
		}, `video_models.Index-AniSora_V3.2.parameters.fps.options[2]: duplicate option 16`},
		{"visible_if does not parse", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "parameters", "denoising_strength")["visible_if"] = "mode = img2img"
		}, `image_models.Pony_V6_XL.parameters.denoising_strength.visible_if: "mode = img2img" does not parse`},
		{"required_if names an unknown mode", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "parameters", "reference_image")["required_if"] = "mode == img2imgg"
		}, `image_models.Pony_V6_XL.parameters.reference_image.required_if: "mode == img2imgg" compares mode with "img2imgg", which is not a mode of this model`},
		{"required where not visible", func(t *testing.T, f file) {
			obj(t, f, "video_models", anisora, "parameters", "reference_image")["required_if"] = "mode != t2v"
		}, `video_models.Index-AniSora_V3.2.parameters.reference_image.required_if: reference_image is required in mode first_last_frame, where its visible_if "mode == i2v || mode == arbitrary_frame" hides it`},
		{"condition on a common parameter", func(t *testing.T, f file) {
			obj(t, f, "common", "seed")["visible_if"] = "mode == t2v"
		}, `common.seed.visible_if: conditions are allowed only on a model's parameters`},
		{"applies_to an unknown type", func(t *testing.T, f file) {
			obj(t, f, "common", "output_format")["applies_to"] = []any{"audio"}
		}, `common.output_format.applies_to[0]: "audio" is not a model type`},
		{"image type not supported", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "parameters", "reference_image")["accepts"] = []any{"image/gif"}
		}, `image_models.Pony_V6_XL.parameters.reference_image.accepts[0]: "image/gif" is not a supported image type`},
		{"image without max_bytes", func(t *testing.T, f file) {
			delete(obj(t, f, "image_models", pony, "parameters", "reference_image"), "max_bytes")
		}, `image_models.Pony_V6_XL.parameters.reference_image.max_bytes: is required`},
		{"strength_param names no float parameter", func(t *testing.T, f file) {
			obj(t, f, "video_models", phr00t, "parameters", "reference_image")["strength_param"] = "lighting_variant"
		}, `video_models.Phr00t_WAN_Rapid_AllInOne_NSFW_v12.parameters.reference_image.strength_param: "lighting_variant" is not a float parameter`},
		{"keyframe schema without image", func(t *testing.T, f file) {
			delete(obj(t, f, "video_models", anisora, "parameters", "arbitrary_frames", "item_schema"), "image")
		}, `video_models.Index-AniSora_V3.2.parameters.arbitrary_frames.item_schema.image: is required`},
		{"keyframe schema with an unknown field", func(t *testing.T, f file) {
			obj(t, f, "video_models", anisora, "parameters", "arbitrary_frames", "item_schema")["mask"] = map[string]any{"type": "string"}
		}, `video_models.Index-AniSora_V3.2.parameters.arbitrary_frames.item_schema.mask: unknown key`},
		{"keyframe default not empty", func(t *testing.T, f file) {
			obj(t, f, "video_models", anisora, "parameters", "arbitrary_frames")["default"] = []any{1}
		}, `video_models.Index-AniSora_V3.2.parameters.arbitrary_frames.default: the default of a keyframe_array can only be []`},
		{"unlocked fixed value without bounds", func(t *testing.T, f file) {
			delete(obj(t, f, "video_models", anisora, "fixed_parameters", "guidance_scale"), "max")
		}, `video_models.Index-AniSora_V3.2.fixed_parameters.guidance_scale: an unlocked fixed number needs min and max`},
		{"fixed value outside its bounds", func(t *testing.T, f file) {
			obj(t, f, "video_models", anisora, "fixed_parameters", "guidance_scale")["value"] = json.Number("20.0")
		}, `video_models.Index-AniSora_V3.2.fixed_parameters.guidance_scale.value: 20.0: guidance_scale must be between 1.0 and 10.0`},
		{"fixed without locked", func(t *testing.T, f file) {
			delete(obj(t, f, "video_models", phr00t, "fixed_parameters", "steps"), "locked")
		}, `video_models.Phr00t_WAN_Rapid_AllInOne_NSFW_v12.fixed_parameters.steps.locked: is required`},
		{"fixed parameter also a parameter", func(t *testing.T, f file) {
			obj(t, f, "video_models", anisora, "parameters")["steps"] = map[string]any{"type": "int", "default": 8}
		}, `video_models.Index-AniSora_V3.2.fixed_parameters.steps: steps is already declared as a model parameter`},
		{"parameter shadows a common one", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "parameters")["seed"] = map[string]any{"type": "int", "default": 1}
		}, `image_models.Pony_V6_XL.parameters.seed: seed is already declared as a common parameter`},
		{"reserved parameter name", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "parameters")["mode"] = map[string]any{"type": "string"}
		}, `image_models.Pony_V6_XL.parameters.mode: "mode" is a reserved request field`},
		{"image model without output_format", func(t *testing.T, f file) {
			delete(obj(t, f, "image_models", pony, "parameters"), "output_format")
		}, `image_models.Pony_V6_XL.parameters: the model has no output_format parameter`},
		{"common request field missing", func(t *testing.T, f file) {
			delete(obj(t, f, "common"), "seed")
		}, `image_models.Pony_V6_XL.parameters: the model has no seed parameter`},
		{"random_value without max", func(t *testing.T, f file) {
			delete(obj(t, f, "common", "seed"), "max")
		}, `common.seed.random_value: needs a max of at least 0`},
		{"recommended resolution off the rules", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony)["recommended_resolutions"] = []any{map[string]any{"width": 500, "height": 512}}
		}, `image_models.Pony_V6_XL.recommended_resolutions[0].width: 500: width must be between 512 and 1280`},
		{"model_order misses a model", func(t *testing.T, f file) {
			obj(t, f, "ui_logic")["model_order"] = []any{"Pony_V6_XL", "Flux_dev_nf4", "Index-AniSora_V3.2"}
		}, `ui_logic.model_order: model Phr00t_WAN_Rapid_AllInOne_NSFW_v12 is missing`},
		{"model_order names an unknown model", func(t *testing.T, f file) {
			order := obj(t, f, "ui_logic")["model_order"].([]any)
			obj(t, f, "ui_logic")["model_order"] = append(order, "SD15")
		}, `ui_logic.model_order[4]: "SD15" is not a model`},
		{"warm-up request out of range", func(t *testing.T, f file) {
			obj(t, f, "image_models", pony, "runtime", "warmup")["steps"] = 5
		}, `image_models.Pony_V6_XL.runtime.warmup: the warm-up request is invalid: invalid request: steps must be between 20 and 60`},
		{"warm-up request contradicts a fixed value", func(t *testing.T, f file) {
			obj(t, f, "video_models", anisora, "runtime", "warmup")["steps"] = 20
		}, `video_models.Index-AniSora_V3.2.runtime.warmup: the warm-up request is invalid: invalid request: steps is fixed at 8 for anisora`},
		{"no models", func(t *testing.T, f file) {
			delete(f, "image_models")
			delete(f, "video_models")
		}, `the catalogue declares no model`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := seedFile(t)
			tt.mutate(t, f)
			c, err := Parse(encode(t, f))
			require.Nil(t, c)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestParseRejectsMalformedJSON(t *testing.T) {
	t.Parallel()
	tests := []struct{ data, want string }{
		{``, "unexpected end of input"},
		{`[]`, "must be a JSON object"},
		{`{"common": {}`, "unexpected end of input"},
		{`{"a": 1, "a": 2}`, `duplicate name "a"`},
		{`{} {}`, "unexpected data after the JSON object"},
		{`{"common": {"x": 1,}}`, "invalid JSON at byte"},
	}
	for _, tt := range tests {
		t.Run(tt.data, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.data))
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestParseReportsEveryProblemAtOnce(t *testing.T) {
	t.Parallel()
	f := seedFile(t)
	obj(t, f, "image_models", "Pony_V6_XL", "runtime")["heartbeat"] = "abc"
	obj(t, f, "image_models", "Flux_dev_nf4", "parameters", "steps")["default"] = 99
	_, err := Parse(encode(t, f))
	require.ErrorContains(t, err, "Pony_V6_XL.runtime.heartbeat")
	require.ErrorContains(t, err, "Flux_dev_nf4.parameters.steps.default")
}

func TestFixedStringValueIsEnforced(t *testing.T) {
	t.Parallel()
	f := seedFile(t)
	obj(t, f, "video_models", "Index-AniSora_V3.2", "fixed_parameters")["scheduler"] = map[string]any{"value": "unipc", "locked": true}
	c, err := Parse(encode(t, f))
	require.NoError(t, err)
	req, err := c.Validate([]byte(`{"model":"anisora","prompt":"p","scheduler":"unipc"}`), nil)
	require.NoError(t, err)
	require.Equal(t, "unipc", req.Params["scheduler"])
	_, err = c.Validate([]byte(`{"model":"anisora","prompt":"p","scheduler":"ddim"}`), nil)
	require.EqualError(t, err, "invalid request: scheduler is fixed at \"unipc\" for anisora")
}

func TestPublicModelsIsDeterministicAndHidesRuntimeInternals(t *testing.T) {
	t.Parallel()
	c := setup(t)
	first, err := json.Marshal(c.PublicModels())
	require.NoError(t, err)
	other, err := Parse(c.Raw())
	require.NoError(t, err)
	second, err := json.Marshal(other.PublicModels())
	require.NoError(t, err)
	require.Equal(t, string(first), string(second))
	require.NotContains(t, string(first), "gpu_profile")
	require.NotContains(t, string(first), "start_to_close")
	require.NotContains(t, string(first), "warmup")

	var models []struct {
		ID          string `json:"id"`
		Key         string `json:"key"`
		Type        string `json:"type"`
		DefaultMode string `json:"default_mode"`
		Lane        string `json:"lane"`
		Modes       []struct {
			ID    string `json:"id"`
			Label string `json:"label"`
		} `json:"modes"`
		Parameters []map[string]any `json:"parameters"`
		Fixed      map[string]any   `json:"fixed_parameters"`
		Res        []map[string]any `json:"recommended_resolutions"`
	}
	require.NoError(t, json.Unmarshal(first, &models))
	require.Len(t, models, 4)
	require.Equal(t, "pony", models[0].ID)
	require.Equal(t, "Pony_V6_XL", models[0].Key)
	require.Equal(t, "gpu-pony", models[0].Lane)
	require.Equal(t, "txt2img", models[0].Modes[0].ID)
	require.Equal(t, "Text to Image", models[0].Modes[0].Label)
	require.Len(t, models[0].Res, 3)

	names := func(params []map[string]any) []string {
		var out []string
		for _, p := range params {
			out = append(out, p["name"].(string))
		}
		return out
	}
	require.Equal(t, []string{"prompt", "negative_prompt", "width", "height", "seed", "reference_image", "steps",
		"cfg_scale", "sampler", "clip_skip", "denoising_strength", "output_format"}, names(models[0].Parameters))
	anisora := models[2]
	require.Equal(t, "anisora", anisora.ID)
	var steps map[string]any
	for _, p := range anisora.Parameters {
		if p["name"] == "steps" {
			steps = p
		}
		if p["name"] == "output_format" {
			require.Equal(t, "common", p["source"])
			require.Equal(t, false, p["fixed"])
		}
	}
	require.Equal(t, map[string]any{"name": "steps", "source": "fixed", "fixed": true, "type": "int",
		"value": float64(8), "locked": true, "warning": "⚠️ Fixed for optimal quality"}, steps)
	require.Contains(t, anisora.Fixed, "guidance_scale")
	require.Contains(t, string(first), `"value":1.0`, "numbers keep their literal form")
}
