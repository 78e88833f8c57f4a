package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/gooni/gooni/activities/control"
	"github.com/gooni/gooni/api"
	"github.com/gooni/gooni/internal/artifact"
	"github.com/gooni/gooni/internal/pgtest"
	"github.com/gooni/gooni/internal/stack"
	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/settings"
	"github.com/gooni/gooni/workers"
	"github.com/gooni/gooni/workflows"
)

// faultRunnerEnv paces the CPU runner of the fault tests like the harness's (setup) runners.
var faultRunnerEnv = []string{runnerEnv + "=1", "GORACE=atexit_sleep_ms=0",
	"GOONI_CPU_RUNNER_STEP_DELAY=40ms", "GOONI_CPU_RUNNER_LOAD_DELAY=50ms"}

// faultEnv is a Gooni stack for fault tests, assembled from parts that start and stop one by one
// like the processes of a deployment: the API, the control worker and the GPU worker each get
// their own database pool and Temporal client. What stays is the configuration they share (the
// catalogue with lanes of the test's own, the database, the artifact directory, the control
// queue, the Temporal address) and the test's own connections for checking the outcome.
type faultEnv struct {
	t            *testing.T
	cat          *settings.Catalogue
	catPath      string // the catalogue as a file, for worker processes
	dsn          string
	artsDir      string
	arts         *artifact.Local
	controlQueue string
	temporalAddr string
	namespace    string
	log          *faultLog
	logger       *slog.Logger
	// check and checkTemporal are the test's own connections, used only to check outcomes.
	check         *store.Store
	checkTemporal client.Client
	// baseURL is the API started last.
	baseURL string
	http    *http.Client
}

type faultOptions struct {
	// temporalAddr and namespace default to the package's shared server.
	temporalAddr, namespace string
	// dsn defaults to a schema of the test's own (pgtest.NewSchema). It is migrated.
	dsn string
	// edit changes the catalogue JSON (after the lanes got the test's prefix).
	edit func(string) string
}

// newFaultEnv prepares a stack's shared configuration; start its parts with startAPI,
// startControl, startGPU and startGPUProcess.
func newFaultEnv(t *testing.T, opts faultOptions) *faultEnv {
	t.Helper()
	log := &faultLog{t: t}
	t.Cleanup(log.close) // registered first: runs last, after every part stopped
	e := &faultEnv{
		t:            t,
		log:          log,
		logger:       slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelInfo})),
		temporalAddr: opts.temporalAddr,
		namespace:    opts.namespace,
		dsn:          opts.dsn,
		http:         &http.Client{Timeout: 10 * time.Second},
	}
	if e.temporalAddr == "" {
		e.temporalAddr, e.namespace = temporalServer.Address(), temporalServer.Namespace()
	}
	prefix := strings.Trim(nonWord.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	raw, err := os.ReadFile("../../settings/inference_settings.json")
	require.NoError(t, err)
	text := strings.ReplaceAll(string(raw), `"gpu-`, `"`+prefix+`-gpu-`)
	if opts.edit != nil {
		text = opts.edit(text)
	}
	e.cat, err = settings.Parse([]byte(text))
	require.NoError(t, err)
	e.catPath = filepath.Join(t.TempDir(), "inference_settings.json")
	require.NoError(t, os.WriteFile(e.catPath, []byte(text), 0o644))
	e.controlQueue = prefix + "-control"

	if e.dsn == "" {
		e.dsn = pgtest.NewSchema(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e.check, err = store.Open(ctx, e.dsn)
	require.NoError(t, err)
	t.Cleanup(e.check.Close)
	require.NoError(t, e.check.Migrate(ctx))

	e.artsDir = t.TempDir()
	e.arts, err = artifact.NewLocal(e.artsDir)
	require.NoError(t, err)
	e.checkTemporal = e.dial("check")
	return e
}

// dial returns a new Temporal client, closed when the test ends unless closed before.
func (e *faultEnv) dial(component string) client.Client {
	e.t.Helper()
	c, err := client.Dial(client.Options{
		HostPort:  e.temporalAddr,
		Namespace: e.namespace,
		Logger:    sdklog.NewStructuredLogger(e.logger.With("component", component+"-temporal-sdk")),
	})
	require.NoError(e.t, err)
	return c
}

// openStore returns a new database pool on the test's database.
func (e *faultEnv) openStore() *store.Store {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, e.dsn)
	require.NoError(e.t, err)
	return st
}

// startAPI starts an API on a new loopback port and makes it the one the test talks to. The
// returned function stops it (also called when the test ends).
func (e *faultEnv) startAPI() (stop func()) {
	e.t.Helper()
	st, tc := e.openStore(), e.dial("api")
	srv, err := api.New(api.Config{APIKey: testAPIKey, ControlQueue: e.controlQueue, Namespace: e.namespace, Logger: e.logger.With("component", "api"),
		GeneratePerMinute: 100_000, MaxActiveTasks: 1000}, // fault tests submit several tasks at once
		api.Deps{Store: st, Temporal: tc, Catalogue: e.cat, Artifacts: e.arts})
	require.NoError(e.t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(e.t, err)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	e.baseURL = "http://" + ln.Addr().String()
	stop = sync.OnceFunc(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			e.t.Logf("api shutdown: %v", err)
		}
		<-served
		tc.Close()
		st.Close()
	})
	e.t.Cleanup(stop)
	return stop
}

// startControl starts a control worker on the test's control queue.
func (e *faultEnv) startControl() (stop func()) {
	e.t.Helper()
	st, tc := e.openStore(), e.dial("control")
	w, err := stack.StartControlWorker(tc, e.controlQueue, st, e.arts, control.Config{Logger: e.logger.With("component", "control")})
	require.NoError(e.t, err)
	stop = sync.OnceFunc(func() {
		w.Stop()
		tc.Close()
		st.Close()
	})
	e.t.Cleanup(stop)
	return stop
}

// startGPU starts an in-process GPU worker serving models' lanes, its runners real child
// processes.
func (e *faultEnv) startGPU(models ...string) (stop func()) {
	e.t.Helper()
	st, tc := e.openStore(), e.dial("gpu")
	exe, err := os.Executable()
	require.NoError(e.t, err)
	g, err := stack.StartGPUWorker(tc, e.cat, e.arts, workers.StoreReporter{Store: st}, stack.GPUWorkerConfig{
		Models:        models,
		RunnerName:    "cpu",
		RunnerCommand: []string{exe},
		RunnerEnv:     faultRunnerEnv,
		WorkDir:       e.t.TempDir(),
		Logger:        e.logger.With("component", "gpu"),
	})
	require.NoError(e.t, err)
	stop = sync.OnceFunc(func() {
		g.Stop()
		tc.Close()
		st.Close()
	})
	e.t.Cleanup(stop)
	return stop
}

// pony is a pony txt2img of steps steps (40 ms each on the test runner).
func pony(prompt string, steps int) map[string]any {
	return map[string]any{"model": "pony", "mode": "txt2img", "prompt": prompt, "width": 512, "height": 512, "steps": steps}
}

// request sends a request to the current API with the key; err is a transport error.
func (e *faultEnv) request(hc *http.Client, method, p string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.baseURL+p, r)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", testAPIKey)
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// submit posts a generation and returns its task id.
func (e *faultEnv) submit(req map[string]any) string {
	e.t.Helper()
	code, body, err := e.request(e.http, "POST", "/generate", req)
	require.NoError(e.t, err)
	require.Equal(e.t, http.StatusAccepted, code, string(body))
	var accepted acceptedTask
	require.NoError(e.t, json.Unmarshal(body, &accepted))
	require.NotEmpty(e.t, accepted.TaskID)
	return accepted.TaskID
}

// status reads GET /status; an error is a transport error or an answer other than 200 (the
// API may be down or its database away while a fault lasts).
func (e *faultEnv) status(id string) (status, error) {
	code, body, err := e.request(e.http, "GET", "/status/"+id, nil)
	if err != nil {
		return status{}, err
	}
	if code != http.StatusOK {
		return status{}, fmt.Errorf("GET /status/%s: %d %s", id, code, body)
	}
	var s status
	err = json.Unmarshal(body, &s)
	return s, err
}

// waitStatus polls GET /status until cond holds, failing the test after timeout.
func (e *faultEnv) waitStatus(id string, timeout time.Duration, what string, cond func(status) bool) status {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	var last status
	var lastErr error
	for time.Now().Before(deadline) {
		s, err := e.status(id)
		if err == nil {
			last = s
			if cond(s) {
				return s
			}
		}
		lastErr = err
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("task %s: %s: not within %s; last status %+v, last error %v", id, what, timeout, last, lastErr)
	return status{}
}

// midRun waits until one of the tasks is processing between 5% and 50% of its steps and
// returns its id and status. (Temporal does not promise to start queued tasks in the order they
// were submitted.)
func (e *faultEnv) midRun(ids ...string) (string, status) {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, id := range ids {
			s, err := e.status(id)
			if err == nil && s.Status == store.StatusProcessing && s.Progress >= 10 && s.Progress <= 50 {
				return id, s
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.t.Fatalf("none of %v was mid-run within 30s", ids)
	return "", status{}
}

// others returns ids without id.
func others(ids []string, id string) []string {
	out := make([]string, 0, len(ids))
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

// waitAllEnded waits until every task ends (done, failed or cancelled) and returns their final
// statuses.
func (e *faultEnv) waitAllEnded(ids []string, timeout time.Duration) map[string]status {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	out := make(map[string]status, len(ids))
	for _, id := range ids {
		s := e.waitStatus(id, time.Until(deadline), "end", func(s status) bool { return store.IsTerminal(s.Status) })
		out[id] = s
	}
	return out
}

// runFacts is what a task's workflow history says about its run.
type runFacts struct {
	scheduled map[string]int // activity type → times scheduled
	completed map[string]int // activity type → times completed
	// attempt is the attempt of RunGeneration that ended the activity (retries of an activity
	// are not events of their own: the started event carries the attempt that counted).
	attempt int32
}

// historyFacts reads a workflow's history.
func historyFacts(ctx context.Context, tc client.Client, workflowID string) (runFacts, error) {
	f := runFacts{scheduled: map[string]int{}, completed: map[string]int{}}
	types := map[int64]string{}
	iter := tc.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			return f, err
		}
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			name := ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()
			types[ev.GetEventId()] = name
			f.scheduled[name]++
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			a := ev.GetActivityTaskStartedEventAttributes()
			if types[a.GetScheduledEventId()] == workflows.RunGenerationActivity {
				f.attempt = max(f.attempt, a.GetAttempt())
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			f.completed[types[ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()]]++
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			// FinishTask runs as a local activity: its outcome is a marker.
			if name, failed, ok := workflows.LocalActivityOutcome(ev); ok {
				f.scheduled[name]++
				if !failed {
					f.completed[name]++
				}
			}
		}
	}
	return f, nil
}

// requireNothingLost checks, for the tasks the API accepted, what "nothing lost" means: the
// database holds exactly one record per accepted task and no other; each task ended done and
// the API serves its status, result and preview; its result and preview are the only files
// stored for it; its workflow ran once (one execution with its id, completed, the model run and
// the finish recorded once each); and the record agrees with the workflow's result and with the
// attempt that produced it. It returns each task's record and run.
func (e *faultEnv) requireNothingLost(ids []string) (map[string]*store.Task, map[string]runFacts) {
	t := e.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var rows, workflowIDs int
	require.NoError(t, e.check.Pool().QueryRow(ctx, `select count(*), count(distinct workflow_id) from tasks`).Scan(&rows, &workflowIDs))
	require.Equal(t, len(ids), rows, "one task record per accepted submission, no other")
	require.Equal(t, len(ids), workflowIDs, "one workflow id per record")

	tasks := make(map[string]*store.Task, len(ids))
	runs := make(map[string]runFacts, len(ids))
	for _, id := range ids {
		s, err := e.status(id)
		require.NoError(t, err)
		require.Equal(t, store.StatusDone, s.Status, "task %s: %+v", id, s)
		require.Equal(t, float64(100), s.Progress, "task %s", id)
		require.Empty(t, s.ErrorCode, "task %s", id)
		require.True(t, strings.HasPrefix(s.ResultURL, "/results/"+id+"?exp="), s.ResultURL)

		task, err := e.check.GetTask(ctx, id)
		require.NoError(t, err)
		tasks[id] = task
		require.Equal(t, workflows.WorkflowID(id), task.WorkflowID)
		require.Equal(t, store.StageCompleted, task.Stage)
		require.NotEmpty(t, task.ResultKey)
		require.NotEmpty(t, task.PreviewKey)
		require.NotNil(t, task.FinishedAt, "task %s: finished_at", id)

		// One result and one preview, served by the API.
		for _, dir := range []string{"results", "previews"} {
			entries, err := os.ReadDir(filepath.Join(e.artsDir, dir, id))
			require.NoError(t, err)
			require.Len(t, entries, 1, "task %s: files in %s: %v", id, dir, entries)
		}
		require.Equal(t, path.Base(task.ResultKey), mustReadDirName(t, filepath.Join(e.artsDir, "results", id)))
		stored, err := os.ReadFile(filepath.Join(e.artsDir, filepath.FromSlash(task.ResultKey)))
		require.NoError(t, err)
		code, served, err := e.request(e.http, "GET", "/results/"+id, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, stored, served, "task %s: the API serves the stored result", id)
		code, _, err = e.request(e.http, "GET", "/preview/"+id, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)

		// The workflow ran once and agrees with the record. The record is final a moment before
		// the workflow closes (FinishTask is its last step): wait for its result first.
		wid := workflows.WorkflowID(id)
		var res workflows.GenerationResult
		require.NoError(t, e.checkTemporal.GetWorkflow(ctx, wid, "").Get(ctx, &res))
		desc, err := e.checkTemporal.DescribeWorkflowExecution(ctx, wid, "")
		require.NoError(t, err)
		require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, desc.GetWorkflowExecutionInfo().GetStatus(), "task %s", id)
		require.Equal(t, workflows.GenerationResult{TaskID: id, Status: task.Status, ResultKey: task.ResultKey, PreviewKey: task.PreviewKey, ErrorCode: task.ErrorCode}, res,
			"task %s: the record agrees with the workflow's result", id)
		require.Eventually(t, func() bool {
			resp, err := e.checkTemporal.ListWorkflow(ctx, &workflowpb.ListWorkflowExecutionsRequest{
				Query: fmt.Sprintf("WorkflowId = '%s'", wid)})
			return err == nil && len(resp.Executions) > 0 &&
				resp.Executions[0].GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
		}, 10*time.Second, 50*time.Millisecond, "task %s: the run is listed as completed", id)
		resp, err := e.checkTemporal.ListWorkflow(ctx, &workflowpb.ListWorkflowExecutionsRequest{Query: fmt.Sprintf("WorkflowId = '%s'", wid)})
		require.NoError(t, err)
		require.Len(t, resp.Executions, 1, "task %s: its workflow ran once", id)

		facts, err := historyFacts(ctx, e.checkTemporal, wid)
		require.NoError(t, err)
		runs[id] = facts
		require.Equal(t, 1, facts.scheduled[workflows.RunGenerationActivity], "task %s: %+v", id, facts)
		require.Equal(t, 1, facts.completed[workflows.RunGenerationActivity], "task %s: %+v", id, facts)
		require.Equal(t, 1, facts.completed[workflows.FinishTaskActivity], "task %s: %+v", id, facts)
		require.Zero(t, facts.scheduled[workflows.FailTaskActivity], "task %s: %+v", id, facts)
	}
	return tasks, runs
}

// startFactsProblems lists where a finished record misses how its run started: started_at, and
// the attempt that produced the result (as the workflow's history says).
func startFactsProblems(tasks map[string]*store.Task, runs map[string]runFacts) []string {
	var problems []string
	for id, task := range tasks {
		if task.StartedAt == nil {
			problems = append(problems, fmt.Sprintf("task %s (%s): started_at is NULL", id, task.Status))
		}
		if want := int(runs[id].attempt); task.Attempt != want {
			problems = append(problems, fmt.Sprintf("task %s (%s): attempt %d in the record, %d in the workflow history", id, task.Status, task.Attempt, want))
		}
	}
	return problems
}

func mustReadDirName(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	return entries[0].Name()
}

// requireUnreachable checks that nothing answers at baseURL any more.
func requireUnreachable(t *testing.T, baseURL string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(baseURL + "/health")
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err, "%s still answers", baseURL)
	var opErr *net.OpError
	require.True(t, errors.As(err, &opErr), "%v", err)
}

// faultLog sends log lines to t.Log while the test runs (and drops them once it ended, so a
// late line from a stopping component cannot panic the test binary).
type faultLog struct {
	t      *testing.T
	mu     sync.Mutex
	closed bool
	buf    bytes.Buffer
}

func (w *faultLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if !w.closed {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *faultLog) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func (w *faultLog) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}
