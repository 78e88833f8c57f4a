package cpu

import (
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
)

// jpegQuality is the quality of jpeg results.
const jpegQuality = 95

// writeResult encodes img into dir as result.png or result.jpg, through a
// temporary file in dir so that a half-written result is never visible. It
// returns the path and media type.
func writeResult(dir, format string, img image.Image) (path, mime string, err error) {
	name, mime := "result.png", "image/png"
	if format == "jpeg" {
		name, mime = "result.jpg", "image/jpeg"
	}
	tmp, err := os.CreateTemp(dir, ".result-*")
	if err != nil {
		return "", "", err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o644); err != nil {
		return "", "", err
	}
	if format == "jpeg" {
		err = jpeg.Encode(tmp, img, &jpeg.Options{Quality: jpegQuality})
	} else {
		err = png.Encode(tmp, img)
	}
	if err != nil {
		return "", "", fmt.Errorf("encode %s: %w", format, err)
	}
	if err = tmp.Close(); err != nil {
		return "", "", err
	}
	path = filepath.Join(dir, name)
	if err = os.Rename(tmp.Name(), path); err != nil {
		return "", "", err
	}
	return path, mime, nil
}
