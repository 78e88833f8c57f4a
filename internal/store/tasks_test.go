package store_test

import (
	"math"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/pgtest"
	"github.com/gooni/gooni/internal/store"
)

// setup returns a migrated store on a schema of the test's own.
func setup(t *testing.T) *store.Store {
	t.Helper()
	t.Parallel()
	return pgtest.NewStore(t)
}

// newTask inserts a minimal pending task and returns it.
func newTask(t *testing.T, s *store.Store, status string) *store.Task {
	t.Helper()
	id := uuid.NewString()
	task := &store.Task{ID: id, WorkflowID: "generate-" + id, Status: status, Lane: "shared", Model: "cpu-image"}
	require.NoError(t, s.CreateTask(t.Context(), task))
	return task
}

func get(t *testing.T, s *store.Store, id string) *store.Task {
	t.Helper()
	task, err := s.GetTask(t.Context(), id)
	require.NoError(t, err)
	return task
}

func TestCreateTaskRoundTripsEveryField(t *testing.T) {
	s := setup(t)
	started := time.Now().Add(-time.Minute).Truncate(time.Microsecond)
	expires := time.Now().Add(24 * time.Hour).Truncate(time.Microsecond)
	in := &store.Task{
		ID: uuid.NewString(), WorkflowID: "wf-1", Status: store.StatusProcessing, Progress: 42.5,
		Stage: "denoising", StageDetail: "step 5/20", Lane: "sdxl", LaneMode: "dedicated",
		Model: "sdxl", Type: "image", Mode: "img2img", Prompt: "a red fox, «snow»", NegativePrompt: "blur",
		Parameters: map[string]any{
			"steps": float64(20), "guidance": 7.5, "scheduler": "euler", "tile": true,
			"loras": []any{map[string]any{"name": "ink", "weight": 0.8}}, "extra": nil,
		},
		Inputs: []store.InputRef{
			{Field: "image", Key: "refs/a.png", MIME: "image/png", FrameIndex: 0, Strength: 0.75},
			{Field: "keyframes", Key: "refs/b.webp", MIME: "image/webp", FrameIndex: 12, Strength: 1},
		},
		Width: 1024, Height: 768, Seed: math.MaxInt64, OutputFormat: "png",
		ResultKey: "results/x.png", ResultMIME: "image/png", PreviewKey: "previews/x.webp",
		ErrorCode: "runner_crashed", ErrorMsg: "retrying", Attempt: 2,
		StartedAt: &started, ExpiresAt: &expires,
	}
	require.NoError(t, s.CreateTask(t.Context(), in))
	require.False(t, in.CreatedAt.IsZero())
	require.Equal(t, in.CreatedAt, in.UpdatedAt)

	out := get(t, s, in.ID)
	require.True(t, out.StartedAt.Equal(started))
	require.True(t, out.ExpiresAt.Equal(expires))
	require.True(t, out.CreatedAt.Equal(in.CreatedAt))
	require.Nil(t, out.FinishedAt)
	// Times compare with Equal (time zones differ); the rest must match exactly.
	out.StartedAt, out.ExpiresAt, out.CreatedAt, out.UpdatedAt = in.StartedAt, in.ExpiresAt, in.CreatedAt, in.UpdatedAt
	require.Equal(t, in, out)
}

func TestCreateTaskAppliesDefaultsAndStoresEmptyOptionalsAsNull(t *testing.T) {
	s := setup(t)
	task := newTask(t, s, "")
	require.Equal(t, store.StatusPending, task.Status)

	got := get(t, s, task.ID)
	require.Equal(t, store.StatusPending, got.Status)
	require.Equal(t, store.StageQueued, got.Stage)
	require.Equal(t, map[string]any{}, got.Parameters)
	require.Equal(t, []store.InputRef{}, got.Inputs)
	require.Zero(t, got.Progress)
	require.Zero(t, got.Attempt)

	var nulls bool
	require.NoError(t, s.Pool().QueryRow(t.Context(), `select type is null and prompt is null and width is null
		and result_key is null and error_code is null and started_at is null from tasks where id = $1`, task.ID).Scan(&nulls))
	require.True(t, nulls)
}

func TestCreateTaskRejectsTakenIDAndWorkflowID(t *testing.T) {
	s := setup(t)
	first := newTask(t, s, "")

	sameID := &store.Task{ID: first.ID, WorkflowID: "other", Lane: "shared"}
	require.ErrorIs(t, s.CreateTask(t.Context(), sameID), store.ErrAlreadyExists)

	sameWorkflow := &store.Task{ID: uuid.NewString(), WorkflowID: first.WorkflowID, Lane: "shared"}
	require.ErrorIs(t, s.CreateTask(t.Context(), sameWorkflow), store.ErrAlreadyExists)
}

func TestCreateTaskRejectsInvalidTasks(t *testing.T) {
	s := setup(t)
	for name, task := range map[string]store.Task{
		"no id":          {WorkflowID: "w", Lane: "l"},
		"no workflow id": {ID: "a", Lane: "l"},
		"no lane":        {ID: "a", WorkflowID: "w"},
		"unknown status": {ID: "a", WorkflowID: "w", Lane: "l", Status: "paused"},
		"progress > 100": {ID: "a", WorkflowID: "w", Lane: "l", Progress: 101},
	} {
		t.Run(name, func(t *testing.T) {
			require.ErrorIs(t, s.CreateTask(t.Context(), &task), store.ErrInvalid)
		})
	}
}

func TestGetTaskUnknownIsNotFound(t *testing.T) {
	s := setup(t)
	_, err := s.GetTask(t.Context(), uuid.NewString())
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestMarkProcessingStartsAttemptAndKeepsFirstStart(t *testing.T) {
	s := setup(t)
	task := newTask(t, s, store.StatusPending)

	require.NoError(t, s.MarkProcessing(t.Context(), task.ID, "sdxl", "dedicated", 1))
	first := get(t, s, task.ID)
	require.Equal(t, store.StatusProcessing, first.Status)
	require.Equal(t, store.StageLoadingModel, first.Stage)
	require.Equal(t, "sdxl", first.Lane)
	require.Equal(t, "dedicated", first.LaneMode)
	require.Equal(t, 1, first.Attempt)
	require.NotNil(t, first.StartedAt)

	require.NoError(t, s.UpdateProgress(t.Context(), task.ID, 60, "denoising", "12/20"))
	require.NoError(t, s.MarkProcessing(t.Context(), task.ID, "shared", "fallback", 2))
	second := get(t, s, task.ID)
	require.Equal(t, 2, second.Attempt)
	require.Equal(t, "shared", second.Lane)
	require.Zero(t, second.Progress, "a new attempt starts from 0")
	require.Empty(t, second.StageDetail)
	require.True(t, second.StartedAt.Equal(*first.StartedAt), "started_at is the first attempt's")
}

func TestMarkProcessingLeavesTerminalTasksAlone(t *testing.T) {
	s := setup(t)
	for _, status := range []string{store.StatusDone, store.StatusFailed, store.StatusCancelled} {
		task := newTask(t, s, status)
		require.NoError(t, s.MarkProcessing(t.Context(), task.ID, "sdxl", "", 3))
		got := get(t, s, task.ID)
		require.Equal(t, status, got.Status)
		require.Zero(t, got.Attempt)
		require.Nil(t, got.StartedAt)
	}
	require.ErrorIs(t, s.MarkProcessing(t.Context(), uuid.NewString(), "sdxl", "", 1), store.ErrNotFound)
}

func TestUpdateProgressClampsAndKeepsStageWhenEmpty(t *testing.T) {
	s := setup(t)
	task := newTask(t, s, store.StatusPending)

	for _, tc := range []struct {
		progress      float64
		stage, detail string
		wantProgress  float64
		wantStage     string
	}{
		{progress: 10, stage: "denoising", detail: "2/20", wantProgress: 10, wantStage: "denoising"},
		{progress: 150, stage: "", detail: "20/20", wantProgress: 100, wantStage: "denoising"},
		{progress: -3, stage: "encoding", detail: "", wantProgress: 0, wantStage: "encoding"},
		{progress: math.NaN(), stage: "encoding", detail: "", wantProgress: 0, wantStage: "encoding"},
	} {
		require.NoError(t, s.UpdateProgress(t.Context(), task.ID, tc.progress, tc.stage, tc.detail))
		got := get(t, s, task.ID)
		require.Equal(t, store.StatusProcessing, got.Status)
		require.Equal(t, tc.wantProgress, got.Progress)
		require.Equal(t, tc.wantStage, got.Stage)
		require.Equal(t, tc.detail, got.StageDetail)
		require.True(t, !got.UpdatedAt.Before(got.CreatedAt))
	}
}

func TestUpdateProgressIgnoresTerminalTasks(t *testing.T) {
	s := setup(t)
	task := newTask(t, s, store.StatusProcessing)
	_, err := s.FailTask(t.Context(), task.ID, "runner_crashed", "boom")
	require.NoError(t, err)

	require.NoError(t, s.UpdateProgress(t.Context(), task.ID, 90, "denoising", "late heartbeat"))
	got := get(t, s, task.ID)
	require.Equal(t, store.StatusFailed, got.Status)
	require.Equal(t, store.StageFailed, got.Stage)
	require.ErrorIs(t, s.UpdateProgress(t.Context(), uuid.NewString(), 1, "", ""), store.ErrNotFound)
}

func TestFinishTaskRecordsResultOnceAndIsIdempotent(t *testing.T) {
	s := setup(t)
	task := &store.Task{ID: uuid.NewString(), WorkflowID: uuid.NewString(), Lane: "sdxl", Width: 512, Height: 512, LaneMode: "shared"}
	require.NoError(t, s.CreateTask(t.Context(), task))
	require.NoError(t, s.MarkProcessing(t.Context(), task.ID, "sdxl", "dedicated", 1))
	expires := time.Now().Add(time.Hour).Truncate(time.Microsecond)

	changed, err := s.FinishTask(t.Context(), task.ID, store.FinishFields{
		ResultKey: "results/1.png", ResultMIME: "image/png", PreviewKey: "previews/1.webp", Height: 640, ExpiresAt: expires,
	})
	require.NoError(t, err)
	require.True(t, changed)
	done := get(t, s, task.ID)
	require.Equal(t, store.StatusDone, done.Status)
	require.Equal(t, 100.0, done.Progress)
	require.Equal(t, store.StageCompleted, done.Stage)
	require.Equal(t, "results/1.png", done.ResultKey)
	require.Equal(t, "image/png", done.ResultMIME)
	require.Equal(t, "previews/1.webp", done.PreviewKey)
	require.Equal(t, "dedicated", done.LaneMode, "empty LaneMode keeps the stored one")
	require.Equal(t, 512, done.Width, "zero Width keeps the stored one")
	require.Equal(t, 640, done.Height)
	require.True(t, done.ExpiresAt.Equal(expires))
	require.NotNil(t, done.FinishedAt)

	changed, err = s.FinishTask(t.Context(), task.ID, store.FinishFields{ResultKey: "results/2.png"})
	require.NoError(t, err)
	require.False(t, changed)
	again := get(t, s, task.ID)
	require.Equal(t, "results/1.png", again.ResultKey, "a retried finish changes nothing")
	require.True(t, again.FinishedAt.Equal(*done.FinishedAt))
}

func TestFinishTaskWithoutExpiryStoresNull(t *testing.T) {
	s := setup(t)
	task := newTask(t, s, store.StatusProcessing)
	_, err := s.FinishTask(t.Context(), task.ID, store.FinishFields{ResultKey: "results/1.png"})
	require.NoError(t, err)
	got := get(t, s, task.ID)
	require.Nil(t, got.ExpiresAt)
	require.Empty(t, got.PreviewKey)
}

func TestFinishTaskConflictsWithFailedAndCancelled(t *testing.T) {
	s := setup(t)
	for _, status := range []string{store.StatusFailed, store.StatusCancelled} {
		task := newTask(t, s, status)
		changed, err := s.FinishTask(t.Context(), task.ID, store.FinishFields{ResultKey: "results/1.png"})
		require.ErrorIs(t, err, store.ErrConflict)
		require.False(t, changed)
		require.Equal(t, status, get(t, s, task.ID).Status)
	}
	_, err := s.FinishTask(t.Context(), uuid.NewString(), store.FinishFields{ResultKey: "k"})
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.FinishTask(t.Context(), newTask(t, s, "").ID, store.FinishFields{})
	require.ErrorIs(t, err, store.ErrInvalid)
}

func TestFailTaskRecordsErrorOnceAndIsIdempotent(t *testing.T) {
	s := setup(t)
	task := newTask(t, s, store.StatusPending)

	changed, err := s.FailTask(t.Context(), task.ID, "invalid_input", "width must be a multiple of 8")
	require.NoError(t, err)
	require.True(t, changed)
	failed := get(t, s, task.ID)
	require.Equal(t, store.StatusFailed, failed.Status)
	require.Equal(t, store.StageFailed, failed.Stage)
	require.Equal(t, "invalid_input", failed.ErrorCode)
	require.Equal(t, "width must be a multiple of 8", failed.ErrorMsg)
	require.NotNil(t, failed.FinishedAt)

	changed, err = s.FailTask(t.Context(), task.ID, "runner_crashed", "second report")
	require.NoError(t, err)
	require.False(t, changed)
	require.Equal(t, "invalid_input", get(t, s, task.ID).ErrorCode)
}

func TestFailTaskConflictsWithDoneAndCancelled(t *testing.T) {
	s := setup(t)
	for _, status := range []string{store.StatusDone, store.StatusCancelled} {
		task := newTask(t, s, status)
		changed, err := s.FailTask(t.Context(), task.ID, "runner_crashed", "late")
		require.ErrorIs(t, err, store.ErrConflict)
		require.False(t, changed)
		require.Equal(t, status, get(t, s, task.ID).Status)
	}
	_, err := s.FailTask(t.Context(), uuid.NewString(), "runner_crashed", "")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.FailTask(t.Context(), newTask(t, s, "").ID, "", "no code")
	require.ErrorIs(t, err, store.ErrInvalid)
}

func TestFinishAndFailRacingSettleOnce(t *testing.T) {
	s := setup(t)
	for range 20 {
		task := newTask(t, s, store.StatusProcessing)
		results := make(chan error, 2)
		changes := make(chan bool, 2)
		go func() {
			changed, err := s.FinishTask(t.Context(), task.ID, store.FinishFields{ResultKey: "k"})
			changes <- changed
			results <- err
		}()
		go func() {
			changed, err := s.FailTask(t.Context(), task.ID, "runner_crashed", "x")
			changes <- changed
			results <- err
		}()
		var won, conflicts int
		for range 2 {
			if <-changes {
				won++
			}
			if err := <-results; err != nil {
				require.ErrorIs(t, err, store.ErrConflict)
				conflicts++
			}
		}
		require.Equal(t, 1, won, "exactly one terminal transition wins")
		require.Equal(t, 1, conflicts, "the loser learns the task settled otherwise")
	}
}

func TestDeleteTask(t *testing.T) {
	s := setup(t)
	task := newTask(t, s, store.StatusDone)
	require.NoError(t, s.DeleteTask(t.Context(), task.ID))
	_, err := s.GetTask(t.Context(), task.ID)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, s.DeleteTask(t.Context(), task.ID), store.ErrNotFound)
}

func TestIsTerminal(t *testing.T) {
	t.Parallel()
	for status, want := range map[string]bool{
		store.StatusPending: false, store.StatusProcessing: false,
		store.StatusDone: true, store.StatusFailed: true, store.StatusCancelled: true, "": false,
	} {
		require.Equal(t, want, store.IsTerminal(status), status)
	}
}
