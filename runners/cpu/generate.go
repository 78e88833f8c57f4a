package cpu

import (
	"context"
	"time"

	"github.com/gooni/gooni/internal/runner"
)

// generate serves one generate message and returns its final message:
// result, error or cancelled.
func (s *server) generate(ctx context.Context, m runner.Message) runner.Message {
	switch m.Kind {
	case runner.KindImage, "":
		return s.generateImage(ctx, m)
	case runner.KindVideo:
		return s.generateVideo(ctx, m)
	default:
		return errorMessage(m.ID, invalid("unknown kind %q", m.Kind))
	}
}

// generateImage paints the picture over the requested number of steps,
// reporting progress after each and taking at least StepDelay per step, and
// stops between steps (or within one, every few rows) when ctx ends.
func (s *server) generateImage(ctx context.Context, m runner.Message) runner.Message {
	start := time.Now()
	r, e := parseRequest(m)
	if e != nil {
		s.log.Info("request rejected", "id", m.ID, "code", e.Code, "reason", e.Message)
		return errorMessage(m.ID, e)
	}
	log := s.log.With("id", r.id, "model", r.model, "mode", r.mode)
	log.Info("generating", "width", r.width, "height", r.height, "steps", r.steps)
	cancelled := func() runner.Message {
		log.Info("cancelled", "elapsed", time.Since(start))
		return runner.Message{Type: runner.TypeCancelled, ID: r.id}
	}

	if !s.ensureLoaded(ctx, r.id, r.model) {
		return cancelled()
	}
	var ref *canvas
	if r.reference != nil {
		var err error
		if ref, err = loadReference(r.reference.Path, r.width, r.height); err != nil {
			return errorMessage(r.id, invalid("reference image: %v", err))
		}
	}

	p := newPainter(r.key, r.width, r.height, r.steps)
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
	if ref != nil {
		p.blend(ref, float32(1-r.strength))
	}

	s.progress(r.id, 0, 1, runner.StageEncoding)
	path, mime, err := writeResult(r.outputDir, r.format, p.image())
	if err != nil {
		log.Error("writing the result failed", "error", err)
		return errorMessage(r.id, &runner.Error{Code: runner.CodeInternal, Message: "write result: " + err.Error(), Retryable: true})
	}
	log.Info("generated", "elapsed", time.Since(start))
	return runner.Message{Type: runner.TypeResult, ID: r.id, Path: path, MIME: mime, Width: r.width, Height: r.height}
}

// ensureLoaded loads model for request id when it is not loaded yet,
// reporting the loading_model stage. It returns false when ctx ended first.
func (s *server) ensureLoaded(ctx context.Context, id, model string) bool {
	if s.isLoaded(model) {
		return true
	}
	s.progress(id, 0, 1, runner.StageLoadingModel)
	return s.load(ctx, model).Type == runner.TypeLoaded
}

// progress reports progress of request id.
func (s *server) progress(id string, step, total int, stage string) {
	s.send(runner.Message{Type: runner.TypeProgress, ID: id, Step: step, Total: total, Stage: stage})
}

// errorMessage is the error message for request id.
func errorMessage(id string, e *runner.Error) runner.Message {
	return runner.Message{Type: runner.TypeError, ID: id, Code: e.Code, Text: e.Message, Retryable: e.Retryable}
}
