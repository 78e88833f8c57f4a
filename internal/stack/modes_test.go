package stack_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// solidPNG returns a data URI of a w×h PNG filled with c.
func solidPNG(t *testing.T, c color.RGBA) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}

// TestEveryCatalogueModelAndModeRunsEndToEnd submits one generation per model and mode of the
// catalogue through the API and checks each result: a PNG for images, an H.264 mp4 or VP9 webm
// of the requested frames for videos, and a JPEG preview for all.
func TestEveryCatalogueModelAndModeRunsEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Fatal("ffprobe (ffmpeg) is missing: run `make deps`")
	}
	e := setup(t, envOptions{})
	red, blue := solidPNG(t, color.RGBA{230, 20, 20, 255}), solidPNG(t, color.RGBA{20, 20, 230, 255})
	still := func(model, mode string, extra map[string]any) map[string]any {
		r := map[string]any{"model": model, "mode": mode, "prompt": model + " " + mode, "width": 512, "height": 512}
		for k, v := range extra {
			r[k] = v
		}
		return r
	}
	video := func(model, mode, format string, extra map[string]any) map[string]any {
		r := still(model, mode, extra)
		r["num_frames"], r["fps"], r["output_format"] = 49, 16, format
		return r
	}
	cases := []struct {
		name string
		req  map[string]any
		mime string
	}{
		{"pony txt2img", still("pony", "txt2img", map[string]any{"steps": 20}), "image/png"},
		{"pony img2img", still("pony", "img2img", map[string]any{"steps": 20, "reference_image": red}), "image/png"},
		{"flux txt2img", still("flux", "txt2img", map[string]any{"steps": 15, "output_format": "jpeg"}), "image/jpeg"},
		{"flux img2img", still("flux", "img2img", map[string]any{"steps": 15, "reference_image": blue}), "image/png"},
		{"anisora t2v", video("anisora", "t2v", "mp4", nil), "video/mp4"},
		{"anisora i2v", video("anisora", "i2v", "webm", map[string]any{"reference_image": red}), "video/webm"},
		{"anisora first_last_frame", video("anisora", "first_last_frame", "mp4", map[string]any{"first_frame_image": red, "last_frame_image": blue}), "video/mp4"},
		{"anisora arbitrary_frame", video("anisora", "arbitrary_frame", "mp4", map[string]any{"arbitrary_frames": []any{
			map[string]any{"frame_index": 0, "image": red}, map[string]any{"frame_index": 48, "image": blue, "strength": 0.9}}}), "video/mp4"},
		{"phr00t t2v", video("phr00t", "t2v", "webm", nil), "video/webm"},
		{"phr00t i2v", video("phr00t", "i2v", "mp4", map[string]any{"reference_image": blue}), "video/mp4"},
		{"phr00t first_last_frame", video("phr00t", "first_last_frame", "mp4", map[string]any{"first_frame_image": blue, "last_frame_image": red}), "video/mp4"},
	}
	ids := make([]string, len(cases))
	for i, tc := range cases {
		ids[i] = e.submit(tc.req)
	}
	dir := t.TempDir()
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seen := e.waitTerminal(ids[i], 120*time.Second)
			final := seen[len(seen)-1]
			require.Equal(t, "done", final.Status, "%+v", final)
			code, body, hdr := e.do("GET", "/results/"+ids[i], nil, nil)
			require.Equal(t, http.StatusOK, code)
			require.Equal(t, tc.mime, hdr.Get("Content-Type"))
			if strings.HasPrefix(tc.mime, "video/") {
				path := filepath.Join(dir, ids[i]+"."+strings.TrimPrefix(tc.mime, "video/"))
				require.NoError(t, os.WriteFile(path, body, 0o600))
				probe := ffprobe(t, path)
				require.Equal(t, map[string]string{"video/mp4": "h264", "video/webm": "vp9"}[tc.mime], probe["codec_name"])
				require.Equal(t, "yuv420p", probe["pix_fmt"])
				require.Equal(t, "512", probe["width"])
				require.Equal(t, "49", probe["nb_read_frames"])
				require.Equal(t, "16/1", probe["r_frame_rate"])
			} else {
				cfg, format, err := image.DecodeConfig(bytes.NewReader(body))
				require.NoError(t, err)
				require.Equal(t, map[string]string{"image/png": "png", "image/jpeg": "jpeg"}[tc.mime], format)
				require.Equal(t, 512, cfg.Width)
			}
			code, prev, hdr := e.do("GET", "/preview/"+ids[i], nil, nil)
			require.Equal(t, http.StatusOK, code)
			require.Equal(t, "image/jpeg", hdr.Get("Content-Type"))
			p, err := jpeg.Decode(bytes.NewReader(prev))
			require.NoError(t, err)
			require.LessOrEqual(t, max(p.Bounds().Dx(), p.Bounds().Dy()), 512)
			task, err := e.store.GetTask(context.Background(), ids[i])
			require.NoError(t, err)
			require.Equal(t, tc.req["mode"], task.Mode)
		})
	}
}

// ffprobe reads the first video stream's properties (counting frames).
func ffprobe(t *testing.T, path string) map[string]string {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,pix_fmt,width,height,nb_read_frames,r_frame_rate",
		"-of", "default=noprint_wrappers=1", path).Output()
	require.NoError(t, err)
	props := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		props[k] = v
	}
	return props
}
