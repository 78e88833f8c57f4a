package metrics

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// TemporalHandler returns a Temporal SDK metrics handler (client.Options.MetricsHandler) whose
// counters, gauges and timers appear on this registry under the SDK's own names
// (temporal_request, temporal_activity_execution_latency, …); timers become histograms in seconds.
//
// The documented path, go.temporal.io/sdk/contrib/tally with tally's Prometheus reporter, is not
// served by the module proxy this project builds from, so this small adapter stands in. The SDK
// emits one metric name with different tag sets (a poll counter with and without a
// worker_type, say); Prometheus wants one label set per name, so each name is exposed with the
// union of the tags seen and an empty value where a series lacks one (Prometheus treats an empty
// label as absent).
func (m *Metrics) TemporalHandler() client.MetricsHandler {
	s := &sdkStore{metrics: map[string]*sdkMetric{}}
	m.registry.MustRegister(s)
	return &sdkHandler{store: s}
}

type sdkKind int

const (
	sdkCounter sdkKind = iota
	sdkGauge
	sdkTimer
)

// sdkStore holds every series the SDK recorded; it is the registry's collector.
type sdkStore struct {
	mu      sync.Mutex
	metrics map[string]*sdkMetric
}

type sdkMetric struct {
	kind   sdkKind
	series map[string]*sdkSeries // by tagKey
}

type sdkSeries struct {
	tags    map[string]string
	value   float64  // counter total or gauge value
	count   uint64   // timer observations
	sum     float64  // timer sum, seconds
	buckets []uint64 // timer counts per durationBuckets bound (not cumulative)
}

// series returns the series of name with tags, creating it; nil when name was first used as
// another kind (the SDK does not do that; the value is dropped rather than corrupt the output).
func (s *sdkStore) series(name string, kind sdkKind, tags map[string]string) *sdkSeries {
	m, ok := s.metrics[name]
	if !ok {
		m = &sdkMetric{kind: kind, series: map[string]*sdkSeries{}}
		s.metrics[name] = m
	}
	if m.kind != kind {
		return nil
	}
	key := tagKey(tags)
	se, ok := m.series[key]
	if !ok {
		se = &sdkSeries{tags: tags}
		if kind == sdkTimer {
			se.buckets = make([]uint64, len(durationBuckets))
		}
		m.series[key] = se
	}
	return se
}

func (s *sdkStore) Describe(chan<- *prometheus.Desc) {} // unchecked: names appear as the SDK uses them

func (s *sdkStore) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, m := range s.metrics {
		var labels []string
		for _, se := range m.series {
			for k := range se.tags {
				if !slices.Contains(labels, k) {
					labels = append(labels, k)
				}
			}
		}
		sort.Strings(labels)
		desc := prometheus.NewDesc(name, "Temporal SDK metric "+name+".", labels, nil)
		for _, se := range m.series {
			values := make([]string, len(labels))
			for i, l := range labels {
				values[i] = se.tags[l]
			}
			switch m.kind {
			case sdkCounter:
				ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, se.value, values...)
			case sdkGauge:
				ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, se.value, values...)
			case sdkTimer:
				cum := make(map[float64]uint64, len(durationBuckets))
				var n uint64
				for i, b := range durationBuckets {
					n += se.buckets[i]
					cum[b] = n
				}
				ch <- prometheus.MustNewConstHistogram(desc, se.count, se.sum, cum, values...)
			}
		}
	}
}

// sdkHandler is the client.MetricsHandler with its tags.
type sdkHandler struct {
	store *sdkStore
	tags  map[string]string
}

func (h *sdkHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := make(map[string]string, len(h.tags)+len(tags))
	for k, v := range h.tags {
		merged[k] = v
	}
	for k, v := range tags {
		merged[sanitize(k)] = v
	}
	return &sdkHandler{store: h.store, tags: merged}
}

func (h *sdkHandler) Counter(name string) client.MetricsCounter {
	name = sanitize(name)
	return counterFunc(func(d int64) {
		h.store.mu.Lock()
		defer h.store.mu.Unlock()
		if se := h.store.series(name, sdkCounter, h.tags); se != nil && d > 0 {
			se.value += float64(d)
		}
	})
}

func (h *sdkHandler) Gauge(name string) client.MetricsGauge {
	name = sanitize(name)
	return gaugeFunc(func(v float64) {
		h.store.mu.Lock()
		defer h.store.mu.Unlock()
		if se := h.store.series(name, sdkGauge, h.tags); se != nil {
			se.value = v
		}
	})
}

func (h *sdkHandler) Timer(name string) client.MetricsTimer {
	name = sanitize(name)
	return timerFunc(func(d time.Duration) {
		h.store.mu.Lock()
		defer h.store.mu.Unlock()
		se := h.store.series(name, sdkTimer, h.tags)
		if se == nil {
			return
		}
		sec := d.Seconds()
		se.count++
		se.sum += sec
		for i, b := range durationBuckets {
			if sec <= b {
				se.buckets[i]++
				break
			}
		}
	})
}

// tagKey identifies a tag set.
func tagKey(tags map[string]string) string {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(tags[k])
		b.WriteByte(0)
	}
	return b.String()
}

// sanitize makes a metric or label name valid for Prometheus ([a-zA-Z_][a-zA-Z0-9_]*).
func sanitize(name string) string {
	out := []byte(name)
	for i, c := range out {
		ok := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9')
		if !ok {
			out[i] = '_'
		}
	}
	return string(out)
}

// The SDK's metric interfaces as functions.
type (
	counterFunc func(int64)
	gaugeFunc   func(float64)
	timerFunc   func(time.Duration)
)

func (f counterFunc) Inc(d int64)          { f(d) }
func (f gaugeFunc) Update(v float64)       { f(v) }
func (f timerFunc) Record(d time.Duration) { f(d) }
