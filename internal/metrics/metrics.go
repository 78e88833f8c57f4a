// Package metrics holds a process's Prometheus registry and Gooni's own metrics: HTTP requests,
// task outcomes and durations by model and lane, runner loads, and an adapter that exposes the
// Temporal SDK's metrics through the same registry.
//
// Each process builds one Metrics in main and passes it to the parts that record; nothing here
// is a package global, so tests can build as many as they like.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Outcomes of a task, as recorded by the control worker.
const (
	OutcomeDone      = "done"
	OutcomeFailed    = "failed"
	OutcomeCancelled = "cancelled"
)

// durationBuckets cover an API request (milliseconds) up to a long video generation (30 min).
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800}

// Metrics is one process's registry with Gooni's metrics registered on it.
type Metrics struct {
	registry     *prometheus.Registry
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	taskOutcomes *prometheus.CounterVec
	taskDuration *prometheus.HistogramVec
}

// New returns a registry with the Go runtime and process collectors and Gooni's metrics.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gooni_http_requests_total",
			Help: "HTTP requests answered by the API, by route pattern, method and status code.",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gooni_http_request_duration_seconds",
			Help:    "Time the API took to answer a request, by route pattern and method.",
			Buckets: durationBuckets,
		}, []string{"route", "method"}),
		taskOutcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gooni_tasks_finished_total",
			Help: "Generations that ended, by model, lane and outcome (done, failed, cancelled).",
		}, []string{"model", "lane", "outcome"}),
		taskDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gooni_task_duration_seconds",
			Help:    "Time from submission to the end of a generation, by model, lane and outcome.",
			Buckets: durationBuckets,
		}, []string{"model", "lane", "outcome"}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.taskOutcomes, m.taskDuration,
	)
	return m
}

// Registry is the registry, for callers that register more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// ObserveHTTP records one answered request. route is the route pattern ("/status/:task_id"),
// never the raw path, so task ids do not become label values.
func (m *Metrics) ObserveHTTP(route, method string, status int, d time.Duration) {
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(route, method).Observe(d.Seconds())
}

// TaskEnded records a generation that ended with outcome after d (submission to end).
func (m *Metrics) TaskEnded(model, lane, outcome string, d time.Duration) {
	m.taskOutcomes.WithLabelValues(model, lane, outcome).Inc()
	if d > 0 {
		m.taskDuration.WithLabelValues(model, lane, outcome).Observe(d.Seconds())
	}
}

// RegisterRunnerLoads exposes gooni_runner_loads_total{model}: how many times this GPU worker
// loaded each model's weights, read from loads at every scrape.
func (m *Metrics) RegisterRunnerLoads(models []string, loads func(model string) int) {
	m.registry.MustRegister(&loadsCollector{
		desc: prometheus.NewDesc("gooni_runner_loads_total",
			"Times this GPU worker loaded a model's weights into a runner (a rising rate means the shared lane is swapping or runners crash).",
			[]string{"model"}, nil),
		models: append([]string(nil), models...),
		loads:  loads,
	})
}

type loadsCollector struct {
	desc   *prometheus.Desc
	models []string
	loads  func(string) int
}

func (c *loadsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *loadsCollector) Collect(ch chan<- prometheus.Metric) {
	for _, model := range c.models {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(c.loads(model)), model)
	}
}
