package stack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// submit posts a generation and returns its task id.
func (e *env) submit(req map[string]any) string {
	e.t.Helper()
	code, body, _ := e.do("POST", "/generate", req, nil)
	require.Equal(e.t, http.StatusAccepted, code, string(body))
	var accepted acceptedTask
	require.NoError(e.t, json.Unmarshal(body, &accepted))
	return accepted.TaskID
}

// TestTasksFallBackToTheSharedLaneWhichSwitchesModels: with no dedicated workers, tasks leave
// their lanes after the schedule-to-start limit and run on the shared lane, whose worker holds
// one model at a time and unloads it before loading another.
func TestTasksFallBackToTheSharedLaneWhichSwitchesModels(t *testing.T) {
	e := setup(t, envOptions{gpuModels: []string{}, sharedLane: true, edit: func(s string) string {
		return strings.ReplaceAll(s, `"schedule_to_start": "10m"`, `"schedule_to_start": "1s"`)
	}})
	for i, model := range []string{"pony", "flux", "flux"} {
		id := e.submit(map[string]any{"model": model, "prompt": "fallback", "width": 512, "height": 512})
		seen := e.waitTerminal(id, 60*time.Second)
		final := seen[len(seen)-1]
		require.Equal(t, "done", final.Status, "%+v", final)
		require.Equal(t, "shared", final.LaneMode)
		task, err := e.store.GetTask(context.Background(), id)
		require.NoError(t, err)
		require.Contains(t, task.FallbackReason, "-gpu-"+model)
		require.Equal(t, model, e.gpu.SharedHeld(), "after task %d", i)
	}
	require.Equal(t, 1, e.gpu.Loads("pony"))
	require.Equal(t, 1, e.gpu.Loads("flux"), "flux stayed loaded for the second flux task")
}

// TestFullSharedLaneFailsFastWithQueueOverloaded: when the shared lane's depth is reached and no
// dedicated worker serves the model, a submission is refused with 503 queue_overloaded instead of
// waiting forever (the workflow applies the same rule to tasks already accepted; see workflows).
func TestFullSharedLaneFailsFastWithQueueOverloaded(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true, edit: func(s string) string {
		s = strings.ReplaceAll(s, `"schedule_to_start": "10m"`, `"schedule_to_start": "1s"`)
		s = strings.Replace(s, `"max_wait": "30s"`, `"max_wait": "3s"`, 1)
		return strings.Replace(s, `"max_depth": 25`, `"max_depth": 1`, 1)
	}})
	first := e.submit(map[string]any{"model": "pony", "prompt": "first", "width": 512, "height": 512})
	require.Eventually(t, func() bool {
		task, err := e.store.GetTask(context.Background(), first)
		return err == nil && task.LaneMode == "shared"
	}, 30*time.Second, 50*time.Millisecond, "the first task waits on the shared lane")

	// No worker serves pony and the shared lane is full: the submission is refused at once.
	before := e.countTasks()
	code, body, _ := e.do("POST", "/generate", map[string]any{"model": "pony", "prompt": "second", "width": 512, "height": 512}, nil)
	require.Equal(t, http.StatusServiceUnavailable, code, string(body))
	env := decodeEnvelope(t, body)
	require.Equal(t, "queue_overloaded", env.Code)
	require.EqualValues(t, 1, env.Metadata["shared_depth"])
	require.Equal(t, before, e.countTasks(), "a refused submission creates nothing")

	// With no worker on any lane the first one ends worker_start_timeout after the shared wait.
	seen := e.waitTerminal(first, 60*time.Second)
	require.Equal(t, "worker_start_timeout", seen[len(seen)-1].ErrorCode)
}
