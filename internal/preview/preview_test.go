package preview_test

import (
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/preview"
)

// writeImage writes a w×h gradient as a png or jpeg and returns its path.
func writeImage(t *testing.T, w, h int, format string) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := img.PixOffset(x, y)
			copy(img.Pix[i:i+4], []uint8{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	path := filepath.Join(t.TempDir(), "src."+format)
	f, err := os.Create(path)
	require.NoError(t, err)
	if format == "png" {
		require.NoError(t, png.Encode(f, img))
	} else {
		require.NoError(t, jpeg.Encode(f, img, nil))
	}
	require.NoError(t, f.Close())
	return path
}

// jpegSize decodes the JPEG at path and returns its size.
func jpegSize(t *testing.T, path string) (int, int) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	cfg, err := jpeg.DecodeConfig(f)
	require.NoError(t, err, "a preview is a JPEG")
	return cfg.Width, cfg.Height
}

func TestMakeScalesLongSideTo512AndNeverUpscales(t *testing.T) {
	t.Parallel()
	cases := []struct {
		format       string
		w, h         int
		wantW, wantH int
	}{
		{"png", 1024, 768, 512, 384},
		{"png", 300, 200, 300, 200},
		{"jpeg", 520, 1040, 256, 512},
		{"png", 512, 512, 512, 512},
		{"png", 2000, 3, 512, 1},
	}
	for _, c := range cases {
		src := writeImage(t, c.w, c.h, c.format)
		dst := filepath.Join(t.TempDir(), "preview.jpg")
		w, h, err := preview.Make(src, dst)
		require.NoError(t, err)
		require.Equal(t, [2]int{c.wantW, c.wantH}, [2]int{w, h}, "%d×%d", c.w, c.h)
		gw, gh := jpegSize(t, dst)
		require.Equal(t, [2]int{c.wantW, c.wantH}, [2]int{gw, gh})
	}
}

func TestMakeReadsWebP(t *testing.T) {
	t.Parallel()
	dst := filepath.Join(t.TempDir(), "preview.jpg")
	w, h, err := preview.Make(filepath.Join("testdata", "gopher.webp"), dst)
	require.NoError(t, err)
	require.Equal(t, [2]int{75, 100}, [2]int{w, h})
	gw, gh := jpegSize(t, dst)
	require.Equal(t, [2]int{75, 100}, [2]int{gw, gh})
}

func TestMakeKeepsColours(t *testing.T) {
	t.Parallel()
	src := writeImage(t, 700, 300, "png")
	dst := filepath.Join(t.TempDir(), "preview.jpg")
	_, _, err := preview.Make(src, dst)
	require.NoError(t, err)
	f, err := os.Open(dst)
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	img, err := jpeg.Decode(f)
	require.NoError(t, err)
	// The gradient runs red left to right: the right edge is red, the left is not.
	r0, _, _, _ := img.At(2, 100).RGBA()
	r1, _, _, _ := img.At(509, 100).RGBA()
	require.Less(t, r0>>8, uint32(30))
	require.Greater(t, r1>>8, uint32(220))
}

func TestMakeFailsOnBadInputAndLeavesNoFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notImage := filepath.Join(dir, "notes.png")
	require.NoError(t, os.WriteFile(notImage, []byte("hello"), 0o600))
	dst := filepath.Join(dir, "preview.jpg")
	for _, src := range []string{notImage, filepath.Join(dir, "missing.png")} {
		_, _, err := preview.Make(src, dst)
		require.Error(t, err)
		require.NoFileExists(t, dst)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary files are left behind")
}

func TestFromImageWritesPreviewAndWhitensTransparency(t *testing.T) {
	t.Parallel()
	img := image.NewNRGBA(image.Rect(0, 0, 640, 360)) // fully transparent
	dst := filepath.Join(t.TempDir(), "frame.jpg")
	require.NoError(t, preview.FromImage(img, dst))
	w, h := jpegSize(t, dst)
	require.Equal(t, [2]int{512, 288}, [2]int{w, h})

	f, err := os.Open(dst)
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	out, err := jpeg.Decode(f)
	require.NoError(t, err)
	r, g, b, _ := out.At(100, 100).RGBA()
	require.Greater(t, min(r, g, b)>>8, uint32(245), "transparent pixels become white")

	require.Error(t, preview.FromImage(image.NewRGBA(image.Rect(0, 0, 0, 0)), dst))
}
