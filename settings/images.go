package settings

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"strings"

	"golang.org/x/image/webp"
)

// Image is one reference image of a request, decoded from its data URI and checked.
type Image struct {
	// Field names where it came from: "reference_image", "first_frame_image",
	// "arbitrary_frames[0].image" (the index is the position in the client's array).
	Field string
	// FrameIndex is the keyframe's frame_index, or -1 for an image that is not a keyframe.
	FrameIndex int
	// Strength is the keyframe's strength, or the value of the parameter named by the field's
	// strength_param, or 1 when the catalogue names none.
	Strength float64
	// MIME is the image type ("image/png", "image/jpeg", "image/webp").
	MIME string
	// Ext is the file extension for the type: png, jpg or webp.
	Ext string
	// Data is the decoded file.
	Data []byte
	// Width and Height are the image's dimensions in pixels.
	Width, Height int
}

// imageFormat is an image type the catalogue may accept.
type imageFormat struct {
	mime, ext    string
	magic        func([]byte) bool
	decodeConfig func(io.Reader) (image.Config, error)
}

// imageFormats are the supported types. Each is sniffed and decoded by its own decoder rather
// than through image.DecodeConfig's global registry, so formats registered by other packages
// (gif, bmp, ...) can never slip in.
var imageFormats = []imageFormat{
	{mime: "image/png", ext: "png", decodeConfig: png.DecodeConfig,
		magic: func(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) }},
	{mime: "image/jpeg", ext: "jpg", decodeConfig: jpeg.DecodeConfig,
		magic: func(b []byte) bool { return bytes.HasPrefix(b, []byte("\xff\xd8\xff")) }},
	{mime: "image/webp", ext: "webp", decodeConfig: webp.DecodeConfig,
		magic: func(b []byte) bool { return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP" }},
}

// formatByMIME returns the supported format with that MIME type, or nil.
func formatByMIME(mime string) *imageFormat {
	for i := range imageFormats {
		if imageFormats[i].mime == mime {
			return &imageFormats[i]
		}
	}
	return nil
}

// supportedMIMEs lists the supported MIME types.
func supportedMIMEs() []string {
	out := make([]string, len(imageFormats))
	for i, f := range imageFormats {
		out[i] = f.mime
	}
	return out
}

// decodeImage checks a data URI sent for an image_upload parameter p and decodes it. The
// problem, when not empty, follows the field name.
func decodeImage(p *param, v any) (Image, string) {
	uri, ok := v.(string)
	if !ok {
		return Image{}, "must be a data URI (data:image/...;base64,...)"
	}
	header, payload, found := strings.Cut(uri, ",")
	if !found || len(header) < 5 || !strings.EqualFold(header[:5], "data:") {
		return Image{}, "must be a data URI (data:image/...;base64,...)"
	}
	mime, enc, _ := strings.Cut(header[5:], ";")
	mime = strings.ToLower(mime)
	if !strings.EqualFold(enc, "base64") {
		return Image{}, "must be a base64 data URI (data:" + mime + ";base64,...)"
	}
	format := formatByMIME(mime)
	if format == nil || !containsFold(p.accepts, mime) {
		return Image{}, "must be one of " + strings.Join(p.accepts, ", ") + fmt.Sprintf(" (got %q)", mime)
	}
	if int64(base64.StdEncoding.DecodedLen(len(payload))) > p.maxBytes+3 {
		return Image{}, "is larger than " + formatBytes(p.maxBytes)
	}
	data, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		data, err = base64.RawStdEncoding.DecodeString(payload)
	}
	if err != nil {
		return Image{}, "is not valid base64"
	}
	if int64(len(data)) > p.maxBytes {
		return Image{}, "is larger than " + formatBytes(p.maxBytes)
	}
	if !format.magic(data) {
		if actual := sniffFormat(data); actual != nil {
			return Image{}, "is declared " + mime + " but contains " + actual.mime + " data"
		}
		return Image{}, "is not a " + format.ext + " image"
	}
	cfg, err := format.decodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return Image{}, "is not a decodable " + mime + " image"
	}
	return Image{
		Field: p.name, FrameIndex: -1, Strength: 1,
		MIME: mime, Ext: format.ext, Data: data, Width: cfg.Width, Height: cfg.Height,
	}, ""
}

// sniffFormat returns the supported format whose signature data starts with, or nil.
func sniffFormat(data []byte) *imageFormat {
	for i := range imageFormats {
		if imageFormats[i].magic(data) {
			return &imageFormats[i]
		}
	}
	return nil
}

func containsFold(list []string, s string) bool {
	for _, e := range list {
		if strings.EqualFold(e, s) {
			return true
		}
	}
	return false
}

// formatBytes renders a byte limit for people: 12582912 → "12 MiB".
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}
