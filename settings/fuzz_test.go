package settings

import (
	"errors"
	"slices"
	"testing"
)

// FuzzValidate feeds arbitrary bodies to Validate: it must never panic, must return either a
// request or a *ValidationError, and a request it returns must respect the basic invariants.
func FuzzValidate(f *testing.F) {
	png := pngURI(f, 4, 4)
	for _, b := range []string{
		`{"model":"pony","prompt":"a cat"}`,
		`{"model":"pony","mode":"img2img","prompt":"a cat","reference_image":"` + png + `","denoising_strength":0.5}`,
		`{"model":"flux","prompt":"x","width":1024,"height":1024,"seed":-1,"steps":20,"guidance_scale":3.5,"output_format":"jpeg"}`,
		`{"model":"anisora","mode":"arbitrary_frame","prompt":"x","arbitrary_frames":[{"frame_index":0,"image":"` + png + `","strength":0.85},{"frame_index":160,"image":"` + webpURI() + `"}]}`,
		`{"model":"anisora","mode":"first_last_frame","prompt":"x","first_frame_image":"` + png + `","last_frame_image":"data:image/jpeg;base64,/9j/"}`,
		`{"model":"phr00t","mode":"i2v","prompt":"x","steps":4,"cfg_scale":1.0,"reference_image":"data:image/webp;base64,UklGRg=="}`,
		`{"model":"anisora","prompt":"x","steps":9,"guidance_scale":1e308,"num_frames":-0.0,"fps":16.0000000001}`,
		`{"model":"pony","prompt":"x","seed":9223372036854775807,"steps":1e19}`,
		`{"model":"pony","model":"flux"}`,
		`{"model":null,"mode":null}`,
		`[]`, `{`, `null`, ``, `{"model":"anisora","mode":"arbitrary_frame","prompt":"x","arbitrary_frames":[1,[],{"frame_index":"0"}]}`,
	} {
		f.Add([]byte(b))
	}
	c := setup(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := c.Validate(data, func() int64 { return 7 })
		if err != nil {
			var verr *ValidationError
			if !errors.As(err, &verr) || len(verr.Fields) == 0 || req != nil {
				t.Fatalf("Validate returned %v (%T) with request %v", err, err, req)
			}
			return
		}
		if req.Model == nil || !slices.Contains(req.Model.Modes, req.Mode) {
			t.Fatalf("request without a valid model and mode: %+v", req)
		}
		if req.Seed < 0 || req.Width <= 0 || req.Height <= 0 || req.Prompt == "" {
			t.Fatalf("request with invalid basics: %+v", req)
		}
		for _, img := range req.Images {
			if len(img.Data) == 0 || img.Width <= 0 || img.Height <= 0 {
				t.Fatalf("image without data: %+v", img)
			}
		}
	})
}
