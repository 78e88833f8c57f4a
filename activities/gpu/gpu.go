// Package gpu holds the activity a GPU worker runs: one generation on a warm runner process,
// with real progress heartbeated to Temporal and reported to the task record, and the result and
// its preview stored as artifacts.
package gpu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/gooni/gooni/internal/artifact"
	"github.com/gooni/gooni/internal/failure"
	"github.com/gooni/gooni/internal/preview"
	"github.com/gooni/gooni/internal/runner"
	"github.com/gooni/gooni/workflows"
)

// Lane modes reported in a task's status.
const (
	LaneDedicated = "dedicated"
	LaneShared    = "shared"
)

// Reporter receives a task's progress as the worker sees it. Reports are best effort: a failed
// report is logged and the generation goes on (the heartbeat still carries the progress).
type Reporter interface {
	// Started says an attempt of the task began on lane.
	Started(ctx context.Context, taskID, lane, laneMode string, attempt int) error
	// Progress records progress (0..100), stage and a detail such as "step 5/25".
	Progress(ctx context.Context, taskID string, progress float64, stage, detail string) error
	// AttemptFailed records why an attempt failed, so the status shows it while Temporal retries.
	AttemptFailed(ctx context.Context, taskID string, attempt int, code, message string) error
}

// modelRunner runs a generation on some runner of a model.
type modelRunner interface {
	Generate(ctx context.Context, model string, req runner.GenerateRequest, onProgress func(runner.Progress)) (*runner.Result, string, error)
}

// Config configures the GPU activity.
type Config struct {
	// WorkDir is where per-request scratch directories are made. Default os.TempDir().
	WorkDir string
	// SharedLane is the task queue of the shared degraded lane; tasks run there report lane
	// mode "shared".
	SharedLane string
	// ReportInterval is the least time between two progress reports of one task (stage changes
	// are always reported). Default 200ms.
	ReportInterval time.Duration
	// Logger receives the activity's logs. Default slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.WorkDir == "" {
		c.WorkDir = os.TempDir()
	}
	if c.ReportInterval <= 0 {
		c.ReportInterval = 200 * time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Activities runs generations. Register it on each lane's task queue with Register.
type Activities struct {
	artifacts artifact.Store
	dedicated *Runners
	shared    *Switcher
	reporter  Reporter
	cfg       Config
	busy      atomic.Int64 // nanoseconds spent running generations, for account usage
}

// BusyTime returns the time this worker's activities spent running generations.
func (a *Activities) BusyTime() time.Duration { return time.Duration(a.busy.Load()) }

// New returns the GPU activities: dedicated runs tasks of the models' own lanes, shared (nil
// when the worker does not serve the shared lane) those of the shared lane.
func New(artifacts artifact.Store, dedicated *Runners, shared *Switcher, reporter Reporter, cfg Config) *Activities {
	return &Activities{artifacts: artifacts, dedicated: dedicated, shared: shared, reporter: reporter, cfg: cfg.withDefaults()}
}

// RunGeneration runs one generation on a warm runner of the model and stores its result and
// preview. Runner errors become application errors typed with their stable code; those that
// retrying cannot fix are non-retryable.
func (a *Activities) RunGeneration(ctx context.Context, in workflows.RunGenerationInput) (workflows.RunGenerationOutput, error) {
	started := time.Now()
	defer func() { a.busy.Add(int64(time.Since(started))) }()
	info := activity.GetInfo(ctx)
	log := a.cfg.Logger.With("task_id", in.TaskID, "model", in.Model, "lane", in.Lane,
		"workflow_id", info.WorkflowExecution.ID, "attempt", info.Attempt)
	laneMode := LaneDedicated
	var runners modelRunner = a.dedicated
	if a.cfg.SharedLane != "" && in.Lane == a.cfg.SharedLane {
		laneMode = LaneShared
		if a.shared == nil {
			return workflows.RunGenerationOutput{}, temporal.NewApplicationError("this worker does not serve the shared lane", failure.Internal)
		}
		runners = a.shared
	}
	reporter := a.reporter
	if in.Warmup {
		reporter = noReporter{} // a warm-up has no task record
	}
	progress := newTracker(ctx, reporter, in.TaskID, a.cfg.ReportInterval, log)
	if err := reporter.Started(ctx, in.TaskID, in.Lane, laneMode, int(info.Attempt)); err != nil {
		log.Warn("report start", "err", err)
	}
	progress.set(0, runner.StageLoadingModel, "", true)
	stopBeat := progress.keepAlive(heartbeatEvery(info.HeartbeatTimeout))
	defer stopBeat()

	workDir, err := os.MkdirTemp(a.cfg.WorkDir, "gooni-"+safeName(in.TaskID)+"-")
	if err != nil {
		return workflows.RunGenerationOutput{}, temporal.NewApplicationError("scratch directory unavailable", failure.Internal, err)
	}
	defer os.RemoveAll(workDir)

	req, err := a.request(ctx, in, workDir)
	if err != nil {
		return workflows.RunGenerationOutput{}, err
	}
	res, runnerName, err := runners.Generate(ctx, in.Model, req, func(p runner.Progress) {
		pct, detail := scale(in.Type, p)
		progress.setStep(pct, p.Stage, detail, p.Step, p.Total, false)
	})
	if err != nil {
		if in.Warmup {
			return workflows.RunGenerationOutput{}, a.runnerError(ctx, log, err)
		}
		return workflows.RunGenerationOutput{}, a.attemptFailed(ctx, in.TaskID, int(info.Attempt), a.runnerError(ctx, log, err), log)
	}
	if in.Warmup {
		log.Info("warm-up done", "elapsed", time.Since(started).Round(time.Millisecond))
		return workflows.RunGenerationOutput{LaneMode: laneMode, RunnerName: runnerName,
			ElapsedMsec: time.Since(started).Milliseconds(), Attempt: info.Attempt, StartedAt: started}, nil
	}

	progress.set(97, "uploading", "", true)
	previewPath := filepath.Join(workDir, "preview.jpg")
	previewSource := res.Path // an image is its own preview source
	if res.Poster != "" {
		previewSource = res.Poster // a video's first frame, written by the runner
	}
	if _, _, err := preview.Make(previewSource, previewPath); err != nil {
		log.Error("make preview", "err", err)
		return workflows.RunGenerationOutput{}, temporal.NewApplicationError(failure.Advice(failure.StorageFailed), failure.StorageFailed)
	}
	resultKey := path.Join("results", in.TaskID, "result"+extension(res.Path, res.MIME))
	previewKey := path.Join("previews", in.TaskID, "preview.jpg")
	if _, err := a.artifacts.PutFile(ctx, resultKey, res.Path); err != nil {
		log.Error("store result", "err", err)
		return workflows.RunGenerationOutput{}, temporal.NewApplicationError(failure.Advice(failure.StorageFailed), failure.StorageFailed)
	}
	if _, err := a.artifacts.PutFile(ctx, previewKey, previewPath); err != nil {
		log.Error("store preview", "err", err)
		return workflows.RunGenerationOutput{}, temporal.NewApplicationError(failure.Advice(failure.StorageFailed), failure.StorageFailed)
	}
	progress.set(99, "uploading", "", true)
	log.Info("generation stored", "result_key", resultKey, "elapsed", time.Since(started).Round(time.Millisecond))
	return workflows.RunGenerationOutput{
		ResultKey:   resultKey,
		ResultMIME:  res.MIME,
		PreviewKey:  previewKey,
		Width:       res.Width,
		Height:      res.Height,
		LaneMode:    laneMode,
		RunnerName:  runnerName,
		ElapsedMsec: time.Since(started).Milliseconds(),
		Attempt:     info.Attempt,
		StartedAt:   started,
	}, nil
}

// request builds the runner request: parameters plus the prompt, size and seed, and the local
// paths of the stored reference images.
func (a *Activities) request(ctx context.Context, in workflows.RunGenerationInput, workDir string) (runner.GenerateRequest, error) {
	params := make(map[string]any, len(in.Request.Params)+5)
	for k, v := range in.Request.Params {
		params[k] = v
	}
	params["prompt"] = in.Request.Prompt
	params["negative_prompt"] = in.Request.NegativePrompt
	params["width"] = in.Request.Width
	params["height"] = in.Request.Height
	params["seed"] = in.Request.Seed
	inputs := make([]runner.Input, 0, len(in.Request.Inputs))
	for _, ref := range in.Request.Inputs {
		p, err := a.artifacts.LocalPath(ctx, ref.Key)
		if err != nil {
			return runner.GenerateRequest{}, temporal.NewNonRetryableApplicationError(failure.Advice(failure.InputMissing), failure.InputMissing, err)
		}
		inputs = append(inputs, runner.Input{Field: ref.Field, Path: p, MIME: ref.MIME, FrameIndex: ref.FrameIndex, Strength: ref.Strength})
	}
	outDir := filepath.Join(workDir, "out")
	if err := os.Mkdir(outDir, 0o755); err != nil {
		return runner.GenerateRequest{}, temporal.NewApplicationError("scratch directory unavailable", failure.Internal, err)
	}
	return runner.GenerateRequest{
		ID:           in.TaskID,
		Kind:         in.Type,
		Mode:         in.Mode,
		Params:       params,
		Inputs:       inputs,
		OutputDir:    outDir,
		OutputFormat: in.Request.OutputFormat,
	}, nil
}

// attemptFailed reports a failed attempt's code and message to the task record (not a
// cancellation) and returns err.
func (a *Activities) attemptFailed(ctx context.Context, taskID string, attempt int, err error, log *slog.Logger) error {
	var appErr *temporal.ApplicationError
	if ctx.Err() != nil || !errors.As(err, &appErr) {
		return err
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if rerr := a.reporter.AttemptFailed(rctx, taskID, attempt, appErr.Type(), appErr.Message()); rerr != nil {
		log.Warn("report attempt failure", "err", rerr)
	}
	return err
}

// runnerError turns a runner failure into the activity's error. Messages from the runner reach
// people only for codes whose text is about the request; others get the code's advice.
func (a *Activities) runnerError(ctx context.Context, log *slog.Logger, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var rerr *runner.Error
	if !errors.As(err, &rerr) {
		log.Error("runner", "err", err)
		return temporal.NewApplicationError(failure.Advice(failure.Internal), failure.Internal)
	}
	log.Warn("runner failed", "code", rerr.Code, "retryable", rerr.Retryable, "err", rerr.Message)
	msg := failure.Advice(rerr.Code)
	if rerr.Code == failure.InvalidInput && rerr.Message != "" {
		msg = "The model refused the request: " + rerr.Message
	}
	if rerr.Code == failure.NotSupportedYet && rerr.Message != "" {
		msg = rerr.Message
	}
	if rerr.Retryable {
		return temporal.NewApplicationError(msg, rerr.Code)
	}
	return temporal.NewNonRetryableApplicationError(msg, rerr.Code, nil)
}

// noReporter drops reports: a warm-up run has no task record.
type noReporter struct{}

func (noReporter) Started(context.Context, string, string, string, int) error       { return nil }
func (noReporter) Progress(context.Context, string, float64, string, string) error  { return nil }
func (noReporter) AttemptFailed(context.Context, string, int, string, string) error { return nil }

// progressBands are the shares of a task's 0..100 that each runner stage fills: loading the
// model first, then inference by step, then encoding. A video spends much of its time encoding
// its frames, so encoding gets a larger share there.
var progressBands = map[string][3]float64{
	// kind: loading ends, inference ends, encoding ends
	runner.KindImage: {5, 95, 97},
	runner.KindVideo: {5, 60, 97},
}

// scale maps a runner's stage progress onto the task's 0..100 for a generation of kind.
func scale(kind string, p runner.Progress) (float64, string) {
	band, ok := progressBands[kind]
	if !ok {
		band = progressBands[runner.KindImage]
	}
	frac := 0.0
	detail := ""
	if p.Total > 0 {
		frac = float64(p.Step) / float64(p.Total)
		detail = fmt.Sprintf("step %d/%d", p.Step, p.Total)
	}
	switch p.Stage {
	case runner.StageLoadingModel:
		return band[0] * frac, detail
	case runner.StageEncoding:
		if p.Total > 0 {
			detail = fmt.Sprintf("frame %d/%d", p.Step, p.Total)
		}
		return band[1] + (band[2]-band[1])*frac, detail
	default:
		return band[0] + (band[1]-band[0])*frac, detail
	}
}

// heartbeatEvery keeps a quiet activity alive: a third of the heartbeat timeout.
func heartbeatEvery(timeout time.Duration) time.Duration {
	if timeout <= 0 {
		return 10 * time.Second
	}
	return timeout / 3
}

// extension picks the result's file extension from its path, else from its MIME type.
func extension(p, mime string) string {
	if ext := filepath.Ext(p); ext != "" {
		return strings.ToLower(ext)
	}
	switch mime {
	case "image/jpeg":
		return ".jpg"
	case "video/mp4":
		return ".mp4"
	case "video/webm":
		return ".webm"
	default:
		return ".png"
	}
}

// safeName keeps the characters of s that are safe in a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			return r
		}
		return -1
	}, s)
}
