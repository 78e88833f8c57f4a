package cpu

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/gooni/gooni/internal/runner"
)

// generateVideo serves a video request. Inference: the scene is painted over
// the requested steps (the clip's content, as a video model denoises the whole
// clip at every step), with progress after each and at least StepDelay per
// step. Encoding: frames are rendered one at a time and streamed to an ffmpeg
// child process, with progress after each frame; the last frame's progress
// comes once the file is complete. The first frame is also written as
// poster.png. Cancellation is checked between steps and between frames, and
// kills ffmpeg.
func (s *server) generateVideo(ctx context.Context, m runner.Message) runner.Message {
	start := time.Now()
	r, e := parseVideoRequest(m)
	if e != nil {
		s.log.Info("request rejected", "id", m.ID, "code", e.Code, "reason", e.Message)
		return errorMessage(m.ID, e)
	}
	log := s.log.With("id", r.id, "model", r.model, "mode", r.mode)
	// Without an encoder nothing can come of the request: say so before any work.
	ffmpeg, e := s.findFFmpeg()
	if e != nil {
		log.Warn("video encoder unavailable", "reason", e.Message)
		return errorMessage(r.id, e)
	}
	log.Info("generating video", "width", r.width, "height", r.height, "steps", r.steps,
		"frames", r.frames, "fps", r.fps, "format", r.format, "keyframes", len(r.keyframes))
	cancelled := func() runner.Message {
		log.Info("cancelled", "elapsed", time.Since(start))
		return runner.Message{Type: runner.TypeCancelled, ID: r.id}
	}

	if !s.ensureLoaded(ctx, r.id, r.model) {
		return cancelled()
	}
	keys, base, err := loadKeyframes(r)
	if err != nil {
		return errorMessage(r.id, invalid("%v", err))
	}

	mx, my := int(sceneMargin*float64(r.width)+0.5), int(sceneMargin*float64(r.height)+0.5)
	p := newPainter(r.key, r.width+2*mx, r.height+2*my, r.steps)
	for i := 1; i <= r.steps; i++ {
		stepStart := time.Now()
		if err := p.step(ctx, i); err != nil {
			return cancelled()
		}
		if !pause(ctx, s.cfg.StepDelay-time.Since(stepStart)) {
			return cancelled()
		}
		s.progress(r.id, i, r.steps, runner.StageInference)
	}
	var baseStrength float64
	if r.base != nil {
		baseStrength = r.base.strength
	}
	c := newClip(r, planeOf(p.c), mx, my, p.palette, keys, base, baseStrength)

	encodeStart := time.Now()
	msg := s.encodeVideo(ctx, r, c, ffmpeg, log)
	switch msg.Type {
	case runner.TypeResult:
		log.Info("generated video", "elapsed", time.Since(start), "encoding", time.Since(encodeStart))
	case runner.TypeCancelled:
		return cancelled()
	}
	return msg
}

// encodeVideo renders c's frames into ffmpeg and returns the request's final
// message. On error or cancellation it leaves nothing in the output directory.
func (s *server) encodeVideo(ctx context.Context, r *videoRequest, c *clip, ffmpeg string, log *slog.Logger) runner.Message {
	vf := videoFormats[r.format]
	tmp, err := os.CreateTemp(r.outputDir, ".result-*."+r.format)
	if err != nil {
		return errorMessage(r.id, &runner.Error{Code: runner.CodeInternal, Message: "create result: " + err.Error(), Retryable: true})
	}
	_ = tmp.Close()
	var poster string
	done := false
	defer func() {
		if !done {
			_ = os.Remove(tmp.Name())
			if poster != "" {
				_ = os.Remove(poster)
			}
		}
	}()

	enc, e := startEncoder(ctx, ffmpeg, r.format, r.width, r.height, r.fps, tmp.Name(), log)
	if e != nil {
		log.Warn("video encoder unavailable", "reason", e.Message)
		return errorMessage(r.id, e)
	}
	defer enc.abort()
	frame := make([]byte, r.width*r.height*3)
	for f := 0; f < r.frames; f++ {
		if ctx.Err() != nil {
			return runner.Message{Type: runner.TypeCancelled, ID: r.id}
		}
		c.render(f, frame)
		if f == 0 {
			if poster, err = writePoster(r.outputDir, r.width, r.height, frame); err != nil {
				log.Error("writing the poster failed", "error", err)
				return errorMessage(r.id, &runner.Error{Code: runner.CodeInternal, Message: "write poster: " + err.Error(), Retryable: true})
			}
		}
		if err := enc.write(frame); err != nil {
			break // finish reports why ffmpeg stopped reading
		}
		if f < r.frames-1 {
			s.progress(r.id, f+1, r.frames, runner.StageEncoding)
		}
	}
	e = enc.finish()
	if ctx.Err() != nil {
		return runner.Message{Type: runner.TypeCancelled, ID: r.id}
	}
	if e != nil {
		log.Error("encoding failed", "code", e.Code, "error", e.Message)
		return errorMessage(r.id, e)
	}
	path := filepath.Join(r.outputDir, "result."+r.format)
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return errorMessage(r.id, &runner.Error{Code: runner.CodeInternal, Message: "write result: " + err.Error(), Retryable: true})
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return errorMessage(r.id, &runner.Error{Code: runner.CodeInternal, Message: "write result: " + err.Error(), Retryable: true})
	}
	done = true
	s.progress(r.id, r.frames, r.frames, runner.StageEncoding)
	return runner.Message{Type: runner.TypeResult, ID: r.id, Path: path, MIME: vf.mime, Width: r.width, Height: r.height, Poster: poster}
}

// loadKeyframes decodes r's keyframe images (and base image) at the video's
// size.
func loadKeyframes(r *videoRequest) ([]clipKey, *plane, error) {
	keys := make([]clipKey, 0, len(r.keyframes))
	for _, k := range r.keyframes {
		img, err := loadPlane(k.input.Path, r.width, r.height)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", k.input.Field, err)
		}
		keys = append(keys, clipKey{frame: k.frame, strength: float32(k.strength), img: img})
	}
	var base *plane
	if r.base != nil {
		var err error
		if base, err = loadPlane(r.base.input.Path, r.width, r.height); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", r.base.input.Field, err)
		}
	}
	return keys, base, nil
}

// writePoster writes an rgb24 frame as dir/poster.png, through a temporary
// file, and returns its path.
func writePoster(dir string, w, h int, frame []byte) (path string, err error) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i, j := 0, 0; i < len(frame); i, j = i+3, j+4 {
		img.Pix[j], img.Pix[j+1], img.Pix[j+2], img.Pix[j+3] = frame[i], frame[i+1], frame[i+2], 0xff
	}
	tmp, err := os.CreateTemp(dir, ".poster-*")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o644); err != nil {
		return "", err
	}
	if err = (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(tmp, img); err != nil {
		return "", fmt.Errorf("encode poster: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return "", err
	}
	path = filepath.Join(dir, "poster.png")
	if err = os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	return path, nil
}
