package api

import (
	"bufio"
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWriteEventFramesOneSSEEvent(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	require.NoError(t, writeEvent(w, "17", "status", statusResponse{TaskID: "t", Status: "processing", Progress: 12.5}))
	out := buf.String()
	require.True(t, bytes.HasPrefix(buf.Bytes(), []byte("id: 17\nevent: status\ndata: {\"task_id\":\"t\",\"status\":\"processing\",\"progress\":12.5,")), out)
	require.True(t, bytes.HasSuffix(buf.Bytes(), []byte("}\n\n")), out)
	require.Equal(t, 4, bytes.Count(buf.Bytes(), []byte("\n")), "one data line: the JSON has no newline")

	buf.Reset()
	require.NoError(t, writeComment(w, "keep-alive"))
	require.Equal(t, ": keep-alive\n\n", buf.String())
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("client gone") }

func TestWriteEventReportsAGoneClient(t *testing.T) {
	t.Parallel()
	w := bufio.NewWriter(failingWriter{})
	require.Error(t, writeEvent(w, "1", "status", statusResponse{}))
	require.Error(t, writeComment(bufio.NewWriter(failingWriter{}), "keep-alive"))
}

func TestSameStatusIgnoresOnlyTheUpdateTime(t *testing.T) {
	t.Parallel()
	a := statusResponse{Status: "processing", Progress: 10, Stage: "inference", UpdatedAt: time.Now(),
		Metadata: statusMetadata{Attempt: 1, LastError: &lastError{Code: "runner_crashed", Message: "x"}}}
	b := a
	b.UpdatedAt = a.UpdatedAt.Add(time.Second)
	b.Metadata.LastError = &lastError{Code: "runner_crashed", Message: "x"}
	require.True(t, sameStatus(a, b))
	for name, change := range map[string]func(*statusResponse){
		"progress":   func(r *statusResponse) { r.Progress = 10.1 },
		"stage":      func(r *statusResponse) { r.Stage = "encoding" },
		"detail":     func(r *statusResponse) { r.StageDetail = "step 2/20" },
		"status":     func(r *statusResponse) { r.Status = "done" },
		"last error": func(r *statusResponse) { r.Metadata.LastError = &lastError{Code: "runner_stalled"} },
		"fallback":   func(r *statusResponse) { r.Metadata.FallbackReason = "no worker" },
	} {
		c := a
		change(&c)
		require.False(t, sameStatus(a, c), name)
	}
}

func TestStreamGaugeNeverExceedsItsLimit(t *testing.T) {
	t.Parallel()
	var g streamGauge
	var wg sync.WaitGroup
	var mu sync.Mutex
	taken := 0
	for range 50 {
		wg.Go(func() {
			if g.acquire(10) {
				mu.Lock()
				taken++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Equal(t, 10, taken)
	require.EqualValues(t, 10, g.n.Load())
	g.release()
	require.True(t, g.acquire(10))
	require.False(t, g.acquire(10))
}
