package cpu

import (
	"fmt"
	"image"
	_ "image/jpeg" // decode jpeg references
	_ "image/png"  // decode png references
	"os"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // decode webp references
)

// maxReferencePixels bounds a reference image before it is decoded.
const maxReferencePixels = 64 << 20

// loadReference decodes the image at path (png, jpeg or webp) and scales it
// to cover w×h, cropping the overflow evenly on both sides.
func loadReference(path string, w, h int) (*canvas, error) {
	dst, err := scaledReference(path, w, h)
	if err != nil {
		return nil, err
	}
	c := newCanvas(w, h)
	for i, j := 0, 0; j < len(dst.Pix); i, j = i+3, j+4 {
		c.pix[i] = float32(dst.Pix[j]) / 255
		c.pix[i+1] = float32(dst.Pix[j+1]) / 255
		c.pix[i+2] = float32(dst.Pix[j+2]) / 255
	}
	return c, nil
}

// loadPlane is loadReference for video frames: 8 bits per channel.
func loadPlane(path string, w, h int) (*plane, error) {
	dst, err := scaledReference(path, w, h)
	if err != nil {
		return nil, err
	}
	pl := newPlane(w, h)
	for i, j := 0, 0; j < len(dst.Pix); i, j = i+3, j+4 {
		pl.pix[i], pl.pix[i+1], pl.pix[i+2] = dst.Pix[j], dst.Pix[j+1], dst.Pix[j+2]
	}
	return pl, nil
}

// scaledReference decodes the image at path and scales it to cover w×h.
func scaledReference(path string, w, h int) (*image.RGBA, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxReferencePixels {
		return nil, fmt.Errorf("%s is %d×%d: too large or empty", path, cfg.Width, cfg.Height)
	}
	if _, err := f.Seek(0, 0); err != nil {
		return nil, err
	}
	src, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}

	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, coverRect(src.Bounds(), w, h), draw.Src, nil)
	return dst, nil
}

// coverRect is the centred part of b with the aspect ratio of w×h.
func coverRect(b image.Rectangle, w, h int) image.Rectangle {
	bw, bh := b.Dx(), b.Dy()
	if bw*h > bh*w { // source is wider: crop the sides
		cw := max(1, bh*w/h)
		x0 := b.Min.X + (bw-cw)/2
		return image.Rect(x0, b.Min.Y, x0+cw, b.Max.Y)
	}
	ch := max(1, bw*h/w)
	y0 := b.Min.Y + (bh-ch)/2
	return image.Rect(b.Min.X, y0, b.Max.X, y0+ch)
}
