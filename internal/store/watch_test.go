package store_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/pgtest"
	"github.com/gooni/gooni/internal/store"
)

func TestTaskVersionMovesWithEveryWrite(t *testing.T) {
	s := setup(t)
	task := newTask(t, s, store.StatusPending)
	status, v1, err := s.TaskVersion(t.Context(), task.ID)
	require.NoError(t, err)
	require.Equal(t, store.StatusPending, status)

	require.NoError(t, s.UpdateProgress(t.Context(), task.ID, 10, "inference", "step 1/20"))
	status, v2, err := s.TaskVersion(t.Context(), task.ID)
	require.NoError(t, err)
	require.Equal(t, store.StatusProcessing, status)
	require.True(t, v2.After(v1), "progress moves updated_at")

	_, err = s.FailTask(t.Context(), task.ID, "runner_crashed", "boom")
	require.NoError(t, err)
	status, _, err = s.TaskVersion(t.Context(), task.ID)
	require.NoError(t, err)
	require.Equal(t, store.StatusFailed, status)

	_, _, err = s.TaskVersion(t.Context(), uuid.NewString())
	require.ErrorIs(t, err, store.ErrNotFound)
}

// BenchmarkPoll compares what a live progress stream reads each poll (TaskVersion) with loading
// the whole task (GetTask), on a task with a realistic prompt and parameters.
func BenchmarkPoll(b *testing.B) {
	s := pgtest.NewStore(b)
	id := uuid.NewString()
	params := map[string]any{}
	for _, k := range []string{"steps", "cfg_scale", "sampler", "clip_skip", "width", "height", "seed", "output_format"} {
		params[k] = "a parameter value"
	}
	prompt := string(make([]rune, 0, 400))
	for range 40 {
		prompt += "a lighthouse at dusk, "
	}
	require.NoError(b, s.CreateTask(b.Context(), &store.Task{ID: id, WorkflowID: "generation-" + id, Lane: "gpu-pony",
		Model: "pony", Prompt: prompt, NegativePrompt: prompt, Parameters: params}))
	b.Run("TaskVersion", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := s.TaskVersion(b.Context(), id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("GetTask", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.GetTask(b.Context(), id); err != nil {
				b.Fatal(err)
			}
		}
	})
}
