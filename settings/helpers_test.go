package settings

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// webpLossless1x1 is a valid 1×1 lossless WebP file (base64).
const webpLossless1x1 = "UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA=="

var loadOnce = sync.OnceValues(LoadDefault)

// setup returns the real catalogue, loaded once for the package.
func setup(t testing.TB) *Catalogue {
	t.Helper()
	c, err := loadOnce()
	require.NoError(t, err)
	return c
}

// testImage draws a small image with a gradient so encoders produce real data.
func testImage(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{R: uint8(x * 7), G: uint8(y * 13), B: 128, A: 255})
		}
	}
	return img
}

// pngBytes encodes a w×h PNG.
func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, testImage(w, h)))
	return buf.Bytes()
}

// jpegBytes encodes a w×h JPEG.
func jpegBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, testImage(w, h), nil))
	return buf.Bytes()
}

// dataURI wraps data in a base64 data URI of the given MIME type.
func dataURI(mime string, data []byte) string {
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(data)
}

// pngURI is a data URI of a w×h PNG.
func pngURI(t testing.TB, w, h int) string { return dataURI("image/png", pngBytes(t, w, h)) }

// webpURI is a data URI of the 1×1 WebP.
func webpURI() string { return "data:image/webp;base64," + webpLossless1x1 }

// del marks a field to remove from a base body.
type del struct{}

// body builds a request body: base fields overridden by fields (a del value removes one).
func body(t testing.TB, base, fields map[string]any) []byte {
	t.Helper()
	out := make(map[string]any, len(base)+len(fields))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range fields {
		if _, isDel := v.(del); isDel {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	b, err := json.Marshal(out)
	require.NoError(t, err)
	return b
}

// seedFile returns the real catalogue file decoded as generic JSON, for building broken
// variants.
func seedFile(t testing.TB) map[string]any {
	t.Helper()
	data, err := os.ReadFile("inference_settings.json")
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var f map[string]any
	require.NoError(t, dec.Decode(&f))
	return f
}

// obj walks f along keys, each of which must name an object.
func obj(t testing.TB, f map[string]any, keys ...string) map[string]any {
	t.Helper()
	cur := f
	for _, k := range keys {
		next, ok := cur[k].(map[string]any)
		require.True(t, ok, "no object at %v", keys)
		cur = next
	}
	return cur
}

// encode marshals a variant back to JSON.
func encode(t testing.TB, f map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(f)
	require.NoError(t, err)
	return b
}
