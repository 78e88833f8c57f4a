package runner

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// GenerateRequest is one generation for a Supervisor's model.
type GenerateRequest struct {
	// ID identifies the request in progress, result and cancel messages;
	// the task id is a good choice. Required.
	ID string
	// Kind is KindImage or KindVideo. Required.
	Kind string
	// Mode is the generation mode, e.g. "txt2img" or "img2img". Required.
	Mode string
	// Params are the generation parameters (prompt, seed, width, …). They
	// must encode as a JSON object.
	Params map[string]any
	// Inputs are files the request reads, e.g. a reference image.
	Inputs []Input
	// OutputDir is an existing absolute directory the runner writes the
	// result into. The caller owns it and removes it after use.
	OutputDir string
	// OutputFormat is the result's file format, e.g. "png"; empty lets the
	// runner choose.
	OutputFormat string
}

// Progress is one progress report of a running request.
type Progress struct {
	// Step is the number of steps done in Stage.
	Step int
	// Total is the number of steps Stage takes (0 when unknown).
	Total int
	// Stage is one of the Stage* constants.
	Stage string
}

// Result is the file a request produced.
type Result struct {
	// Path is the absolute path of the file, inside the request's OutputDir.
	Path string
	// MIME is the file's media type.
	MIME string
	// Width is the result's width in pixels.
	Width int
	// Height is the result's height in pixels.
	Height int
	// Poster is the absolute path of an image of a video's first frame,
	// inside the request's OutputDir; empty when the runner sent none (and
	// for images).
	Poster string
}

// message checks req and turns it into a generate message for model. Errors
// are invalid_input: the caller built a request no runner can serve.
func (req GenerateRequest) message(model string) (Message, error) {
	switch {
	case req.ID == "":
		return Message{}, newError(CodeInvalidInput, false, "request has no id")
	case req.Kind == "":
		return Message{}, newError(CodeInvalidInput, false, "request %s has no kind", req.ID)
	case req.Mode == "":
		return Message{}, newError(CodeInvalidInput, false, "request %s has no mode", req.ID)
	case !filepath.IsAbs(req.OutputDir):
		return Message{}, newError(CodeInvalidInput, false, "request %s: output dir %q is not absolute", req.ID, req.OutputDir)
	}
	params := req.Params
	if params == nil {
		params = map[string]any{}
	}
	raw, err := json.Marshal(params)
	if err != nil {
		return Message{}, newError(CodeInvalidInput, false, "request %s: encode params: %v", req.ID, err)
	}
	return Message{
		Type:         TypeGenerate,
		ID:           req.ID,
		Model:        model,
		Kind:         req.Kind,
		Mode:         req.Mode,
		Params:       raw,
		Inputs:       req.Inputs,
		OutputDir:    filepath.Clean(req.OutputDir),
		OutputFormat: req.OutputFormat,
	}, nil
}

// resultOf checks a result message: the file, and the poster when there is
// one, must exist inside outputDir.
func resultOf(m Message, outputDir string) (*Result, error) {
	if m.Path == "" || m.MIME == "" {
		return nil, fmt.Errorf("result without path or mime")
	}
	path, err := fileInside(m.Path, outputDir)
	if err != nil {
		return nil, fmt.Errorf("result: %w", err)
	}
	res := &Result{Path: path, MIME: m.MIME, Width: m.Width, Height: m.Height}
	if m.Poster != "" {
		if res.Poster, err = fileInside(m.Poster, outputDir); err != nil {
			return nil, fmt.Errorf("result poster: %w", err)
		}
	}
	return res, nil
}

// fileInside returns the cleaned absolute path p after checking that it names
// an existing file strictly inside dir.
func fileInside(p, dir string) (string, error) {
	path := filepath.Clean(p)
	rel, err := filepath.Rel(filepath.Clean(dir), path)
	if !filepath.IsAbs(path) || err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%q is outside the output directory", p)
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%q: %v", p, err)
	}
	return path, nil
}
