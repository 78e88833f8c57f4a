package stack_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/api"
)

// sseEvent is one Server-Sent Event, or a comment line, as the client saw it.
type sseEvent struct {
	ID, Event, Data string
	Comment         string
	At              time.Time
}

// sseStream is an open GET /tasks/{id}/events response read in the background.
type sseStream struct {
	resp   *http.Response
	events chan sseEvent // closed when the server ends the stream
}

// openEvents opens the task's event stream the way a browser EventSource does: the key in the
// api_key query parameter, no X-API-Key header. header adds request headers.
func (e *env) openEvents(taskID string, header map[string]string) *sseStream {
	e.t.Helper()
	req, err := http.NewRequest("GET", e.baseURL+"/tasks/"+taskID+"/events?api_key="+testAPIKey, nil)
	require.NoError(e.t, err)
	req.Header.Set("Accept", "text/event-stream")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	s := &sseStream{resp: resp, events: make(chan sseEvent, 1024)}
	e.t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		close(s.events)
		return s
	}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Event != "" || ev.Data != "" {
					ev.At = time.Now()
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				s.events <- sseEvent{Comment: strings.TrimSpace(line[1:]), At: time.Now()}
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[len("id: "):]
			case strings.HasPrefix(line, "event: "):
				ev.Event = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				ev.Data = line[len("data: "):]
			}
		}
	}()
	return s
}

// next returns the next event or comment, failing after timeout; ok is false when the server
// closed the stream.
func (s *sseStream) next(t *testing.T, timeout time.Duration) (ev sseEvent, ok bool) {
	t.Helper()
	select {
	case ev, ok = <-s.events:
		return ev, ok
	case <-time.After(timeout):
		t.Fatalf("no event within %s", timeout)
		return sseEvent{}, false
	}
}

// eventStatus is an event's data: the GET /status JSON with the record's update time.
type eventStatus struct {
	status
	UpdatedAt time.Time `json:"updated_at"`
}

// waitStreams waits until the server has n open streams, returning how long that took.
func (e *env) waitStreams(n int, timeout time.Duration) time.Duration {
	e.t.Helper()
	began := time.Now()
	require.Eventually(e.t, func() bool { return e.srv.ActiveStreams() == n }, timeout, 5*time.Millisecond,
		"want %d open streams, have %d", n, e.srv.ActiveStreams())
	return time.Since(began)
}

// TestEventsStreamProgressUntilTheTaskEnds follows a run over SSE: the current state at once,
// then every change with real progress, the final state equal to GET /status, and the end of
// the stream. It measures how late each event reaches the client after the record changed.
func TestEventsStreamProgressUntilTheTaskEnds(t *testing.T) {
	e := setup(t, envOptions{})
	id := e.submit(map[string]any{"model": "pony", "prompt": "watch me", "width": 512, "height": 512, "steps": 40})
	opened := time.Now()
	s := e.openEvents(id, nil)
	require.Equal(t, http.StatusOK, s.resp.StatusCode)
	require.Equal(t, "text/event-stream", s.resp.Header.Get("Content-Type"))
	require.Equal(t, "no-cache", s.resp.Header.Get("Cache-Control"))
	require.Equal(t, "no", s.resp.Header.Get("X-Accel-Buffering"))

	var events []sseEvent
	var states []eventStatus
	for {
		ev, ok := s.next(t, 60*time.Second)
		if !ok {
			break
		}
		if ev.Comment != "" {
			continue
		}
		require.Equal(t, "status", ev.Event)
		var st eventStatus
		require.NoError(t, json.Unmarshal([]byte(ev.Data), &st), ev.Data)
		require.Equal(t, id, st.TaskID)
		require.Equal(t, ev.ID, strconvMicro(st.UpdatedAt), "the id is the state's update time")
		events = append(events, ev)
		states = append(states, st)
	}
	require.NotEmpty(t, states)
	require.Less(t, events[0].At.Sub(opened), time.Second, "the current state is sent at once")
	last := states[len(states)-1]
	require.Equal(t, "done", last.Status, "the stream ends after the terminal state")
	require.Equal(t, 100.0, last.Progress)

	// Progress is real and never goes back; each event shows something new.
	var intermediate []float64
	lags := make([]time.Duration, 0, len(states))
	for i, st := range states {
		if i > 0 {
			require.GreaterOrEqual(t, st.Progress, states[i-1].Progress, "progress never goes back")
			require.NotEqual(t, events[i-1].Data, events[i].Data, "no repeated event")
		}
		if st.Status == "processing" && st.Progress > 5 && st.Progress < 95 {
			intermediate = append(intermediate, st.Progress)
		}
		if i > 0 { // the first event shows the state as it was when the stream opened
			lags = append(lags, events[i].At.Sub(st.UpdatedAt))
		}
	}
	require.GreaterOrEqual(t, len(distinct(intermediate)), 5, "several intermediate progress values: %v", intermediate)
	slices.Sort(lags)
	require.NotEmpty(t, lags)
	p50, worst := lags[len(lags)/2], lags[len(lags)-1]
	t.Logf("SSE: %d events for 40 steps; record change → client: p50 %s, max %s",
		len(states), p50.Round(time.Millisecond), worst.Round(time.Millisecond))
	require.Less(t, worst, time.Second, "each change reaches the client within 1s")

	// The final event is the GET /status answer, field for field.
	code, body, _ := e.do("GET", "/status/"+id, nil, nil)
	require.Equal(t, http.StatusOK, code)
	require.JSONEq(t, string(body), events[len(events)-1].Data)

	// EventSource reconnects after a close: with the final id it is told to stop (204); a new
	// client gets the final state once.
	again := e.openEvents(id, map[string]string{"Last-Event-ID": events[len(events)-1].ID})
	require.Equal(t, http.StatusNoContent, again.resp.StatusCode)
	fresh := e.openEvents(id, nil)
	require.Equal(t, http.StatusOK, fresh.resp.StatusCode)
	ev, ok := fresh.next(t, 5*time.Second)
	require.True(t, ok)
	require.JSONEq(t, string(body), ev.Data)
	_, ok = fresh.next(t, 5*time.Second)
	require.False(t, ok, "the stream of a finished task closes after one event")
	require.Zero(t, e.srv.ActiveStreams())
}

// TestStatusReflectsProgressWithinASecond polls GET /status through a run: while processing,
// the record it shows is never more than 1s old (the runner reports every 40ms and the worker
// writes at most every 200ms), and the step moves.
func TestStatusReflectsProgressWithinASecond(t *testing.T) {
	e := setup(t, envOptions{})
	id := e.submit(map[string]any{"model": "pony", "prompt": "fresh status", "width": 512, "height": 512, "steps": 40})
	var ages []time.Duration
	details := map[string]bool{}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		code, body, _ := e.do("GET", "/status/"+id, nil, nil)
		seenAt := time.Now()
		require.Equal(t, http.StatusOK, code)
		var st eventStatus
		require.NoError(t, json.Unmarshal(body, &st))
		if st.Status == "done" {
			break
		}
		if st.Status == "processing" && st.Stage == "inference" {
			ages = append(ages, seenAt.Sub(st.UpdatedAt))
			details[st.StageDetail] = true
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.Equal(t, "done", e.getStatus(id).Status)
	require.GreaterOrEqual(t, len(details), 5, "the step moved: %v", details)
	slices.Sort(ages)
	p50, worst := ages[len(ages)/2], ages[len(ages)-1]
	t.Logf("GET /status during inference: %d reads, record age p50 %s, max %s", len(ages),
		p50.Round(time.Millisecond), worst.Round(time.Millisecond))
	require.Less(t, worst, time.Second)
}

// TestEventsStreamStopsWhenTheClientLeaves: a stream on a task that does not change (no worker)
// sends keep-alives; when the client disconnects, the next write fails and the stream's
// goroutine and its polling stop.
func TestEventsStreamStopsWhenTheClientLeaves(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true, api: func(c *api.Config, _ *api.Deps) {
		c.StreamKeepAlive = 50 * time.Millisecond
		c.StreamPoll = 20 * time.Millisecond
	}})
	id := e.submit(map[string]any{"model": "pony", "prompt": "nobody runs me", "width": 512, "height": 512})
	s := e.openEvents(id, nil)
	require.Equal(t, http.StatusOK, s.resp.StatusCode)
	first, ok := s.next(t, 5*time.Second)
	require.True(t, ok)
	require.Equal(t, "status", first.Event)
	for {
		ev, ok := s.next(t, 5*time.Second)
		require.True(t, ok)
		if ev.Comment != "" {
			require.Equal(t, "keep-alive", ev.Comment)
			break
		}
	}
	require.Equal(t, 1, e.srv.ActiveStreams())

	require.NoError(t, s.resp.Body.Close())
	took := e.waitStreams(0, 5*time.Second)
	t.Logf("client left → stream stopped after %s (keep-alive every 50ms)", took.Round(time.Millisecond))

	// The server is unharmed: a new stream opens.
	again := e.openEvents(id, nil)
	require.Equal(t, http.StatusOK, again.resp.StatusCode)
	_, ok = again.next(t, 5*time.Second)
	require.True(t, ok)
}

// TestEventsStreamsAreBoundedAndChecked: over the limit is 503 too_many_streams; a freed slot
// is reusable; a missing key, an unknown task and a finished task behave.
func TestEventsStreamsAreBoundedAndChecked(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true, api: func(c *api.Config, _ *api.Deps) { c.MaxStreams = 1 }})
	id := e.submit(map[string]any{"model": "pony", "prompt": "bounded", "width": 512, "height": 512})

	code, body, _ := e.do("GET", "/tasks/"+id+"/events", nil, map[string]string{"X-API-Key": ""})
	require.Equal(t, http.StatusForbidden, code, string(body))
	require.Equal(t, "invalid_api_key", decodeEnvelope(t, body).Code)
	code, body, _ = e.do("GET", "/tasks/00000000-0000-4000-8000-000000000000/events", nil, nil)
	require.Equal(t, http.StatusNotFound, code, string(body))
	require.Equal(t, "task_not_found", decodeEnvelope(t, body).Code)
	require.Zero(t, e.srv.ActiveStreams(), "refused requests hold no stream")

	one := e.openEvents(id, nil)
	require.Equal(t, http.StatusOK, one.resp.StatusCode)
	_, ok := one.next(t, 5*time.Second)
	require.True(t, ok)

	code, body, hdr := e.do("GET", "/tasks/"+id+"/events", nil, nil)
	require.Equal(t, http.StatusServiceUnavailable, code, string(body))
	require.Equal(t, "too_many_streams", decodeEnvelope(t, body).Code)
	require.Contains(t, hdr.Get("Content-Type"), "application/json")

	// The task ends while streamed: the stream sends the terminal state and closes, freeing
	// the slot.
	_, err := e.store.CancelTask(context.Background(), id)
	require.NoError(t, err)
	var final eventStatus
	for {
		ev, ok := one.next(t, 5*time.Second)
		if !ok {
			break
		}
		if ev.Event == "status" {
			require.NoError(t, json.Unmarshal([]byte(ev.Data), &final))
		}
	}
	require.Equal(t, "cancelled", final.Status)
	e.waitStreams(0, 5*time.Second)

	two := e.openEvents(id, nil)
	require.Equal(t, http.StatusOK, two.resp.StatusCode)
	ev, ok := two.next(t, 5*time.Second)
	require.True(t, ok)
	require.Contains(t, ev.Data, `"status":"cancelled"`)
	rest, err := io.ReadAll(two.resp.Body)
	require.NoError(t, err)
	require.Empty(t, strings.TrimSpace(string(rest)), "closed after the final state")
}

// TestStatusShowsAttemptLastErrorAndFallbackReason: the metadata object of GET /status and of
// the events, next to the fields existing clients read.
func TestStatusShowsAttemptLastErrorAndFallbackReason(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true})
	id := e.storedTask()
	read := func() map[string]any {
		code, body, _ := e.do("GET", "/status/"+id, nil, nil)
		require.Equal(t, http.StatusOK, code, string(body))
		var m map[string]any
		require.NoError(t, json.Unmarshal(body, &m))
		for _, f := range []string{"task_id", "status", "progress", "stage", "stage_detail", "lane_mode", "error_msg",
			"result_url", "preview_url", "created_at", "updated_at"} {
			require.Contains(t, m, f, "the existing contract keeps %s", f)
		}
		return m
	}
	require.Equal(t, map[string]any{"attempt": 0.0, "last_error": nil, "fallback_reason": ""}, read()["metadata"])

	ctx := context.Background()
	admitted, _, err := e.store.AdmitShared(ctx, id, "gpu-shared", "no worker of lane gpu-pony started the task within 10m", 5)
	require.NoError(t, err)
	require.True(t, admitted)
	require.NoError(t, e.store.RecordAttemptFailure(ctx, id, 2, "runner_crashed", "The model process crashed; retrying."))
	got := read()
	require.Equal(t, map[string]any{
		"attempt":         2.0,
		"last_error":      map[string]any{"code": "runner_crashed", "message": "The model process crashed; retrying."},
		"fallback_reason": "no worker of lane gpu-pony started the task within 10m",
	}, got["metadata"])
	require.Equal(t, 2.0, got["attempt"], "the top-level attempt stays")

	s := e.openEvents(id, nil)
	ev, ok := s.next(t, 5*time.Second)
	require.True(t, ok)
	var streamed map[string]any
	require.NoError(t, json.Unmarshal([]byte(ev.Data), &streamed))
	require.Equal(t, got["metadata"], streamed["metadata"], "the stream shares the status shape")
}

// strconvMicro formats t as an event id.
func strconvMicro(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }
