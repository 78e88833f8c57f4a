package stack_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/gooni/gooni/api"
	"github.com/gooni/gooni/internal/artifact"
	"github.com/gooni/gooni/internal/stack"
	"github.com/gooni/gooni/workflows"
)

// recordHistoryEnv, when set to 1, makes TestMaintenanceCleanup… write the cleanup run's history
// to workflows/testdata for the replay test.
const recordHistoryEnv = "GOONI_RECORD_HISTORY"

// maintenanceSetup starts a stack with an admin key whose maintenance workflow ids carry the
// test's own prefix (tests share one Temporal namespace), and returns it with an admin cookie.
func maintenanceSetup(t *testing.T, opts envOptions) (*env, string) {
	t.Helper()
	prefix := strings.Trim(nonWord.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-") + "-"
	opts.adminKey = testAdminKey
	inner := opts.api
	opts.api = func(c *api.Config, d *api.Deps) {
		c.MaintenanceIDPrefix = prefix
		c.TemporalUIURL = "http://ui.example:8233"
		if inner != nil {
			inner(c, d)
		}
	}
	e := setup(t, opts)
	return e, e.adminLogin().Value
}

// maintenanceStarted is the answer to POST /admin/maintenance/{name}.
type maintenanceStarted struct {
	Name       string `json:"name"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	UIURL      string `json:"ui_url"`
	Joined     bool   `json:"joined"`
}

// runMaintenance starts the maintenance name through the API, waits for its workflow and decodes
// its result into out.
func (e *env) runMaintenance(cookie, name string, body any, out any) maintenanceStarted {
	e.t.Helper()
	code, raw, _ := e.admin("POST", "/admin/maintenance/"+name, body, cookie)
	require.Equal(e.t, http.StatusAccepted, code, string(raw))
	var started maintenanceStarted
	require.NoError(e.t, json.Unmarshal(raw, &started))
	require.Equal(e.t, name, started.Name)
	require.True(e.t, strings.HasSuffix(started.WorkflowID, workflows.MaintenanceWorkflowID(name)), started.WorkflowID)
	require.NotEmpty(e.t, started.RunID)
	require.Equal(e.t, "http://ui.example:8233/namespaces/"+temporalServer.Namespace()+"/workflows/"+started.WorkflowID+"/"+started.RunID+"/history", started.UIURL)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(e.t, e.temporal.GetWorkflow(ctx, started.WorkflowID, started.RunID).Get(ctx, out))
	return started
}

func (e *env) submitPony(prompt string) string {
	e.t.Helper()
	code, body, _ := e.do("POST", "/generate", map[string]any{
		"model": "pony", "prompt": prompt, "width": 512, "height": 512, "steps": 20,
	}, nil)
	require.Equal(e.t, http.StatusAccepted, code, string(body))
	var accepted acceptedTask
	require.NoError(e.t, json.Unmarshal(body, &accepted))
	return accepted.TaskID
}

func TestMaintenanceCleanupRemovesExpiredFilesAndResultsAnswer410(t *testing.T) {
	e, cookie := maintenanceSetup(t, envOptions{gpuModels: []string{"pony"}})
	expired := e.submitPony("expires")
	kept := e.submitPony("stays")
	for _, id := range []string{expired, kept} {
		seen := e.waitTerminal(id, time.Minute)
		require.Equal(t, "done", seen[len(seen)-1].Status)
	}
	code, _, _ := e.do("GET", "/results/"+expired, nil, nil)
	require.Equal(t, http.StatusOK, code)
	task, err := e.store.GetTask(t.Context(), expired)
	require.NoError(t, err)
	_, err = e.store.Pool().Exec(t.Context(), `update tasks set expires_at = now() - interval '1 minute' where id = $1`, expired)
	require.NoError(t, err)

	// Without an admin session nothing starts.
	code, body, _ := e.do("POST", "/admin/maintenance/cleanup", nil, noKey())
	require.Equal(t, http.StatusUnauthorized, code, string(body))
	code, body, _ = e.admin("POST", "/admin/maintenance/defrag", nil, cookie)
	require.Equal(t, http.StatusNotFound, code, string(body))
	require.Equal(t, "maintenance_not_found", decodeEnvelope(t, body).Code)

	var res workflows.CleanupResult
	started := e.runMaintenance(cookie, "cleanup", nil, &res)
	require.Equal(t, workflows.CleanupResult{Batches: 1, Tasks: 1, Files: 2, Complete: true}, res)

	for _, key := range []string{task.ResultKey, task.PreviewKey} {
		_, err := e.artifacts.Stat(t.Context(), key)
		require.ErrorIs(t, err, artifact.ErrNotFound, key)
	}
	code, body, _ = e.do("GET", "/results/"+expired, nil, nil)
	require.Equal(t, http.StatusGone, code, string(body))
	require.Equal(t, "result_file_missing", decodeEnvelope(t, body).Code)
	require.Equal(t, "done", e.getStatus(expired).Status, "the record keeps its metadata")
	code, _, _ = e.do("GET", "/results/"+kept, nil, nil)
	require.Equal(t, http.StatusOK, code, "an unexpired result stays")

	// A second run finds nothing left.
	var again workflows.CleanupResult
	e.runMaintenance(cookie, "cleanup", nil, &again)
	require.Equal(t, 0, again.Tasks)

	// The run is listed with its result, and the start is audited.
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body, _ = e.admin("GET", "/admin/maintenance?name=cleanup", nil, cookie)
		require.Equal(t, http.StatusOK, code, string(body))
		var list struct {
			Items []struct {
				WorkflowID string                  `json:"workflow_id"`
				RunID      string                  `json:"run_id"`
				Status     string                  `json:"status"`
				Result     workflows.CleanupResult `json:"result"`
			} `json:"items"`
		}
		require.NoError(t, json.Unmarshal(body, &list))
		found := false
		for _, it := range list.Items {
			if it.RunID == started.RunID {
				require.Equal(t, started.WorkflowID, it.WorkflowID)
				require.Equal(t, "Completed", it.Status)
				require.Equal(t, res, it.Result)
				found = true
			}
		}
		if found {
			break
		}
		require.True(t, time.Now().Before(deadline), "run %s not listed: %s", started.RunID, body)
		time.Sleep(200 * time.Millisecond)
	}
	audit := strings.Join(e.rawRows("admin_audit"), "\n")
	require.Contains(t, audit, `"action":"maintenance.start","target":"cleanup","outcome":"success"`)
	require.Contains(t, audit, started.RunID)
	require.Contains(t, audit, `"action":"maintenance.list"`)

	if os.Getenv(recordHistoryEnv) == "1" {
		hist := e.temporal.GetWorkflowHistory(t.Context(), started.WorkflowID, started.RunID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		type event = json.RawMessage
		var events []event
		for hist.HasNext() {
			ev, err := hist.Next()
			require.NoError(t, err)
			raw, err := protojson.Marshal(ev)
			require.NoError(t, err)
			events = append(events, raw)
		}
		out, err := json.MarshalIndent(map[string]any{"events": events}, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile("../../workflows/testdata/cleanup_done.json", out, 0o644))
	}
}

func TestMaintenanceReconcileRepairsDriftedAndOrphanedRecords(t *testing.T) {
	e, cookie := maintenanceSetup(t, envOptions{gpuModels: []string{"pony"}})
	drifted := e.submitPony("drifts")
	seen := e.waitTerminal(drifted, time.Minute)
	require.Equal(t, "done", seen[len(seen)-1].Status)
	// The record loses its outcome: back to processing, as if FinishTask never landed.
	_, err := e.store.Pool().Exec(t.Context(), `update tasks set status = 'processing', stage = 'denoising', progress = 40,
		finished_at = null, updated_at = now() - interval '10 minutes' where id = $1`, drifted)
	require.NoError(t, err)
	// A pending record whose workflow was never started.
	orphan := e.storedTask()
	_, err = e.store.Pool().Exec(t.Context(), `update tasks set updated_at = now() - interval '10 minutes' where id = $1`, orphan)
	require.NoError(t, err)
	// A fresh pending record without a workflow is left alone (its workflow may be starting).
	fresh := e.storedTask()

	var res workflows.ReconcileResult
	e.runMaintenance(cookie, "reconcile", nil, &res)
	require.Equal(t, 2, res.Checked)
	require.Equal(t, 1, res.Finished)
	require.Equal(t, 1, res.Orphaned)
	require.True(t, res.Complete)

	s := e.getStatus(drifted)
	require.Equal(t, "done", s.Status)
	require.Equal(t, float64(100), s.Progress)
	code, _, hdr := e.do("GET", "/results/"+drifted, nil, nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "image/png", hdr.Get("Content-Type"))
	s = e.getStatus(orphan)
	require.Equal(t, "failed", s.Status)
	require.Equal(t, "reconciled", s.ErrorCode)
	require.Contains(t, s.ErrorMsg, "workflow does not exist")
	require.Equal(t, "pending", e.getStatus(fresh).Status)

	// min_age_seconds=0 checks every live record: the fresh one is an orphan too.
	var all workflows.ReconcileResult
	code, body, _ := e.admin("POST", "/admin/maintenance/reconcile", map[string]any{"min_age_seconds": -1}, cookie)
	require.Equal(t, http.StatusUnprocessableEntity, code, string(body))
	e.runMaintenance(cookie, "reconcile", map[string]any{"min_age_seconds": 0}, &all)
	require.Equal(t, 0, all.Orphaned, "0 means the default age, so the fresh record is still spared")
}

func TestMaintenanceWarmupLoadsEachLaneModelOnceAndRecordsNoTask(t *testing.T) {
	// Two image lanes keep the test light on two cores (the video models' warm-ups encode 49
	// frames each); the workflow treats every lane alike.
	ids := []string{"pony", "flux"}
	e, cookie := maintenanceSetup(t, envOptions{gpuModels: ids})
	var res workflows.WarmupResult
	e.runMaintenance(cookie, "warmup", map[string]any{"models": ids}, &res)
	require.Len(t, res.Outcomes, len(ids))
	require.Equal(t, len(ids), res.Warm, "%+v", res.Outcomes)
	for i, o := range res.Outcomes {
		require.Equal(t, ids[i], o.Model)
		m, _ := e.catalogue.Model(o.Model)
		require.Equal(t, m.Runtime.Lane, o.Lane)
		require.Equal(t, workflows.WarmupWarm, o.Status, "%+v", o)
		require.Equal(t, "cpu", o.RunnerName)
		require.Equal(t, 1, e.gpu.Loads(o.Model), o.Model)
	}
	require.Zero(t, e.countRows("tasks"), "a warm-up writes no task record")

	// The warm runner serves the next generation without loading again.
	id := e.submitPony("after warm-up")
	seen := e.waitTerminal(id, time.Minute)
	require.Equal(t, "done", seen[len(seen)-1].Status)
	require.Equal(t, 1, e.gpu.Loads("pony"))

	code, body, _ := e.admin("POST", "/admin/maintenance/warmup", map[string]any{"models": []string{"nope"}}, cookie)
	require.Equal(t, http.StatusUnprocessableEntity, code, string(body))
	var one workflows.WarmupResult
	e.runMaintenance(cookie, "warmup", map[string]any{"models": []string{"pony"}}, &one)
	require.Len(t, one.Outcomes, 1)
	require.Equal(t, 1, e.gpu.Loads("pony"), "warming a warm lane loads nothing")
}

func TestQueueDiagnosticsExplainATaskNoWorkerServes(t *testing.T) {
	e, cookie := maintenanceSetup(t, envOptions{noGPUWorker: true})
	id := e.submitPony("nobody serves me")
	pony, _ := e.catalogue.Model("pony")
	shared := e.catalogue.SharedLane()

	type why struct {
		Status        string     `json:"status"`
		Lane          string     `json:"lane"`
		LaneMode      string     `json:"lane_mode"`
		LaneHasWorker *bool      `json:"lane_has_worker"`
		FallbackAt    *time.Time `json:"fallback_at"`
		Explanation   string     `json:"explanation"`
		Activity      *struct {
			Type    string `json:"type"`
			State   string `json:"state"`
			Attempt int    `json:"attempt"`
		} `json:"activity"`
	}
	var w why
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body, _ := e.admin("GET", "/admin/tasks/"+id+"/why", nil, cookie)
		require.Equal(t, http.StatusOK, code, string(body))
		require.NoError(t, json.Unmarshal(body, &w))
		if w.Activity != nil {
			break
		}
		require.True(t, time.Now().Before(deadline), "no pending activity: %s", body)
		time.Sleep(100 * time.Millisecond)
	}
	require.Equal(t, "pending", w.Status)
	require.Equal(t, pony.Runtime.Lane, w.Lane)
	require.NotNil(t, w.LaneHasWorker)
	require.False(t, *w.LaneHasWorker)
	require.Equal(t, workflows.RunGenerationActivity, w.Activity.Type)
	require.Equal(t, "scheduled", w.Activity.State)
	require.NotNil(t, w.FallbackAt)
	require.WithinDuration(t, time.Now().Add(pony.Runtime.ScheduleToStart), *w.FallbackAt, time.Minute)
	require.Contains(t, w.Explanation, "No worker serves lane "+pony.Runtime.Lane)
	require.Contains(t, w.Explanation, "fall back to the shared lane "+shared.TaskQueue+" at ")

	_, err := e.store.Pool().Exec(t.Context(), `update tasks set created_at = now() - interval '1 minute' where id = $1`, id)
	require.NoError(t, err)
	code, body, _ := e.admin("GET", "/admin/queues", nil, cookie)
	require.Equal(t, http.StatusOK, code, string(body))
	var q struct {
		Lanes []struct {
			Lane       string            `json:"lane"`
			Kind       string            `json:"kind"`
			Models     []string          `json:"models"`
			Pollers    []json.RawMessage `json:"pollers"`
			Pending    int               `json:"pending"`
			OldestAge  float64           `json:"oldest_pending_age_seconds"`
			Depth      *int              `json:"depth"`
			MaxDepth   *int              `json:"max_depth"`
			Processing int               `json:"processing"`
		} `json:"lanes"`
	}
	require.NoError(t, json.Unmarshal(body, &q))
	lanes := map[string]int{}
	for i, l := range q.Lanes {
		lanes[l.Lane] = i
	}
	require.Contains(t, lanes, pony.Runtime.Lane)
	pl := q.Lanes[lanes[pony.Runtime.Lane]]
	require.Equal(t, "dedicated", pl.Kind)
	require.Equal(t, []string{"pony"}, pl.Models)
	require.Empty(t, pl.Pollers)
	require.Equal(t, 1, pl.Pending)
	require.GreaterOrEqual(t, pl.OldestAge, 59.0)
	require.Contains(t, lanes, shared.TaskQueue)
	sl := q.Lanes[lanes[shared.TaskQueue]]
	require.Equal(t, "shared", sl.Kind)
	require.NotNil(t, sl.Depth)
	require.Equal(t, shared.MaxDepth, *sl.MaxDepth)

	// A done task has nothing to explain; a record without a workflow says so.
	orphan := e.storedTask()
	code, body, _ = e.admin("GET", "/admin/tasks/"+orphan+"/why", nil, cookie)
	require.Equal(t, http.StatusOK, code, string(body))
	require.Contains(t, string(body), "has no workflow")
	code, body, _ = e.admin("GET", "/admin/tasks/"+uuid.NewString()+"/why", nil, cookie)
	require.Equal(t, http.StatusNotFound, code, string(body))
	code, _, _ = e.do("GET", "/admin/queues", nil, nil)
	require.Equal(t, http.StatusUnauthorized, code, "the API key opens no admin route")

	code, body, _ = e.do("DELETE", "/tasks/"+id, nil, nil)
	require.Equal(t, http.StatusAccepted, code, string(body))
}

func TestQueueWhyExplainsARunningTaskWithItsStep(t *testing.T) {
	e, cookie := maintenanceSetup(t, envOptions{gpuModels: []string{"pony"}})
	code, body, _ := e.do("POST", "/generate", map[string]any{
		"model": "pony", "prompt": "slow", "width": 512, "height": 512, "steps": 60,
	}, nil)
	require.Equal(t, http.StatusAccepted, code, string(body))
	var accepted acceptedTask
	require.NoError(t, json.Unmarshal(body, &accepted))
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body, _ := e.admin("GET", "/admin/tasks/"+accepted.TaskID+"/why", nil, cookie)
		require.Equal(t, http.StatusOK, code, string(body))
		var w struct {
			Explanation string `json:"explanation"`
		}
		require.NoError(t, json.Unmarshal(body, &w))
		if strings.Contains(w.Explanation, "is running it: ") && strings.Contains(w.Explanation, "/60") {
			require.Regexp(t, `A worker \(.+\) is running it: \w+ step \d+/60 \(\d+%\)\.`, w.Explanation)
			break
		}
		require.True(t, time.Now().Before(deadline), "never explained as running: %s", body)
		time.Sleep(50 * time.Millisecond)
	}
	e.waitTerminal(accepted.TaskID, time.Minute)
}

func TestMaintenanceSchedulesAreCreatedIdempotently(t *testing.T) {
	t.Parallel()
	tc, err := temporalServer.NewClient()
	require.NoError(t, err)
	defer tc.Close()
	prefix := "test-schedules-" + uuid.NewString()[:8] + "-"
	ctx := t.Context()
	logger := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	require.NoError(t, stack.EnsureSchedules(ctx, tc, prefix, prefix+"control", logger))
	t.Cleanup(func() {
		for _, s := range stack.MaintenanceSchedules() {
			_ = tc.ScheduleClient().GetHandle(context.Background(), stack.ScheduleID(prefix, s.Name)).Delete(context.Background())
		}
	})
	require.NoError(t, stack.EnsureSchedules(ctx, tc, prefix, prefix+"control", logger), "a second start keeps the schedules")
	for _, s := range stack.MaintenanceSchedules() {
		desc, err := tc.ScheduleClient().GetHandle(ctx, stack.ScheduleID(prefix, s.Name)).Describe(ctx)
		require.NoError(t, err, s.Name)
		action, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction)
		require.True(t, ok)
		require.Equal(t, workflows.MaintenanceWorkflow(s.Name), action.Workflow)
		require.Equal(t, prefix+"control", action.TaskQueue)
		require.Equal(t, prefix+workflows.MaintenanceWorkflowID(s.Name), action.ID)
		require.Equal(t, enums.SCHEDULE_OVERLAP_POLICY_SKIP, desc.Schedule.Policy.Overlap)
		require.Equal(t, s.Every, desc.Schedule.Spec.Intervals[0].Every)
	}
}

func TestMaintenanceAuditRetentionDeletesOnlyOldRows(t *testing.T) {
	e, cookie := maintenanceSetup(t, envOptions{noGPUWorker: true})
	_, err := e.store.Pool().Exec(t.Context(), `insert into admin_audit (at, action, outcome) values
		(now() - interval '100 days', 'old.one', 'success'), (now() - interval '10 days', 'recent.one', 'success')`)
	require.NoError(t, err)

	var res workflows.AuditRetentionResult
	e.runMaintenance(cookie, "audit-retention", nil, &res)
	require.Equal(t, int64(1), res.Deleted, "the default retention is 90 days")
	require.WithinDuration(t, time.Now().Add(-90*24*time.Hour), res.Before, time.Minute)
	rows := strings.Join(e.rawRows("admin_audit"), "\n")
	require.NotContains(t, rows, "old.one")
	require.Contains(t, rows, "recent.one")

	e.runMaintenance(cookie, "audit-retention", map[string]any{"retention_days": 5}, &res)
	require.Equal(t, int64(1), res.Deleted)
	require.NotContains(t, strings.Join(e.rawRows("admin_audit"), "\n"), "recent.one")
}

func TestMaintenanceSecondStartJoinsTheRunInFlight(t *testing.T) {
	// No GPU worker: the warm-up waits for one, so it is still running at the second start.
	e, cookie := maintenanceSetup(t, envOptions{noGPUWorker: true})
	start := func() maintenanceStarted {
		code, body, _ := e.admin("POST", "/admin/maintenance/warmup", map[string]any{"models": []string{"pony"}}, cookie)
		require.Equal(t, http.StatusAccepted, code, string(body))
		var s maintenanceStarted
		require.NoError(t, json.Unmarshal(body, &s))
		return s
	}
	first := start()
	require.False(t, first.Joined)
	t.Cleanup(func() {
		_ = e.temporal.TerminateWorkflow(context.Background(), first.WorkflowID, first.RunID, "test over")
	})
	second := start()
	require.True(t, second.Joined)
	require.Equal(t, first.WorkflowID, second.WorkflowID)
	require.Equal(t, first.RunID, second.RunID, "a second start never doubles the work")
}
