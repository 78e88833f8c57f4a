package settings

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidateDecodesReferenceImages(t *testing.T) {
	t.Parallel()
	c := setup(t)
	pngData := pngBytes(t, 24, 16)
	jpegData := jpegBytes(t, 10, 20)
	webpData, err := base64.StdEncoding.DecodeString(webpLossless1x1)
	require.NoError(t, err)
	tests := []struct {
		name, uri, mime, ext string
		data                 []byte
		w, h                 int
	}{
		{"png", dataURI("image/png", pngData), "image/png", "png", pngData, 24, 16},
		{"jpeg", dataURI("image/jpeg", jpegData), "image/jpeg", "jpg", jpegData, 10, 20},
		{"webp", webpURI(), "image/webp", "webp", webpData, 1, 1},
		{"upper-case scheme and type", "DATA:IMAGE/PNG;BASE64," + base64.StdEncoding.EncodeToString(pngData), "image/png", "png", pngData, 24, 16},
		{"base64 without padding", "data:image/png;base64," + base64.RawStdEncoding.EncodeToString(pngData), "image/png", "png", pngData, 24, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := c.Validate(body(t, ponyBase, map[string]any{"mode": "img2img", "reference_image": tt.uri}), nil)
			require.NoError(t, err)
			require.Len(t, req.Images, 1)
			img := req.Images[0]
			require.Equal(t, Image{Field: "reference_image", FrameIndex: -1, Strength: 1, MIME: tt.mime, Ext: tt.ext,
				Data: tt.data, Width: tt.w, Height: tt.h}, img)
		})
	}
}

func TestValidateRejectsBadReferenceImages(t *testing.T) {
	t.Parallel()
	pngData := pngBytes(t, 8, 8)
	jpegData := jpegBytes(t, 8, 8)
	gif := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	oversized := append(bytes.Clone(pngData), make([]byte, 12<<20)...)
	tests := []struct{ name, uri, msg string }{
		{"not a string", "", "reference_image must be a data URI"},
		{"plain URL", "https://example.com/a.png", "reference_image must be a data URI"},
		{"no comma", "data:image/png;base64", "reference_image must be a data URI"},
		{"not base64 encoded", "data:image/png," + string(pngData[:4]), "reference_image must be a base64 data URI"},
		{"unsupported type", dataURI("image/gif", gif), `reference_image must be one of image/png, image/jpeg, image/webp (got "image/gif")`},
		{"invalid base64", "data:image/png;base64,!!!", "reference_image is not valid base64"},
		{"declared png, jpeg inside", dataURI("image/png", jpegData), "reference_image is declared image/png but contains image/jpeg data"},
		{"declared webp, png inside", dataURI("image/webp", pngData), "reference_image is declared image/webp but contains image/png data"},
		{"not an image", dataURI("image/jpeg", []byte("hello world")), "reference_image is not a jpg image"},
		{"truncated png", dataURI("image/png", pngData[:12]), "reference_image is not a decodable image/png image"},
		{"corrupt webp", dataURI("image/webp", []byte("RIFF\x10\x00\x00\x00WEBPVP8 garbage!")), "reference_image is not a decodable image/webp image"},
		{"over 12 MiB", dataURI("image/png", oversized), "reference_image is larger than 12 MiB"},
	}
	c := setup(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var ref any = tt.uri
			if tt.uri == "" {
				ref = 12
			}
			_, err := c.Validate(body(t, ponyBase, map[string]any{"mode": "img2img", "reference_image": ref}), nil)
			var verr *ValidationError
			require.ErrorAs(t, err, &verr)
			require.Len(t, verr.Fields, 1)
			require.Equal(t, "reference_image", verr.Fields[0].Field)
			require.Contains(t, verr.Fields[0].Message, tt.msg)
		})
	}
}

// TestValidateHonoursImageLimitsFromTheFile proves max_bytes and accepts come from the file:
// a variant with a tiny limit and PNG only.
func TestValidateHonoursImageLimitsFromTheFile(t *testing.T) {
	t.Parallel()
	small := pngBytes(t, 2, 2)
	f := seedFile(t)
	ref := obj(t, f, "image_models", "Pony_V6_XL", "parameters", "reference_image")
	ref["max_bytes"] = len(small)
	ref["accepts"] = []any{"image/png"}
	c, err := Parse(encode(t, f))
	require.NoError(t, err)
	img2img := func(uri string) error {
		_, err := c.Validate(body(t, ponyBase, map[string]any{"mode": "img2img", "reference_image": uri}), nil)
		return err
	}
	require.NoError(t, img2img(dataURI("image/png", small)), "exactly max_bytes is accepted")
	padded := append(bytes.Clone(small), 0)
	require.EqualError(t, img2img(dataURI("image/png", padded)),
		"invalid request: reference_image is larger than "+formatBytes(int64(len(small))))
	require.EqualError(t, img2img(dataURI("image/jpeg", jpegBytes(t, 2, 2))),
		`invalid request: reference_image must be one of image/png (got "image/jpeg")`)
}

func TestFormatBytes(t *testing.T) {
	t.Parallel()
	require.Equal(t, "12 MiB", formatBytes(12582912))
	require.Equal(t, "4 KiB", formatBytes(4096))
	require.Equal(t, "1000 bytes", formatBytes(1000))
	require.True(t, strings.HasSuffix(formatBytes(12582913), "bytes"))
}
