package stack_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/gooni/gooni/api"
	"github.com/gooni/gooni/internal/artifact"
	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/workflows"
)

// send sends a request with the API key plus header (values as given, empty ones included) and
// returns the status, body and headers.
func (e *env) send(method, path, body string, header http.Header) (int, []byte, http.Header) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.baseURL+path, strings.NewReader(body))
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", testAPIKey)
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return resp.StatusCode, out, resp.Header
}

// getStatus reads GET /status.
func (e *env) getStatus(taskID string) status {
	e.t.Helper()
	code, body, _ := e.do("GET", "/status/"+taskID, nil, nil)
	require.Equal(e.t, http.StatusOK, code, string(body))
	var s status
	require.NoError(e.t, json.Unmarshal(body, &s))
	return s
}

// waitStatus polls GET /status every 20ms until ok holds, failing after timeout.
func (e *env) waitStatus(taskID string, timeout time.Duration, what string, ok func(status) bool) status {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	var s status
	for time.Now().Before(deadline) {
		if s = e.getStatus(taskID); ok(s) {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("task %s: %s not reached within %s; last status %+v", taskID, what, timeout, s)
	return s
}

// workflowStatus returns the Temporal status of the task's workflow.
func (e *env) workflowStatus(taskID string) enumspb.WorkflowExecutionStatus {
	e.t.Helper()
	desc, err := e.temporal.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(taskID), "")
	require.NoError(e.t, err)
	return desc.GetWorkflowExecutionInfo().GetStatus()
}

// countRows counts the rows of a table in the test's schema.
func (e *env) countRows(table string) int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.store.Pool().QueryRow(context.Background(), "select count(*) from "+table).Scan(&n))
	return n
}

// storedTask inserts a task record with no workflow behind it.
func (e *env) storedTask() string {
	e.t.Helper()
	id := uuid.NewString()
	require.NoError(e.t, e.store.CreateTask(context.Background(), &store.Task{
		ID: id, WorkflowID: workflows.WorkflowID(id), Lane: "gpu-pony", Model: "pony", Type: "image", Mode: "txt2img",
	}))
	return id
}

// TestCancelStopsTheRunnerAndLeavesNoResult cancels a pony run mid-inference and proves the
// whole chain stopped: the workflow closed as Canceled within 2 s, the record is cancelled with
// the progress it had (the runner did not run on to the end), no result or preview exists, and
// the lane serves the next task.
func TestCancelStopsTheRunnerAndLeavesNoResult(t *testing.T) {
	e := setup(t, envOptions{})
	id := e.submit(map[string]any{"model": "pony", "prompt": "a long run", "width": 512, "height": 512, "steps": 60})
	running := e.waitStatus(id, 60*time.Second, "processing with progress > 5", func(s status) bool {
		return s.Status == "processing" && s.Progress > 5
	})
	require.Less(t, running.Progress, 50.0, "the cancel lands mid-inference")

	cancelled := time.Now()
	code, body, _ := e.do("DELETE", "/tasks/"+id, nil, nil)
	require.Equal(t, http.StatusAccepted, code, string(body))
	var resp struct {
		TaskID string `json:"task_id"`
		Status string `json:"status"`
	}
	require.NoError(t, json.Unmarshal(body, &resp))
	require.Equal(t, id, resp.TaskID)
	require.Equal(t, "cancelling", resp.Status)

	// Wait for the workflow to close and the record to leave processing, timing both.
	var closedAfter, settledAfter time.Duration
	var final status
	deadline := cancelled.Add(10 * time.Second)
	for (closedAfter == 0 || settledAfter == 0) && time.Now().Before(deadline) {
		if closedAfter == 0 && e.workflowStatus(id) != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			closedAfter = time.Since(cancelled)
		}
		if settledAfter == 0 {
			if final = e.getStatus(id); final.Status != "processing" && final.Status != "pending" {
				settledAfter = time.Since(cancelled)
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	require.NotZero(t, closedAfter, "the workflow did not close within 10s of the cancel")
	require.NotZero(t, settledAfter, "the task did not leave processing within 10s of the cancel; last %+v", final)
	t.Logf("cancel → task %s after %s, workflow closed after %s (cancelled at progress %.1f)",
		final.Status, settledAfter.Round(time.Millisecond), closedAfter.Round(time.Millisecond), final.Progress)
	require.Equal(t, "cancelled", final.Status, "%+v", final)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED, e.workflowStatus(id))
	require.Less(t, closedAfter, 2*time.Second, "the runner stopped and the workflow closed within 2s")
	require.Less(t, settledAfter, 2*time.Second, "the task left processing within 2s")
	require.Less(t, final.Progress, 90.0, "the runner did not run on to the end before the record was cancelled")
	require.Empty(t, final.ResultURL)

	// No result anywhere.
	task, err := e.store.GetTask(context.Background(), id)
	require.NoError(t, err)
	require.Empty(t, task.ResultKey)
	require.Empty(t, task.PreviewKey)
	require.NotNil(t, task.FinishedAt)
	for _, key := range []string{"results/" + id + "/result.png", "results/" + id + "/result.jpg", "previews/" + id + "/preview.jpg"} {
		_, err := e.artifacts.Stat(context.Background(), key)
		require.ErrorIs(t, err, artifact.ErrNotFound, key)
	}
	for _, path := range []string{"/results/", "/preview/"} {
		code, body, _ = e.do("GET", path+id, nil, nil)
		require.Equal(t, http.StatusNotFound, code)
		env := decodeEnvelope(t, body)
		require.Equal(t, "result_not_ready", env.Code)
		require.Equal(t, "cancelled", env.Metadata["status"])
	}

	// Cancelling again, by either route, is refused with the task's status.
	for _, req := range [][2]string{{"DELETE", "/tasks/" + id}, {"POST", "/tasks/" + id + "/cancel"}} {
		code, body, _ = e.do(req[0], req[1], nil, nil)
		require.Equal(t, http.StatusConflict, code, string(body))
		env := decodeEnvelope(t, body)
		require.Equal(t, "task_already_finished", env.Code)
		require.Equal(t, "cancelled", env.Metadata["status"])
	}

	// The lane is free again: the next task runs to the end.
	next := e.submit(map[string]any{"model": "pony", "prompt": "after the cancel", "width": 512, "height": 512, "steps": 20})
	seen := e.waitTerminal(next, 60*time.Second)
	require.Equal(t, "done", seen[len(seen)-1].Status, "%+v", seen[len(seen)-1])
}

// TestCancelOfAQueuedTaskEndsItWithoutAWorker: a task no worker has started is cancelled through
// its workflow (POST /tasks/{id}/cancel) and never runs.
func TestCancelOfAQueuedTaskEndsItWithoutAWorker(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true})
	id := e.submit(map[string]any{"model": "pony", "prompt": "never runs", "width": 512, "height": 512})
	code, body, _ := e.do("POST", "/tasks/"+id+"/cancel", nil, nil)
	require.Equal(t, http.StatusAccepted, code, string(body))
	require.JSONEq(t, fmt.Sprintf(`{"task_id":%q,"status":"cancelling"}`, id), string(body))
	final := e.waitStatus(id, 5*time.Second, "cancelled", func(s status) bool { return s.Status != "pending" })
	require.Equal(t, "cancelled", final.Status)
	require.Eventually(t, func() bool {
		return e.workflowStatus(id) == enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED
	}, 5*time.Second, 20*time.Millisecond)
}

// TestCancelRefusesFinishedUnknownAndUnauthenticated checks the refusals, none of which touches
// Temporal or the record.
func TestCancelRefusesFinishedUnknownAndUnauthenticated(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true})
	for _, path := range []string{"/tasks/" + uuid.NewString(), "/tasks/not-a-uuid"} {
		code, body, _ := e.do("DELETE", path, nil, nil)
		require.Equal(t, http.StatusNotFound, code, string(body))
		require.Equal(t, "task_not_found", decodeEnvelope(t, body).Code)
	}
	code, body, _ := e.do("POST", "/tasks/"+uuid.NewString()+"/cancel", nil, nil)
	require.Equal(t, http.StatusNotFound, code, string(body))
	require.Equal(t, "task_not_found", decodeEnvelope(t, body).Code)

	failed := e.storedTask()
	_, err := e.store.FailTask(context.Background(), failed, "runner_crashed", "The model process crashed.")
	require.NoError(t, err)
	code, body, _ = e.do("DELETE", "/tasks/"+failed, nil, nil)
	require.Equal(t, http.StatusConflict, code, string(body))
	env := decodeEnvelope(t, body)
	require.Equal(t, "task_already_finished", env.Code)
	require.Equal(t, "failed", env.Metadata["status"])

	live := e.storedTask()
	for _, req := range [][2]string{{"DELETE", "/tasks/" + live}, {"POST", "/tasks/" + live + "/cancel"}} {
		code, body, _ = e.do(req[0], req[1], nil, map[string]string{"X-API-Key": ""})
		require.Equal(t, http.StatusForbidden, code, string(body))
		require.Equal(t, "invalid_api_key", decodeEnvelope(t, body).Code)
	}
	require.Equal(t, "pending", e.getStatus(live).Status, "a refused cancel changes nothing")
}

// TestCancelSettlesARecordWhoseWorkflowIsGone covers the drifts: a live record with no workflow
// (the API died between recording the task and starting it) and a live record whose workflow was
// terminated. The record is cancelled directly.
func TestCancelSettlesARecordWhoseWorkflowIsGone(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true})

	orphan := e.storedTask()
	code, body, _ := e.do("DELETE", "/tasks/"+orphan, nil, nil)
	require.Equal(t, http.StatusAccepted, code, string(body))
	require.JSONEq(t, fmt.Sprintf(`{"task_id":%q,"status":"cancelled"}`, orphan), string(body))
	require.Equal(t, "cancelled", e.getStatus(orphan).Status)

	terminated := e.submit(map[string]any{"model": "pony", "prompt": "terminated", "width": 512, "height": 512})
	require.NoError(t, e.temporal.TerminateWorkflow(context.Background(), workflows.WorkflowID(terminated), "", "test: drift"))
	require.Equal(t, "pending", e.getStatus(terminated).Status, "the record drifted from its workflow")
	code, body, _ = e.do("POST", "/tasks/"+terminated+"/cancel", nil, nil)
	require.Equal(t, http.StatusAccepted, code, string(body))
	require.JSONEq(t, fmt.Sprintf(`{"task_id":%q,"status":"cancelled"}`, terminated), string(body))
	require.Equal(t, "cancelled", e.getStatus(terminated).Status)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, e.workflowStatus(terminated))

	code, body, _ = e.do("DELETE", "/tasks/"+terminated, nil, nil)
	require.Equal(t, http.StatusConflict, code, string(body))
}

// idempotentBody is a pony request; reordered is the same request serialised differently.
const (
	idempotentBody = `{"model":"pony","mode":"txt2img","prompt":"a lighthouse at dusk","width":512,"height":512,"steps":20}`
	reorderedBody  = "{\n  \"steps\": 20, \"height\": 512, \"width\": 512,\n  \"prompt\": \"a lighthouse at dusk\", \"mode\": \"txt2img\", \"model\": \"pony\"\n}"
)

func keyed(key string) http.Header { return http.Header{"Idempotency-Key": {key}} }

// TestIdempotencyKeyReturnsTheFirstTaskForTheSameBody: a retry gets the same task with 200, a
// different body under the key is 409, and only one task and workflow exist.
func TestIdempotencyKeyReturnsTheFirstTaskForTheSameBody(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true})
	code, body, hdr := e.send("POST", "/generate", idempotentBody, keyed("order-42"))
	require.Equal(t, http.StatusAccepted, code, string(body))
	require.Empty(t, hdr.Get("Idempotent-Replayed"))
	var first acceptedTask
	require.NoError(t, json.Unmarshal(body, &first))
	require.Equal(t, "pending", first.Status)

	code, body, hdr = e.send("POST", "/generate", reorderedBody, keyed("order-42"))
	require.Equal(t, http.StatusOK, code, string(body))
	require.JSONEq(t, fmt.Sprintf(`{"task_id":%q,"status":"pending"}`, first.TaskID), string(body))
	require.Equal(t, "true", hdr.Get("Idempotent-Replayed"))

	code, body, _ = e.send("POST", "/generate", strings.Replace(idempotentBody, "dusk", "dawn", 1), keyed("order-42"))
	require.Equal(t, http.StatusConflict, code, string(body))
	env := decodeEnvelope(t, body)
	require.Equal(t, "idempotency_key_reused", env.Code)
	require.Equal(t, first.TaskID, env.Metadata["task_id"])

	// The replay reports the task's current status.
	_, err := e.store.CancelTask(context.Background(), first.TaskID)
	require.NoError(t, err)
	code, body, _ = e.send("POST", "/generate", idempotentBody, keyed("order-42"))
	require.Equal(t, http.StatusOK, code, string(body))
	require.JSONEq(t, fmt.Sprintf(`{"task_id":%q,"status":"cancelled"}`, first.TaskID), string(body))

	require.Equal(t, 1, e.countRows("tasks"), "retries created no task")
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, e.workflowStatus(first.TaskID))

	// Without a key, the same body is a new submission; another key is another task.
	e.submit(map[string]any{"model": "pony", "prompt": "a lighthouse at dusk", "width": 512, "height": 512, "steps": 20})
	code, body, _ = e.send("POST", "/generate", idempotentBody, keyed("order-43"))
	require.Equal(t, http.StatusAccepted, code, string(body))
	require.Equal(t, 3, e.countRows("tasks"))
	require.Equal(t, 2, e.countRows("idempotency_keys"))
}

// TestInvalidIdempotencyKeysAreRefused: 1..255 printable ASCII characters in one header.
func TestInvalidIdempotencyKeysAreRefused(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true})
	for name, header := range map[string]http.Header{
		"empty":      {"Idempotency-Key": {""}},
		"too long":   keyed(strings.Repeat("k", 256)),
		"non-ascii":  keyed("clé-1"),
		"tab inside": keyed("a\tb"),
		"two values": {"Idempotency-Key": {"a", "b"}},
	} {
		t.Run(name, func(t *testing.T) {
			code, body, _ := e.send("POST", "/generate", idempotentBody, header)
			require.Equal(t, http.StatusBadRequest, code, string(body))
			require.Equal(t, "invalid_idempotency_key", decodeEnvelope(t, body).Code)
		})
	}
	code, body, _ := e.send("POST", "/generate", idempotentBody, keyed(strings.Repeat("k", 255)))
	require.Equal(t, http.StatusAccepted, code, string(body))
	require.Equal(t, 1, e.countRows("tasks"))
}

// TestConcurrentIdempotentSubmissionsCreateExactlyOneTask sends eight identical keyed requests
// at once through the HTTP API.
func TestConcurrentIdempotentSubmissionsCreateExactlyOneTask(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true})
	const n = 8
	type answer struct {
		code int
		body []byte
		took time.Duration
	}
	answers := make([]answer, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			began := time.Now()
			code, body, _ := e.send("POST", "/generate", idempotentBody, keyed("race-1"))
			answers[i] = answer{code, body, time.Since(began)}
		})
	}
	began := time.Now()
	close(start)
	wg.Wait()
	all := time.Since(began)

	var created, replayed int
	ids := map[string]bool{}
	var slowest time.Duration
	for _, a := range answers {
		switch a.code {
		case http.StatusAccepted:
			created++
		case http.StatusOK:
			replayed++
		default:
			t.Fatalf("unexpected answer %d: %s", a.code, a.body)
		}
		var got acceptedTask
		require.NoError(t, json.Unmarshal(a.body, &got))
		ids[got.TaskID] = true
		slowest = max(slowest, a.took)
	}
	t.Logf("%d concurrent keyed submissions: %d created, %d replayed, all answered in %s (slowest %s)",
		n, created, replayed, all.Round(time.Millisecond), slowest.Round(time.Millisecond))
	require.Equal(t, 1, created)
	require.Equal(t, n-1, replayed)
	require.Len(t, ids, 1, "every answer names the same task")
	require.Equal(t, 1, e.countRows("tasks"))
	require.Equal(t, 1, e.countRows("idempotency_keys"))
	for id := range ids {
		require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, e.workflowStatus(id))
	}
}

// TestExpiredIdempotencyKeyIsTreatedAsNew: after 24 h the key creates a new task.
func TestExpiredIdempotencyKeyIsTreatedAsNew(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true})
	code, body, _ := e.send("POST", "/generate", idempotentBody, keyed("daily-report"))
	require.Equal(t, http.StatusAccepted, code, string(body))
	var first acceptedTask
	require.NoError(t, json.Unmarshal(body, &first))
	_, err := e.store.Pool().Exec(context.Background(), `update idempotency_keys set created_at = now() - interval '24 hours 1 second'`)
	require.NoError(t, err)

	code, body, _ = e.send("POST", "/generate", idempotentBody, keyed("daily-report"))
	require.Equal(t, http.StatusAccepted, code, string(body))
	var second acceptedTask
	require.NoError(t, json.Unmarshal(body, &second))
	require.NotEqual(t, first.TaskID, second.TaskID)
	held, err := e.store.GetIdempotencyKey(context.Background(), "daily-report", 24*time.Hour)
	require.NoError(t, err)
	require.Equal(t, second.TaskID, held.TaskID, "the key now names the new task")
}

// startSwitch is the Temporal client with a switchable ExecuteWorkflow: it fails (Temporal
// unreachable), or loses the start (the API process dying between recording the task and
// starting its workflow), or starts for real.
type startSwitch struct {
	client.Client
	mode atomic.Int32
}

const (
	startReal int32 = iota
	startFail
	startLost
)

func (s *startSwitch) ExecuteWorkflow(ctx context.Context, opts client.StartWorkflowOptions, wf any, args ...any) (client.WorkflowRun, error) {
	switch s.mode.Load() {
	case startFail:
		return nil, serviceerror.NewUnavailable("test: temporal unreachable")
	case startLost:
		return nil, nil
	}
	return s.Client.ExecuteWorkflow(ctx, opts, wf, args...)
}

func withStartSwitch(sw *startSwitch) func(*api.Config, *api.Deps) {
	return func(_ *api.Config, d *api.Deps) {
		sw.Client = d.Temporal
		d.Temporal = sw
	}
}

// TestFailedWorkflowStartLeavesNoKeyBehind: when the workflow cannot start, the task and its key
// are both gone, so a retry with the key submits afresh.
func TestFailedWorkflowStartLeavesNoKeyBehind(t *testing.T) {
	sw := &startSwitch{}
	e := setup(t, envOptions{noGPUWorker: true, api: withStartSwitch(sw)})
	sw.mode.Store(startFail)
	code, body, _ := e.send("POST", "/generate", idempotentBody, keyed("flaky-1"))
	require.Equal(t, http.StatusServiceUnavailable, code, string(body))
	require.Equal(t, "orchestrator_unavailable", decodeEnvelope(t, body).Code)
	require.Equal(t, 0, e.countRows("tasks"))
	require.Equal(t, 0, e.countRows("idempotency_keys"), "the key does not point at a deleted task")

	sw.mode.Store(startReal)
	code, body, _ = e.send("POST", "/generate", idempotentBody, keyed("flaky-1"))
	require.Equal(t, http.StatusAccepted, code, string(body))
	var accepted acceptedTask
	require.NoError(t, json.Unmarshal(body, &accepted))
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, e.workflowStatus(accepted.TaskID))
}

// TestRetryResumesASubmissionWhoseWorkflowNeverStarted: the first request recorded the task and
// its key, then "died" before starting the workflow. A retry with the key, once the first
// request is surely over, starts the workflow with the seed the task recorded, and the task runs.
func TestRetryResumesASubmissionWhoseWorkflowNeverStarted(t *testing.T) {
	sw := &startSwitch{}
	e := setup(t, envOptions{api: withStartSwitch(sw)})
	body := `{"model":"pony","prompt":"resumed","width":512,"height":512,"steps":20,"seed":-1}`
	sw.mode.Store(startLost)
	code, out, _ := e.send("POST", "/generate", body, keyed("resume-1"))
	require.Equal(t, http.StatusAccepted, code, string(out))
	var accepted acceptedTask
	require.NoError(t, json.Unmarshal(out, &accepted))
	_, err := e.temporal.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(accepted.TaskID), "")
	var notFound *serviceerror.NotFound
	require.True(t, errors.As(err, &notFound), "no workflow was started: %v", err)
	recorded, err := e.store.GetTask(context.Background(), accepted.TaskID)
	require.NoError(t, err)

	// A retry while the first request could still be starting it changes nothing.
	sw.mode.Store(startReal)
	code, out, _ = e.send("POST", "/generate", body, keyed("resume-1"))
	require.Equal(t, http.StatusOK, code, string(out))
	_, err = e.temporal.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(accepted.TaskID), "")
	require.True(t, errors.As(err, &notFound), "a young task is left to its first request: %v", err)

	// Later (past the request timeout), the retry resumes it.
	_, err = e.store.Pool().Exec(context.Background(), `update tasks set created_at = now() - interval '1 minute'`)
	require.NoError(t, err)
	code, out, _ = e.send("POST", "/generate", body, keyed("resume-1"))
	require.Equal(t, http.StatusOK, code, string(out))
	require.JSONEq(t, fmt.Sprintf(`{"task_id":%q,"status":"pending"}`, accepted.TaskID), string(out))
	seen := e.waitTerminal(accepted.TaskID, 60*time.Second)
	final := seen[len(seen)-1]
	require.Equal(t, "done", final.Status, "%+v", final)
	require.Equal(t, recorded.Seed, final.Seed, "the run used the seed the task recorded")
	require.Equal(t, 1, e.countRows("tasks"))
}
