//go:build prodtest

package prodtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/gooni/gooni/internal/pgcluster"
	"github.com/gooni/gooni/workflows"
)

const apiKey = "prodtest-key-0123456789abcdef"

// topology is the running production shape.
type topology struct {
	t        *testing.T
	bins     string // directory of the built binaries
	env      []string
	apis     []string // base URLs
	temporal client.Client
	db       *pgx.Conn
	arts     string
}

// buildBinaries builds gooni and gooni-temporal into dir, in parallel.
func buildBinaries(t *testing.T, dir string) {
	t.Helper()
	errs := make(chan error, 2)
	for _, pkg := range []string{"gooni", "gooni-temporal"} {
		go func() {
			cmd := exec.Command("go", "build", "-o", filepath.Join(dir, pkg), "./cmd/"+pkg)
			cmd.Dir = ".."
			out, err := cmd.CombinedOutput()
			if err != nil {
				err = fmt.Errorf("go build ./cmd/%s: %v\n%s", pkg, err, out)
			}
			errs <- err
		}()
	}
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
}

// TestProductionTopologyLosesNothingWhenGPUWorkersStopOrDie runs the production shape as
// separate processes, submits generations to both APIs, stops one GPU worker gracefully
// (SIGTERM) while it runs a generation and kills the other (SIGKILL) while it runs one, starts a
// replacement, and checks that every generation was done exactly once.
func TestProductionTopologyLosesNothingWhenGPUWorkersStopOrDie(t *testing.T) {
	began := time.Now()
	tmp := t.TempDir()
	bins := filepath.Join(tmp, "bin")
	buildStart := time.Now()
	buildBinaries(t, bins)
	t.Logf("TIMING build binaries: %s", time.Since(buildStart).Round(time.Millisecond))

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ports := freePorts(t, 16)
	cluster, err := pgcluster.Start(ctx, pgcluster.Config{Dir: filepath.Join(tmp, "pg"), Port: ports[0], Fast: true, Attached: true,
		Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = cluster.Stop(context.Background()) })

	// Temporal on PostgreSQL, its own process.
	tStart := time.Now()
	temporalAddr := fmt.Sprintf("127.0.0.1:%d", ports[1])
	ready := make(chan struct{}, 1)
	tp := start(t, "temporal", filepath.Join(bins, "gooni-temporal"), nil, []string{
		"TEMPORAL_DB_URL=" + cluster.URL("postgres"),
		"TEMPORAL_PORT=" + strconv.Itoa(ports[1]), "TEMPORAL_HISTORY_PORT=" + strconv.Itoa(ports[2]),
		"TEMPORAL_MATCHING_PORT=" + strconv.Itoa(ports[3]), "TEMPORAL_WORKER_PORT=" + strconv.Itoa(ports[4]),
		"TEMPORAL_HTTP_PORT=" + strconv.Itoa(ports[5]), "TEMPORAL_NUM_HISTORY_SHARDS=4",
	}, func(line string) {
		if line == "temporal ready" {
			select {
			case ready <- struct{}{}:
			default:
			}
		}
	})
	select {
	case <-ready:
	case <-tp.done:
		t.Fatalf("gooni-temporal exited: %v\n%s", tp.err, tp.logs)
	case <-time.After(90 * time.Second):
		t.Fatalf("gooni-temporal not ready within 90s:\n%s", tp.logs)
	}
	t.Logf("TIMING temporal on postgres ready: %s", time.Since(tStart).Round(time.Millisecond))
	var dbs []string
	db, err := pgx.Connect(ctx, cluster.URL("postgres"))
	require.NoError(t, err)
	rows, err := db.Query(ctx, `select datname from pg_database order by 1`)
	require.NoError(t, err)
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		dbs = append(dbs, n)
	}
	require.NoError(t, rows.Err())
	_ = db.Close(ctx)
	require.Subset(t, dbs, []string{"gooni", "temporal", "temporal_visibility"}, "one cluster holds the app's and Temporal's databases")

	// A catalogue with a short heartbeat, so the killed worker's generation is retried quickly.
	raw, err := os.ReadFile("../settings/inference_settings.json")
	require.NoError(t, err)
	catPath := filepath.Join(tmp, "catalogue.json")
	require.NoError(t, os.WriteFile(catPath, []byte(strings.ReplaceAll(string(raw), `"heartbeat": "30s"`, `"heartbeat": "3s"`)), 0o644))

	dataDir := filepath.Join(tmp, "data")
	topo := &topology{t: t, bins: bins, arts: filepath.Join(dataDir, "artifacts")}
	topo.env = []string{
		"API_KEY=" + apiKey, "DATABASE_URL=" + cluster.URL("gooni"), "TEMPORAL_ADDRESS=" + temporalAddr,
		"GOONI_DATA_DIR=" + dataDir, "GOONI_SETTINGS=" + catPath, "GOONI_LOG_FORMAT=json",
		"GOONI_RATE_GENERATE_PER_MIN=10000", "GOONI_MAX_ACTIVE_TASKS=10000",
		"GOONI_CPU_RUNNER_STEP_DELAY=120ms", "GOONI_CPU_RUNNER_LOAD_DELAY=50ms",
		"GOONI_WORKER_STOP_TIMEOUT=60s",
	}
	gooni := filepath.Join(bins, "gooni")
	migrate := exec.Command(gooni, "migrate")
	migrate.Env = append(os.Environ(), topo.env...)
	out, err := migrate.CombinedOutput()
	require.NoError(t, err, "gooni migrate: %s", out)

	procStart := time.Now()
	control := start(t, "control", gooni, []string{"worker", "control"}, append(topo.env, fmt.Sprintf("GOONI_WORKER_HTTP_ADDR=127.0.0.1:%d", ports[6])), nil)
	var apiProcs []*proc
	for i := range 2 {
		p := start(t, fmt.Sprintf("api%d", i+1), gooni, []string{"api"}, append(topo.env,
			fmt.Sprintf("GOONI_HTTP_ADDR=127.0.0.1:%d", ports[7+i]), fmt.Sprintf("GOONI_API_METRICS_ADDR=127.0.0.1:%d", ports[9+i])), nil)
		apiProcs = append(apiProcs, p)
		topo.apis = append(topo.apis, fmt.Sprintf("http://127.0.0.1:%d", ports[7+i]))
	}
	gpuA := startGPU(t, gooni, "gpuA", topo.env, ports[11])
	gpuB := startGPU(t, gooni, "gpuB", topo.env, ports[12])
	waitHTTP(t, control, fmt.Sprintf("http://127.0.0.1:%d/readyz", ports[6]), 200, 60*time.Second)
	for i, p := range apiProcs {
		waitHTTP(t, p, topo.apis[i]+"/ready", 200, 60*time.Second)
		waitHTTP(t, p, fmt.Sprintf("http://127.0.0.1:%d/readyz", ports[9+i]), 200, 10*time.Second)
	}
	waitHTTP(t, gpuA, fmt.Sprintf("http://127.0.0.1:%d/readyz", ports[11]), 200, 60*time.Second)
	waitHTTP(t, gpuB, fmt.Sprintf("http://127.0.0.1:%d/readyz", ports[12]), 200, 60*time.Second)
	t.Logf("TIMING gooni processes ready: %s", time.Since(procStart).Round(time.Millisecond))

	topo.temporal, err = client.DialContext(ctx, client.Options{HostPort: temporalAddr, Namespace: "default",
		Logger: nopLogger{}})
	require.NoError(t, err)
	t.Cleanup(topo.temporal.Close)
	topo.db, err = pgx.Connect(ctx, cluster.URL("gooni"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = topo.db.Close(context.Background()) })

	// Generations to both APIs: ~2.5 s each on the CPU runner, one at a time per worker.
	runStart := time.Now()
	var ids []string
	for i := range 10 {
		ids = append(ids, topo.submit(topo.apis[i%2], i))
	}

	// SIGTERM worker A while it runs a generation: it finishes that one, takes no more, exits 0.
	drained := topo.waitRunningOn(ctx, gpuA.pid(), ids)
	stopStart := time.Now()
	require.NoError(t, gpuA.signal(syscall.SIGTERM, 70*time.Second), "gpuA exits cleanly on SIGTERM:\n%s", gpuA.logs)
	t.Logf("TIMING gpuA graceful stop (finished its running generation): %s", time.Since(stopStart).Round(time.Millisecond))
	require.Contains(t, gpuA.logs.String(), "gpu worker stopped")
	require.Eventually(t, func() bool { return topo.dbStatus(ctx, drained) == "done" }, 20*time.Second, 100*time.Millisecond,
		"the generation running on the stopped worker ends done")
	require.True(t, strings.HasPrefix(topo.completedBy(ctx, drained), strconv.Itoa(gpuA.pid())+"@"),
		"the stopping worker finished its running generation itself (completed by %q)", topo.completedBy(ctx, drained))

	// SIGKILL worker B while it runs a generation; start a replacement.
	killed := topo.waitRunningOn(ctx, gpuB.pid(), ids)
	require.Error(t, gpuB.signal(syscall.SIGKILL, 10*time.Second))
	gpuC := startGPU(t, gooni, "gpuC", topo.env, ports[13])
	waitHTTP(t, gpuC, fmt.Sprintf("http://127.0.0.1:%d/readyz", ports[13]), 200, 60*time.Second)

	// Two more after the failures, to both APIs.
	ids = append(ids, topo.submit(topo.apis[0], 10), topo.submit(topo.apis[1], 11))
	topo.waitAllDone(ctx, ids, 150*time.Second)
	t.Logf("TIMING %d generations through stop, kill and replacement: %s", len(ids), time.Since(runStart).Round(time.Millisecond))

	attempts := topo.requireNothingLost(ctx, ids)
	require.Equal(t, 1, attempts[drained], "the gracefully stopped worker's generation was not retried")
	require.Equal(t, 2, attempts[killed], "the killed worker's generation was retried once, elsewhere")
	require.True(t, strings.HasPrefix(topo.completedBy(ctx, killed), strconv.Itoa(gpuC.pid())+"@"),
		"the replacement worker completed the killed worker's generation (completed by %q)", topo.completedBy(ctx, killed))

	// Metrics: HTTP by route on the APIs, outcomes on the control worker, loads and SDK metrics on
	// the GPU worker. Not on the public port.
	apiMetrics := getBody(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[9]))
	requireMetric(t, apiMetrics, `gooni_http_requests_total{method="POST",route="/generate",status="202"} 6`)
	requireMetric(t, apiMetrics, `gooni_http_requests_total{method="GET",route="/status/:task_id",status="200"} 12`)
	requireMetric(t, apiMetrics, `temporal_request{activity_type="none",client_name="temporal_go",namespace="default",operation="StartWorkflowExecution"`)
	resp, err := http.Get(topo.apis[0] + "/metrics")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "metrics are not served on the public port")
	controlMetrics := getBody(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[6]))
	requireMetric(t, controlMetrics, `gooni_tasks_finished_total{lane="gpu-pony",model="pony",outcome="done"} 12`)
	requireMetric(t, controlMetrics, `gooni_task_duration_seconds_count{lane="gpu-pony",model="pony",outcome="done"} 12`)
	gpuMetrics := getBody(t, fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[13]))
	requireMetric(t, gpuMetrics, `gooni_runner_loads_total{model="pony"} 1`)
	requireMetric(t, gpuMetrics, `temporal_activity_execution_latency_count{activity_type="RunGeneration"`)

	// Graceful stop of the rest: every process exits 0 on SIGTERM.
	for _, p := range append(apiProcs, control, gpuC) {
		require.NoError(t, p.signal(syscall.SIGTERM, 70*time.Second), "%s exits cleanly on SIGTERM:\n%s", p.name, p.logs)
	}
	require.NoError(t, tp.signal(syscall.SIGTERM, 60*time.Second), "gooni-temporal exits cleanly on SIGTERM")
	t.Logf("TIMING whole test: %s", time.Since(began).Round(time.Millisecond))
}

func startGPU(t *testing.T, gooni, name string, env []string, opsPort int) *proc {
	return start(t, name, gooni, []string{"worker", "gpu", "-models", "pony"},
		append(env, fmt.Sprintf("GOONI_WORKER_HTTP_ADDR=127.0.0.1:%d", opsPort)), nil)
}

// submit posts one pony generation to the API at base and returns its task id.
func (tp *topology) submit(base string, i int) string {
	t := tp.t
	body := fmt.Sprintf(`{"model":"pony","mode":"txt2img","prompt":"lighthouse %d","width":512,"height":512,"steps":20,"seed":%d}`, i, i+1)
	req, err := http.NewRequest("POST", base+"/generate", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", apiKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, string(raw))
	var out struct {
		TaskID string `json:"task_id"`
	}
	require.NoError(t, json.Unmarshal(raw, &out))
	require.NotEmpty(t, out.TaskID)
	return out.TaskID
}

// waitRunningOn waits until the GPU worker process pid runs one of ids' generations and returns
// that task's id (from the pending activity's worker identity, "<pid>@host@…").
func (tp *topology) waitRunningOn(ctx context.Context, pid int, ids []string) string {
	t := tp.t
	prefix := strconv.Itoa(pid) + "@"
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		for _, id := range ids {
			desc, err := tp.temporal.DescribeWorkflowExecution(ctx, workflows.WorkflowID(id), "")
			if err != nil {
				continue
			}
			for _, pa := range desc.GetPendingActivities() {
				if pa.GetActivityType().GetName() == workflows.RunGenerationActivity &&
					pa.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED &&
					strings.HasPrefix(pa.GetLastWorkerIdentity(), prefix) {
					// Mid-run: wait for the first progress, so the runner is generating.
					if tp.dbProgress(ctx, id) > 0 {
						return id
					}
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no generation started on worker pid %d within 60s", pid)
	return ""
}

// completedBy is the identity of the worker whose RunGeneration completed for task id ("" when
// none did).
func (tp *topology) completedBy(ctx context.Context, id string) string {
	it := tp.temporal.GetWorkflowHistory(ctx, workflows.WorkflowID(id), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	scheduled := map[int64]string{}
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(tp.t, err)
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			scheduled[ev.GetEventId()] = a.GetActivityType().GetName()
		}
		if a := ev.GetActivityTaskCompletedEventAttributes(); a != nil && scheduled[a.GetScheduledEventId()] == workflows.RunGenerationActivity {
			return a.GetIdentity()
		}
	}
	return ""
}

func (tp *topology) dbStatus(ctx context.Context, id string) string {
	var s string
	require.NoError(tp.t, tp.db.QueryRow(ctx, `select status from tasks where id = $1`, id).Scan(&s))
	return s
}

func (tp *topology) dbProgress(ctx context.Context, id string) float64 {
	var p float64
	_ = tp.db.QueryRow(ctx, `select progress from tasks where id = $1`, id).Scan(&p)
	return p
}

// waitAllDone waits until every task has ended.
func (tp *topology) waitAllDone(ctx context.Context, ids []string, timeout time.Duration) {
	t := tp.t
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		var open int
		require.NoError(t, tp.db.QueryRow(ctx, `select count(*) from tasks where id = any($1) and status not in ('done','failed','cancelled')`, ids).Scan(&open))
		if open == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("tasks still open after %s", timeout)
}

// requireNothingLost checks, for the tasks the APIs accepted: one record per accepted task and
// no other; each ended done and both APIs serve its status and result; one result and one preview
// file each; its workflow ran once (one execution, completed), the model's run completed once and
// the finish was recorded once. It returns each task's recorded attempt.
func (tp *topology) requireNothingLost(ctx context.Context, ids []string) map[string]int {
	t := tp.t
	var rows int
	require.NoError(t, tp.db.QueryRow(ctx, `select count(*) from tasks`).Scan(&rows))
	require.Equal(t, len(ids), rows, "one task record per accepted submission, no other")
	attempts := map[string]int{}
	for _, id := range ids {
		var status, resultKey string
		var attempt int
		require.NoError(t, tp.db.QueryRow(ctx, `select status, coalesce(result_key,''), attempt from tasks where id = $1`, id).Scan(&status, &resultKey, &attempt))
		require.Equal(t, "done", status, "task %s", id)
		attempts[id] = attempt
		stored, err := os.ReadFile(filepath.Join(tp.arts, filepath.FromSlash(resultKey)))
		require.NoError(t, err)
		for _, dir := range []string{"results", "previews"} {
			entries, err := os.ReadDir(filepath.Join(tp.arts, dir, id))
			require.NoError(t, err)
			require.Len(t, entries, 1, "task %s: files in %s", id, dir)
		}
		for _, base := range tp.apis {
			var st struct {
				Status   string  `json:"status"`
				Progress float64 `json:"progress"`
			}
			require.NoError(t, json.Unmarshal(apiGet(t, base+"/status/"+id), &st))
			require.Equal(t, "done", st.Status)
			require.Equal(t, float64(100), st.Progress)
			require.True(t, bytes.Equal(stored, apiGet(t, base+"/results/"+id)), "task %s: %s serves the stored result", id, base)
		}

		wid := workflows.WorkflowID(id)
		var res workflows.GenerationResult
		require.NoError(t, tp.temporal.GetWorkflow(ctx, wid, "").Get(ctx, &res))
		require.Equal(t, "done", res.Status)
		require.Equal(t, resultKey, res.ResultKey)
		require.Eventually(t, func() bool {
			resp, err := tp.temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf("WorkflowId = '%s'", wid)})
			return err == nil && len(resp.Executions) == 1 && resp.Executions[0].GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
		}, 15*time.Second, 100*time.Millisecond, "task %s: its workflow ran once and completed", id)

		completed := map[string]int{}
		scheduled := map[int64]string{}
		it := tp.temporal.GetWorkflowHistory(ctx, wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(t, err)
			if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
				scheduled[ev.GetEventId()] = a.GetActivityType().GetName()
			}
			if a := ev.GetActivityTaskCompletedEventAttributes(); a != nil {
				completed[scheduled[a.GetScheduledEventId()]]++
			}
			// FinishTask runs as a local activity: its outcome is a marker.
			if name, failed, ok := workflows.LocalActivityOutcome(ev); ok && !failed {
				completed[name]++
			}
		}
		require.Equal(t, 1, completed[workflows.RunGenerationActivity], "task %s: the model run completed once", id)
		require.Equal(t, 1, completed[workflows.FinishTaskActivity], "task %s: the finish was recorded once", id)
	}
	return attempts
}

func apiGet(t *testing.T, url string) []byte {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	req.Header.Set("X-API-Key", apiKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", url, b)
	return b
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", url, b)
	return string(b)
}

// requireMetric fails unless the exposition has a line starting with prefix, showing only the
// lines of the same metric.
func requireMetric(t *testing.T, exposition, prefix string) {
	t.Helper()
	name, _, _ := strings.Cut(prefix, "{")
	var same []string
	for _, line := range strings.Split(exposition, "\n") {
		if strings.HasPrefix(line, prefix) {
			return
		}
		if strings.HasPrefix(line, name) {
			same = append(same, line)
		}
	}
	t.Fatalf("no metric line starts with %s; lines of %s:\n%s", prefix, name, strings.Join(same, "\n"))
}

// nopLogger silences the test's own SDK client.
type nopLogger struct{}

func (nopLogger) Debug(string, ...any) {}
func (nopLogger) Info(string, ...any)  {}
func (nopLogger) Warn(string, ...any)  {}
func (nopLogger) Error(string, ...any) {}
