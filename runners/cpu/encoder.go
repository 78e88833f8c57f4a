package cpu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/gooni/gooni/internal/runner"
)

// encoderWaitDelay bounds waiting for ffmpeg's stderr to close once it has
// exited or been killed.
const encoderWaitDelay = 5 * time.Second

// videoFormats are the encodings of each output format: codec, muxer and
// media type. Both are 4:2:0 so that browsers play them.
var videoFormats = map[string]struct {
	codec, muxer, mime string
	args               []string
}{
	"mp4": {"libx264", "mp4", "video/mp4", []string{
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
		"-movflags", "+faststart",
	}},
	"webm": {"libvpx-vp9", "webm", "video/webm", []string{
		"-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "32", "-deadline", "realtime", "-cpu-used", "8",
		"-row-mt", "1", "-pix_fmt", "yuv420p",
	}},
}

// findFFmpeg resolves the configured ffmpeg, or explains how to get one.
func (s *server) findFFmpeg() (string, *runner.Error) {
	name := s.cfg.FFmpeg
	if name == "" {
		name = DefaultFFmpeg
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return "", &runner.Error{Code: runner.CodeEncoderUnavailable, Message: fmt.Sprintf(
			"video encoding needs ffmpeg, which is not available (%v): install it (apt-get install ffmpeg) or set %s to the path of an ffmpeg binary",
			err, EnvFFmpeg)}
	}
	return path, nil
}

// encoder is an ffmpeg child process that encodes rgb24 frames written to its
// stdin into a file. It is killed when the context it was started with ends.
type encoder struct {
	bin, codec string
	cmd        *exec.Cmd
	stdin      io.WriteCloser
	log        *ffmpegLog
}

// startEncoder starts ffmpeg encoding w×h frames at fps into out, in format
// ("mp4" or "webm"). ffmpeg's stderr goes to logger, bounded.
func startEncoder(ctx context.Context, bin, format string, w, h, fps int, out string, logger *slog.Logger) (*encoder, *runner.Error) {
	vf := videoFormats[format]
	args := []string{
		"-hide_banner", "-nostdin", "-nostats", "-loglevel", "error",
		"-f", "rawvideo", "-pix_fmt", "rgb24", "-s", fmt.Sprintf("%dx%d", w, h), "-framerate", strconv.Itoa(fps),
		"-i", "pipe:0", "-an",
	}
	args = append(args, vf.args...)
	args = append(args, "-f", vf.muxer, "-y", out)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.WaitDelay = encoderWaitDelay
	// stdout stays /dev/null: the runner's own stdout is the protocol.
	e := &encoder{bin: bin, codec: vf.codec, cmd: cmd, log: newFFmpegLog(logger)}
	cmd.Stderr = e.log
	stdin, err := cmd.StdinPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		return nil, &runner.Error{Code: runner.CodeEncoderUnavailable, Message: fmt.Sprintf(
			"start ffmpeg %s: %v: install ffmpeg (apt-get install ffmpeg) or set %s to a working ffmpeg binary", bin, err, EnvFFmpeg)}
	}
	e.stdin = stdin
	return e, nil
}

// write sends one frame. An error means ffmpeg stopped reading: finish says
// why.
func (e *encoder) write(frame []byte) error {
	_, err := e.stdin.Write(frame)
	return err
}

// finish closes ffmpeg's stdin and waits for it to write the file. It
// classifies a failure: a missing encoder is encoder_unavailable, anything
// else internal_error.
func (e *encoder) finish() *runner.Error {
	_ = e.stdin.Close()
	err := e.cmd.Wait()
	e.log.flush()
	if err == nil {
		return nil
	}
	tail := e.log.tail()
	if strings.Contains(tail, "Unknown encoder") || strings.Contains(tail, "Encoder not found") {
		return &runner.Error{Code: runner.CodeEncoderUnavailable, Message: fmt.Sprintf(
			"ffmpeg %s has no %s encoder: install a complete ffmpeg (apt-get install ffmpeg) or set %s to one", e.bin, e.codec, EnvFFmpeg)}
	}
	var exit *exec.ExitError
	status := err.Error()
	if errors.As(err, &exit) {
		status = exit.String()
	}
	msg := "ffmpeg failed (" + status + ")"
	if tail != "" {
		msg += ": " + tail
	}
	return &runner.Error{Code: runner.CodeInternal, Message: msg, Retryable: true}
}

// abort kills ffmpeg (if it still runs) and waits for it, so that no process
// outlives the request.
func (e *encoder) abort() {
	_ = e.stdin.Close()
	if e.cmd.ProcessState == nil {
		_ = e.cmd.Process.Kill()
		_ = e.cmd.Wait()
	}
	e.log.flush()
}
