// Package preview makes the small JPEG previews shown in galleries and task
// lists from generated images. A video's preview is made the same way from its
// poster: the image of its first frame that the runner writes beside the video
// (the result message's poster, see runners/PROTOCOL.md).
package preview

import (
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png" // decode png sources
	"os"
	"path/filepath"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // decode webp sources
)

const (
	// MaxSide is the longest side of a preview in pixels. Smaller images keep
	// their size: previews are never upscaled.
	MaxSide = 512
	// Quality is the JPEG quality of previews.
	Quality = 85
	// maxSourcePixels bounds a source image before it is decoded.
	maxSourcePixels = 128 << 20
)

// Make decodes the png, jpeg or webp image at src, scales it so that its long
// side is at most MaxSide (keeping the aspect ratio, never upscaling) and
// writes it to dst as a JPEG of quality Quality. It returns the preview's
// size.
func Make(src, dst string) (width, height int, err error) {
	f, err := os.Open(src)
	if err != nil {
		return 0, 0, fmt.Errorf("preview: %w", err)
	}
	defer func() { _ = f.Close() }()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return 0, 0, fmt.Errorf("preview: decode %s: %w", src, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxSourcePixels {
		return 0, 0, fmt.Errorf("preview: %s is %d×%d: empty or too large", src, cfg.Width, cfg.Height)
	}
	if _, err := f.Seek(0, 0); err != nil {
		return 0, 0, fmt.Errorf("preview: %w", err)
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return 0, 0, fmt.Errorf("preview: decode %s: %w", src, err)
	}
	out := scale(img)
	if err := write(out, dst); err != nil {
		return 0, 0, err
	}
	return out.Bounds().Dx(), out.Bounds().Dy(), nil
}

// FromImage writes the preview of img to dst, like Make does for a file.
func FromImage(img image.Image, dst string) error {
	if img.Bounds().Empty() {
		return fmt.Errorf("preview: empty image")
	}
	return write(scale(img), dst)
}

// Size is the preview size of a w×h image: the long side at most MaxSide,
// the aspect ratio kept, at least one pixel each way.
func Size(w, h int) (int, int) {
	long := max(w, h)
	if long <= MaxSide {
		return w, h
	}
	return max(1, (w*MaxSide+long/2)/long), max(1, (h*MaxSide+long/2)/long)
}

// scale returns img at its preview size. An image that may have transparent
// pixels is composited on white, so that they do not turn black in the JPEG.
func scale(img image.Image) *image.RGBA {
	b := img.Bounds()
	w, h := Size(b.Dx(), b.Dy())
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	op := draw.Src
	if o, ok := img.(interface{ Opaque() bool }); !ok || !o.Opaque() {
		draw.Draw(out, out.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
		op = draw.Over
	}
	if w == b.Dx() && h == b.Dy() {
		draw.Draw(out, out.Bounds(), img, b.Min, op)
	} else {
		draw.CatmullRom.Scale(out, out.Bounds(), img, b, op, nil)
	}
	return out
}

// write encodes img as JPEG to dst through a temporary file in dst's
// directory, so that dst is either the whole preview or absent.
func write(img image.Image, dst string) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".preview-*")
	if err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	if err = jpeg.Encode(tmp, img, &jpeg.Options{Quality: Quality}); err != nil {
		return fmt.Errorf("preview: encode %s: %w", dst, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	if err = os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	return nil
}
