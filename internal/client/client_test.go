package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParamValueSendsNumbersAndBooleansAsJSONAndTheRestAsStrings(t *testing.T) {
	t.Parallel()
	cases := map[string]any{
		"20": json.Number("20"), "-1": json.Number("-1"), "7.5": json.Number("7.5"), "1e3": json.Number("1e3"),
		"true": true, "false": false,
		"Euler a": "Euler a", "": "", " 20": " 20", "20 ": "20 ", "0x10": "0x10", "null": "null", `"x"`: `"x"`, "[1]": "[1]",
	}
	for in, want := range cases {
		require.Equal(t, want, ParamValue(in), "%q", in)
	}
}

func writePNG(t *testing.T, dir string) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 4, 4))))
	path := filepath.Join(dir, "ref.bin") // the name says nothing: the type is sniffed
	require.NoError(t, os.WriteFile(path, b.Bytes(), 0o644))
	return path
}

func TestRequestSpecBuildsTheBodyWithImagesAsDataURIs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ref := writePNG(t, dir)
	body, err := RequestSpec{Model: "pony", Mode: "img2img", Prompt: "a cat", Params: []string{"steps=20", "sampler=Euler a", "denoise=0.6"},
		Images: []string{"reference_image=" + ref}}.Body()
	require.NoError(t, err)
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(raw, &got))
	require.Equal(t, "pony", got["model"])
	require.Equal(t, "img2img", got["mode"])
	require.Equal(t, 20.0, got["steps"])
	require.Equal(t, 0.6, got["denoise"])
	require.Equal(t, "Euler a", got["sampler"])
	require.True(t, strings.HasPrefix(got["reference_image"].(string), "data:image/png;base64,iVBORw0KGgo"), got["reference_image"])

	text := filepath.Join(dir, "notes.png")
	require.NoError(t, os.WriteFile(text, []byte("hello"), 0o644))
	for _, spec := range []RequestSpec{
		{Prompt: "no model"},
		{Model: "pony", Params: []string{"novalue"}},
		{Model: "pony", Params: []string{"=3"}},
		{Model: "pony", Params: []string{"steps=1", "steps=2"}},
		{Model: "pony", Images: []string{"reference_image"}},
		{Model: "pony", Images: []string{"reference_image=" + text}},
		{Model: "pony", Images: []string{"reference_image=" + filepath.Join(dir, "missing.png")}},
	} {
		_, err := spec.Body()
		require.Error(t, err, "%+v", spec)
	}
}

func newTestClient(t *testing.T, h http.Handler) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, APIKey: "secret-key-0123456789", RetryDelay: time.Millisecond, PollInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	return c
}

func envelope(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%q,"detail":"detail of %s","user_action":"do something"}`, code, code)
}

// TestGenerateRetriesWithTheSameKeyOnlyWhenSafe: a dropped connection and a 503
// orchestrator_unavailable are retried with the same Idempotency-Key and body; a 422 is not.
func TestGenerateRetriesWithTheSameKeyOnlyWhenSafe(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var keys, bodies []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "secret-key-0123456789", r.Header.Get("X-API-Key"))
		raw, _ := io.ReadAll(r.Body)
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		bodies = append(bodies, string(raw))
		n := len(keys)
		mu.Unlock()
		switch n {
		case 1: // the connection drops before an answer
			conn, _, err := w.(http.Hijacker).Hijack()
			require.NoError(t, err)
			conn.Close()
		case 2:
			envelope(w, http.StatusServiceUnavailable, "orchestrator_unavailable")
		default:
			w.Header().Set("Idempotent-Replayed", "true")
			fmt.Fprint(w, `{"task_id":"t-1","status":"processing"}`)
		}
	})
	c := newTestClient(t, h)
	acc, err := c.Generate(context.Background(), map[string]any{"model": "pony", "prompt": "x"}, "key-1")
	require.NoError(t, err)
	require.Equal(t, "t-1", acc.TaskID)
	require.True(t, acc.Replayed)
	require.Equal(t, []string{"key-1", "key-1", "key-1"}, keys)
	require.Equal(t, bodies[0], bodies[2])

	var calls atomic.Int32
	c = newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		envelope(w, http.StatusUnprocessableEntity, "validation_error")
	}))
	_, err = c.Generate(context.Background(), map[string]any{"model": "x"}, "key-2")
	var env *Error
	require.ErrorAs(t, err, &env)
	require.Equal(t, "validation_error", env.Code)
	require.Equal(t, http.StatusUnprocessableEntity, env.Status)
	require.Equal(t, "do something", env.UserAction)
	require.EqualValues(t, 1, calls.Load(), "a refusal is not retried")
	require.NotContains(t, err.Error(), "secret-key")
}

func TestAnswerWithoutAnEnvelopeBecomesOne(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>bad gateway</html>", http.StatusBadGateway)
	}))
	_, err := c.Status(context.Background(), "t-1")
	var env *Error
	require.ErrorAs(t, err, &env)
	require.Equal(t, "http_502", env.Code)
	require.NotEmpty(t, env.UserAction)
}

func statusJSON(progress float64, status string) string {
	return fmt.Sprintf(`{"task_id":"t-1","status":%q,"progress":%g,"stage":"inference"}`, status, progress)
}

// TestWaitFallsBackToPollingWithoutAStream: a server without the events route is polled.
func TestWaitFallsBackToPollingWithoutAStream(t *testing.T) {
	t.Parallel()
	var polls atomic.Int32
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/tasks/t-1/events":
			envelope(w, http.StatusNotFound, "route_not_found")
		case "/status/t-1":
			n := polls.Add(1)
			if n >= 4 {
				fmt.Fprint(w, statusJSON(100, "done"))
				return
			}
			fmt.Fprint(w, statusJSON(float64(n)*20, "processing"))
		default:
			http.NotFound(w, r)
		}
	}))
	var seen []float64
	final, err := c.Wait(context.Background(), "t-1", func(s *Status) { seen = append(seen, s.Progress) })
	require.NoError(t, err)
	require.Equal(t, "done", final.Status)
	require.Equal(t, []float64{20, 40, 60, 100}, seen)
}

// TestWaitReconnectsWithTheLastEventID: a stream the server closes early is reopened with
// Last-Event-ID, and each status reaches the callback once.
func TestWaitReconnectsWithTheLastEventID(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var lastIDs []string
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/tasks/t-1/events":
			mu.Lock()
			lastIDs = append(lastIDs, r.Header.Get("Last-Event-ID"))
			n := len(lastIDs)
			mu.Unlock()
			w.Header().Set("Content-Type", "text/event-stream")
			if n == 1 {
				fmt.Fprintf(w, ": keep-alive\n\nid: 1\nevent: status\ndata: %s\n\nid: 2\nevent: status\ndata: %s\n\n", statusJSON(10, "processing"), statusJSON(30, "processing"))
				return // closed early
			}
			fmt.Fprintf(w, "id: 3\nevent: status\ndata: %s\n\nid: 4\nevent: status\ndata: %s\n\n", statusJSON(30, "processing"), statusJSON(100, "done"))
		case "/status/t-1":
			fmt.Fprint(w, statusJSON(30, "processing"))
		}
	}))
	var seen []float64
	final, err := c.Wait(context.Background(), "t-1", func(s *Status) { seen = append(seen, s.Progress) })
	require.NoError(t, err)
	require.Equal(t, "done", final.Status)
	require.Equal(t, []float64{10, 30, 100}, seen)
	require.Equal(t, []string{"", "2"}, lastIDs)
}

func TestWaitStopsOnAnUnknownTask(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		envelope(w, http.StatusNotFound, "task_not_found")
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.Wait(ctx, "t-1", nil)
	var env *Error
	require.ErrorAs(t, err, &env)
	require.Equal(t, "task_not_found", env.Code)
}

func TestDownloadNamesTheFileByTypeAndWritesItWhole(t *testing.T) {
	t.Parallel()
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "video/webm")
		fmt.Fprint(w, "webm bytes")
	}))
	dir := t.TempDir()
	path, ct, err := c.Download(context.Background(), "t-1", "", dir)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "t-1.webm"), path)
	require.Equal(t, "video/webm", ct)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "webm bytes", string(raw))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left")

	for ct, ext := range map[string]string{"image/png": "png", "image/jpeg": "jpg", "video/mp4": "mp4", "": "bin"} {
		require.Equal(t, ext, Extension(ct), ct)
	}
}

func TestNewRefusesAURLThatIsNotHTTP(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"localhost:8080", "ftp://x", "http://"} {
		_, err := New(Config{BaseURL: u})
		require.Error(t, err, u)
	}
	c, err := New(Config{})
	require.NoError(t, err)
	require.Equal(t, DefaultURL, c.cfg.BaseURL)
}
