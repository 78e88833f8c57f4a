package stack_test

// Nothing is lost under faults: each test submits real generations through the HTTP API,
// injects a fault while they run, and checks with requireNothingLost that every task ended done
// with exactly one record, one result and one preview, that its workflow ran once, and that the
// record agrees with the workflow's outcome.

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/gooni/gooni/internal/devtemporal"
	"github.com/gooni/gooni/internal/pgcluster"
	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/internal/temporalsetup"
	"github.com/gooni/gooni/workflows"
)

// faultHold is how long a fault lasts.
const faultHold = 3 * time.Second

// TestKillNineOfTheGPUWorkerMidRunRetriesOnANewWorkerAndLosesNothing: the GPU worker is its own
// OS process (the test binary in GPU-worker mode, its runner a grandchild). SIGKILL while a
// 60-step pony runs: the orphaned runner exits by itself (its stdin closes), a new worker process
// starts, the heartbeat timeout (5 s in this catalogue) makes Temporal retry the attempt there,
// and the task ends done from attempt 2 with one result; the task queued behind it runs once.
func TestKillNineOfTheGPUWorkerMidRunRetriesOnANewWorkerAndLosesNothing(t *testing.T) {
	began := time.Now()
	e := newFaultEnv(t, faultOptions{edit: func(s string) string {
		// A lost worker is noticed after 5 s instead of 30.
		return strings.ReplaceAll(s, `"heartbeat": "30s"`, `"heartbeat": "5s"`)
	}})
	e.startControl()
	e.startAPI()
	first := e.startGPUProcess("gpu-worker-1", "pony")

	running := e.submit(pony("killed mid-run", 60))
	queued := e.submit(pony("queued behind it", 60))
	_, s := e.midRun(running)
	runners := childPIDs(first.pid())
	require.NotEmpty(t, runners, "the worker runs its runner as a child process")
	t.Cleanup(func() { // whatever the outcome, no runner outlives the test
		for _, pid := range runners {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	killedAt := time.Now()
	first.kill9()
	t.Logf("killed worker pid %d at %s (%.0f%%, %s); runners %v", first.pid(), killedAt.Sub(began).Round(time.Millisecond), s.Progress, s.StageDetail, runners)

	// The orphaned runner cannot deliver anything (the artifacts are stored by the worker) and
	// stops on its own once its stdin closes.
	require.Eventually(t, func() bool {
		for _, pid := range runners {
			if alive(pid) {
				return false
			}
		}
		return true
	}, 10*time.Second, 20*time.Millisecond, "the killed worker's runner exits")
	t.Logf("runner gone %s after the kill", time.Since(killedAt).Round(time.Millisecond))

	e.startGPUProcess("gpu-worker-2", "pony")
	ids := []string{running, queued}
	e.waitAllEnded(ids, 50*time.Second)
	t.Logf("both tasks ended %s after the kill", time.Since(killedAt).Round(time.Millisecond))
	tasks, runs := e.requireNothingLost(ids)
	require.GreaterOrEqual(t, runs[running].attempt, int32(2), "the killed attempt was retried")
	require.GreaterOrEqual(t, tasks[running].Attempt, 2)
	require.Equal(t, int32(1), runs[queued].attempt, "the queued task never ran on the killed worker")
	require.Empty(t, startFactsProblems(tasks, runs))
	t.Logf("total %s", time.Since(began).Round(time.Millisecond))
}

// TestRestartOfTheAPIAndTheControlWorkerWithTasksInFlightLosesNothing: the API and the control
// worker stop while a task runs and two wait; the GPU worker goes on, so the first task's model
// run ends while nobody can record it and the next one starts. A new API (another port, its own
// pool and client) accepts a task while the control worker is still away, then a new control
// worker on the same queue finishes everything, and the new API serves every status and result.
func TestRestartOfTheAPIAndTheControlWorkerWithTasksInFlightLosesNothing(t *testing.T) {
	began := time.Now()
	e := newFaultEnv(t, faultOptions{})
	e.startGPU("pony")
	stopControl := e.startControl()
	stopAPI := e.startAPI()
	oldURL := e.baseURL

	ids := []string{e.submit(pony("in flight 1", 40)), e.submit(pony("in flight 2", 40)), e.submit(pony("in flight 3", 40))}
	inFlight, _ := e.midRun(ids...)
	stoppedAt := time.Now()
	stopAPI()
	stopControl()
	t.Logf("API and control worker stopped at %s (in %s)", stoppedAt.Sub(began).Round(time.Millisecond), time.Since(stoppedAt).Round(time.Millisecond))
	requireUnreachable(t, oldURL)

	// The GPU worker goes on: the running model run ends (its finish waits for a control
	// worker) and the next one starts.
	ctx := context.Background()
	require.Eventually(t, func() bool {
		for _, id := range others(ids, inFlight) {
			if task, err := e.check.GetTask(ctx, id); err == nil && task.Status == store.StatusProcessing {
				return true
			}
		}
		return false
	}, 20*time.Second, 20*time.Millisecond, "the next task starts on the GPU worker while the control worker is away")
	first, err := e.check.GetTask(ctx, inFlight)
	require.NoError(t, err)
	require.Equal(t, store.StatusProcessing, first.Status, "nobody recorded the first task's end yet")
	time.Sleep(time.Until(stoppedAt.Add(faultHold)))

	e.startAPI()
	late := e.submit(pony("submitted while the control worker is away", 20))
	s, err := e.status(late)
	require.NoError(t, err)
	require.Equal(t, store.StatusPending, s.Status)
	restartedAt := time.Now()
	e.startControl()
	t.Logf("new API and control worker up %s after the stop", restartedAt.Sub(stoppedAt).Round(time.Millisecond))

	ids = append(ids, late)
	e.waitAllEnded(ids, 50*time.Second)
	t.Logf("all tasks ended %s after the restart", time.Since(restartedAt).Round(time.Millisecond))
	tasks, runs := e.requireNothingLost(ids)
	require.Empty(t, startFactsProblems(tasks, runs))
	t.Logf("total %s", time.Since(began).Round(time.Millisecond))
}

// TestRestartOfTheTemporalServerWithTasksInFlightLosesNothing: a dev Temporal server of the
// test's own (SQLite file in its own directory) stops while a task runs and two wait, and starts
// again on the same directory and port. The SDK clients and workers created before the restart
// reconnect by themselves; a submission made while the server is away is either refused with
// 503 orchestrator_unavailable and leaves no record, or accepted and run.
func TestRestartOfTheTemporalServerWithTasksInFlightLosesNothing(t *testing.T) {
	began := time.Now()
	ports, err := devtemporal.FreePorts(devtemporal.DefaultHost, 1)
	require.NoError(t, err)
	cfg := devtemporal.Config{
		DataDir:          t.TempDir(),
		Port:             ports[0],
		SearchAttributes: temporalsetup.SearchAttributes(),
		Logger:           slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	}
	startServer := func() *devtemporal.Server {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		srv, err := devtemporal.Start(ctx, cfg)
		require.NoError(t, err)
		return srv
	}
	srv := startServer()
	t.Cleanup(func() { srv.Stop() }) // registered before the parts: stops after them
	t.Logf("temporal server up in %s", time.Since(began).Round(time.Millisecond))

	e := newFaultEnv(t, faultOptions{temporalAddr: srv.FrontendAddress(), namespace: srv.Namespace()})
	e.startGPU("pony")
	e.startControl()
	e.startAPI()
	ids := []string{e.submit(pony("in flight 1", 40)), e.submit(pony("in flight 2", 40)), e.submit(pony("in flight 3", 40))}
	inFlight, _ := e.midRun(ids...)

	stoppedAt := time.Now()
	srv.Stop()
	t.Logf("temporal server stopped in %s", time.Since(stoppedAt).Round(time.Millisecond))
	type answer struct {
		code int
		body []byte
		err  error
	}
	during := make(chan answer, 1)
	go func() {
		code, body, err := e.request(&http.Client{Timeout: 90 * time.Second}, "POST", "/generate", pony("submitted while temporal is away", 20))
		during <- answer{code, body, err}
	}()
	time.Sleep(faultHold)
	srv = startServer()
	restartedAt := time.Now()
	t.Logf("temporal server back %s after the stop", restartedAt.Sub(stoppedAt).Round(time.Millisecond))

	var a answer
	select {
	case a = <-during:
	case <-time.After(60 * time.Second):
		t.Fatal("the submission made while temporal was away got no answer within 60s of the restart")
	}
	require.NoError(t, a.err)
	switch a.code {
	case http.StatusAccepted:
		var accepted acceptedTask
		require.NoError(t, json.Unmarshal(a.body, &accepted))
		ids = append(ids, accepted.TaskID)
		t.Logf("the submission made during the outage was accepted")
	case http.StatusServiceUnavailable:
		require.Equal(t, "orchestrator_unavailable", decodeEnvelope(t, a.body).Code)
		t.Logf("the submission made during the outage was refused: %s", a.body)
	default:
		t.Fatalf("submission during the outage: %d %s", a.code, a.body)
	}

	e.waitAllEnded(ids, 50*time.Second)
	t.Logf("all tasks ended %s after the restart", time.Since(restartedAt).Round(time.Millisecond))
	tasks, runs := e.requireNothingLost(ids) // a refused submission left no record: one record per accepted task
	require.Empty(t, startFactsProblems(tasks, runs))
	// The run in flight survives an outage shorter than the heartbeat throttle (2 s): the SDK
	// gives a heartbeat RPC max(throttle, 1 s) and cancels the activity when it fails; Temporal
	// then retries it from the start once the server is back. Either way nothing is lost.
	t.Logf("the run in flight ended from attempt %d", runs[inFlight].attempt)
	t.Logf("total %s", time.Since(began).Round(time.Millisecond))
}

// TestPostgresUnavailableMidRunLosesNothing: a PostgreSQL cluster of the test's own stops (fast
// shutdown: every connection drops) while a task runs and two wait, and stays away at least 3 s
// and until the next task's model run has started; then it starts again on the same directory
// and port. Meanwhile progress reports and the first task's finish fail; the GPU worker goes on,
// the finish is retried by the workflow's bounded policy, and every record ends right.
func TestPostgresUnavailableMidRunLosesNothing(t *testing.T) {
	began := time.Now()
	ports, err := devtemporal.FreePorts("127.0.0.1", 1)
	require.NoError(t, err)
	cfg := pgcluster.Config{
		Dir:      filepath.Join(t.TempDir(), "pg"),
		Port:     ports[0],
		Database: "gooni",
		Fast:     true,
		Attached: true,
	}
	startCluster := func() *pgcluster.Cluster {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgcluster.Start(ctx, cfg)
		require.NoError(t, err)
		return c
	}
	stopCluster := func(c *pgcluster.Cluster) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return c.Stop(ctx)
	}
	cluster := startCluster()
	t.Cleanup(func() { _ = stopCluster(cluster) }) // registered before the parts: stops after them
	t.Logf("postgres up in %s", time.Since(began).Round(time.Millisecond))

	e := newFaultEnv(t, faultOptions{dsn: cluster.URL(cfg.Database)})
	e.startGPU("pony")
	e.startControl()
	e.startAPI()
	ids := []string{e.submit(pony("in flight 1", 40)), e.submit(pony("in flight 2", 40)), e.submit(pony("in flight 3", 40))}
	inFlight, _ := e.midRun(ids...)

	stoppedAt := time.Now()
	require.NoError(t, stopCluster(cluster))
	t.Logf("postgres stopped in %s", time.Since(stoppedAt).Round(time.Millisecond))
	// Hold the outage until the next task's model run started without a database (its start
	// and progress reports fail), and at least faultHold.
	require.Eventually(t, func() bool {
		for _, id := range others(ids, inFlight) {
			if runStarted(t, e, id) {
				return true
			}
		}
		return false
	}, 20*time.Second, 20*time.Millisecond, "the next task starts on the GPU worker while the database is away")
	t.Logf("next task started on the GPU %s into the outage", time.Since(stoppedAt).Round(time.Millisecond))
	time.Sleep(time.Until(stoppedAt.Add(faultHold)))
	cluster = startCluster()
	restartedAt := time.Now()
	t.Logf("postgres back %s after the stop", restartedAt.Sub(stoppedAt).Round(time.Millisecond))

	e.waitAllEnded(ids, 50*time.Second)
	t.Logf("all tasks ended %s after the restart", time.Since(restartedAt).Round(time.Millisecond))
	tasks, runs := e.requireNothingLost(ids)
	t.Logf("total %s", time.Since(began).Round(time.Millisecond))
	// The attempt's start report may have failed while PostgreSQL was away; the finish restates
	// the attempt and its start time, so the record still agrees with the workflow.
	require.Empty(t, startFactsProblems(tasks, runs))
}

// runStarted reports whether a worker started the task's model run (Temporal's view: the
// database may be away).
func runStarted(t *testing.T, e *faultEnv, taskID string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	desc, err := e.checkTemporal.DescribeWorkflowExecution(ctx, workflows.WorkflowID(taskID), "")
	if err != nil {
		t.Logf("describe %s: %v", taskID, err)
		return false
	}
	for _, pa := range desc.GetPendingActivities() {
		if pa.GetActivityType().GetName() == workflows.RunGenerationActivity && pa.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED {
			return true
		}
	}
	return false
}
