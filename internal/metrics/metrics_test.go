package metrics_test

import (
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/metrics"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, 200, rec.Code)
	body, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	return string(body)
}

func TestMetricsExposeHTTPTasksAndRunnerLoads(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	m.ObserveHTTP("/status/:task_id", "GET", 200, 30*time.Millisecond)
	m.ObserveHTTP("/status/:task_id", "GET", 200, 10*time.Millisecond)
	m.TaskEnded("pony", "gpu-pony", metrics.OutcomeDone, 4*time.Second)
	m.TaskEnded("flux", "gpu-shared", metrics.OutcomeFailed, 0)
	loads := map[string]int{"pony": 2, "flux": 0}
	m.RegisterRunnerLoads([]string{"pony", "flux"}, func(model string) int { return loads[model] })

	out := scrape(t, m)
	require.Contains(t, out, `gooni_http_requests_total{method="GET",route="/status/:task_id",status="200"} 2`)
	require.Contains(t, out, `gooni_http_request_duration_seconds_count{method="GET",route="/status/:task_id"} 2`)
	require.Contains(t, out, `gooni_tasks_finished_total{lane="gpu-pony",model="pony",outcome="done"} 1`)
	require.Contains(t, out, `gooni_tasks_finished_total{lane="gpu-shared",model="flux",outcome="failed"} 1`)
	require.Contains(t, out, `gooni_task_duration_seconds_sum{lane="gpu-pony",model="pony",outcome="done"} 4`)
	require.Contains(t, out, `gooni_runner_loads_total{model="pony"} 2`)
	require.Contains(t, out, "go_goroutines")

	loads["pony"] = 3
	require.Contains(t, scrape(t, m), `gooni_runner_loads_total{model="pony"} 3`, "loads are read at each scrape")
}

// The SDK uses one metric name with different tag sets; the adapter must still produce a valid
// exposition (one label set per name) or the whole scrape fails.
func TestMetricsTemporalHandlerMergesTagSets(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	h := m.TemporalHandler()
	h.WithTags(map[string]string{"namespace": "default"}).Counter("temporal_request").Inc(2)
	h.WithTags(map[string]string{"namespace": "default", "operation": "StartWorkflowExecution"}).Counter("temporal_request").Inc(1)
	h.WithTags(map[string]string{"task_queue": "gpu-pony"}).Gauge("temporal_worker_task_slots_available").Update(3)
	h.WithTags(map[string]string{"activity_type": "RunGeneration"}).Timer("temporal_activity_execution_latency").Record(1500 * time.Millisecond)
	h.Counter("temporal-odd.name").Inc(1)

	out := scrape(t, m)
	require.Contains(t, out, `temporal_request{namespace="default",operation=""} 2`)
	require.Contains(t, out, `temporal_request{namespace="default",operation="StartWorkflowExecution"} 1`)
	require.Contains(t, out, `temporal_worker_task_slots_available{task_queue="gpu-pony"} 3`)
	require.Contains(t, out, `temporal_activity_execution_latency_bucket{activity_type="RunGeneration",le="2.5"} 1`)
	require.Contains(t, out, `temporal_activity_execution_latency_bucket{activity_type="RunGeneration",le="1"} 0`)
	require.Contains(t, out, `temporal_activity_execution_latency_sum{activity_type="RunGeneration"} 1.5`)
	require.Contains(t, out, "temporal_odd_name 1")
	_, err := m.Registry().Gather()
	require.NoError(t, err, "the exposition is consistent")
}
