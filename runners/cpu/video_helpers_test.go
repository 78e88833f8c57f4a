package cpu_test

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/runner"
)

// requireFFmpeg fails the test when ffmpeg or ffprobe is missing: the video
// tests run the real encoder.
func requireFFmpeg(t testing.TB) {
	t.Helper()
	for _, bin := range []string{"ffmpeg", "ffprobe"} {
		_, err := exec.LookPath(bin)
		require.NoError(t, err, "the video tests need %s: run `make deps` (apt-get install ffmpeg)", bin)
	}
}

// video builds a video generate message for model and mode writing into a
// fresh directory.
func video(t testing.TB, id, model, mode, format string, params map[string]any, inputs ...runner.Input) runner.Message {
	t.Helper()
	raw, err := json.Marshal(params)
	require.NoError(t, err)
	return runner.Message{
		Type: runner.TypeGenerate, ID: id, Model: model, Kind: runner.KindVideo, Mode: mode,
		Params: raw, Inputs: inputs, OutputDir: t.TempDir(), OutputFormat: format,
	}
}

// probed is what ffprobe says about a video's first stream.
type probed struct {
	Codec  string `json:"codec_name"`
	PixFmt string `json:"pix_fmt"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Rate   string `json:"r_frame_rate"`
	Frames string `json:"nb_read_frames"`
}

// probe runs ffprobe on path, counting the frames by decoding them.
func probe(t *testing.T, path string) probed {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
		"-show_entries", "stream=codec_name,pix_fmt,width,height,r_frame_rate,nb_read_frames",
		"-of", "json", path).Output()
	require.NoError(t, err, "ffprobe %s", path)
	var got struct{ Streams []probed }
	require.NoError(t, json.Unmarshal(out, &got))
	require.Len(t, got.Streams, 1, "%s", out)
	return got.Streams[0]
}

// decodeFrames decodes every frame of the video at path into rgb24 frames.
func decodeFrames(t *testing.T, path string, w, h int) [][]byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command("ffmpeg", "-v", "error", "-nostdin", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "decode %s: %s", path, stderr.String())
	size := w * h * 3
	require.Zero(t, len(out)%size, "decoded bytes are whole %d×%d frames", w, h)
	var frames [][]byte
	for i := 0; i < len(out); i += size {
		frames = append(frames, out[i:i+size])
	}
	return frames
}

// meanRGB is the average colour of an rgb24 frame.
func meanRGB(frame []byte) [3]float64 {
	var sum [3]float64
	for i := 0; i < len(frame); i += 3 {
		sum[0] += float64(frame[i])
		sum[1] += float64(frame[i+1])
		sum[2] += float64(frame[i+2])
	}
	n := float64(len(frame) / 3)
	return [3]float64{sum[0] / n, sum[1] / n, sum[2] / n}
}

// colourDistance is the Euclidean distance between two mean colours.
func colourDistance(a, b [3]float64) float64 {
	return math.Sqrt((a[0]-b[0])*(a[0]-b[0]) + (a[1]-b[1])*(a[1]-b[1]) + (a[2]-b[2])*(a[2]-b[2]))
}

// rgb is a colour as a mean-colour value.
func rgb(r, g, b uint8) [3]float64 { return [3]float64{float64(r), float64(g), float64(b)} }

// frameDifference is the mean absolute difference of two rgb24 frames, per
// channel value.
func frameDifference(a, b []byte) float64 {
	var sum float64
	for i := range a {
		sum += math.Abs(float64(a[i]) - float64(b[i]))
	}
	return sum / float64(len(a))
}

// ffmpegProcessesFor lists the running ffmpeg processes whose command line
// mentions dir (the request's output directory).
func ffmpegProcessesFor(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var found []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue // exited meanwhile
		}
		args := strings.Split(string(cmdline), "\x00")
		if strings.Contains(filepath.Base(args[0]), "ffmpeg") && strings.Contains(string(cmdline), dir) {
			found = append(found, e.Name()+": "+strings.Join(args, " "))
		}
	}
	return found
}
