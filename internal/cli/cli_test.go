package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/client"
)

func testEnv(t *testing.T, h http.Handler) (Env, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	vars := map[string]string{"GOONI_URL": srv.URL, "API_KEY": "secret-key-0123456789"}
	return Env{Stdout: out, Stderr: errOut, Getenv: func(k string) string { return vars[k] }, Dir: t.TempDir()}, out, errOut
}

// TestGalleryPrintsTheEnvelopeOfAServerWithoutTheRoute: an API without GET /gallery answers
// 404 route_not_found, and the command says so with the server's advice.
func TestGalleryPrintsTheEnvelopeOfAServerWithoutTheRoute(t *testing.T) {
	t.Parallel()
	env, _, _ := testEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"code":"route_not_found","detail":"No route matches this path.","user_action":"Check the URL against the API documentation."}`)
	}))
	err := Gallery(context.Background(), env, nil)
	require.EqualError(t, err, "No route matches this path. [route_not_found, HTTP 404]\n  what to do: Check the URL against the API documentation.")
}

func TestGalleryPrintsItemsAndTheNextPage(t *testing.T) {
	t.Parallel()
	env, out, _ := testEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "/gallery", r.URL.Path)
		require.Equal(t, "model=pony&page=2&per_page=1&type=image", r.URL.RawQuery)
		fmt.Fprint(w, `{"items":[{"id":"t-9","model":"pony","type":"image","created_at":"2026-01-01T00:00:00Z","prompt":"a cat\non a mat"}],"total":3,"page":2,"per_page":1,"has_more":true}`)
	}))
	require.NoError(t, Gallery(context.Background(), env, []string{"--page", "2", "--per-page", "1", "--model", "pony", "--type", "image"}))
	require.Contains(t, out.String(), "t-9")
	require.Contains(t, out.String(), "a cat on a mat")
	require.Contains(t, out.String(), "page 2, 1 of 3 items; next: --page 3")
}

func TestStatusTakesFlagsAfterTheTaskID(t *testing.T) {
	t.Parallel()
	env, out, _ := testEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "/status/t-1", r.URL.Path)
		fmt.Fprint(w, `{"task_id":"t-1","status":"processing","progress":42.5,"stage":"inference","stage_detail":"step 9/20"}`)
	}))
	require.NoError(t, Status(context.Background(), env, []string{"t-1", "--json"}))
	require.Contains(t, out.String(), `"progress": 42.5`)
	require.Error(t, Status(context.Background(), env, nil), "a task id is required")
	require.Error(t, Status(context.Background(), env, []string{"a", "b"}))
}

func TestGenerateNoWaitPrintsOnlyTheTaskID(t *testing.T) {
	t.Parallel()
	env, out, _ := testEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "/generate", r.URL.Path)
		require.Len(t, r.Header.Get("Idempotency-Key"), 36, "a fresh UUID per invocation")
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"task_id":"t-7","status":"pending"}`)
	}))
	require.NoError(t, Generate(context.Background(), env, []string{"--model", "pony", "--prompt", "x", "--no-wait"}))
	require.Equal(t, "t-7\n", out.String())
	require.Error(t, Generate(context.Background(), env, []string{"--model", "pony", "a", "stray", "prompt"}))
}

// TestTerminalProgressIsABarWithStageStepAndETA renders statuses on a "terminal".
func TestTerminalProgressIsABarWithStageStepAndETA(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	v := newBarView(&out, 0)
	now := time.Unix(0, 0)
	v.eta.now = func() time.Time { return now }
	for i, p := range []float64{10, 30, 50} {
		now = now.Add(time.Duration(i) * time.Second)
		v.update(&client.Status{Status: "processing", Stage: "inference", StageDetail: fmt.Sprintf("step %d/20", int(p/5)), Progress: p})
	}
	v.close()
	require.Contains(t, out.String(), "processing · inference · step 10/20 · ETA 4s")
	require.Contains(t, out.String(), " 50% |")
	require.True(t, bytes.HasSuffix(out.Bytes(), []byte("|  \n")), "close ends the bar's line once: %q", out.String())
}

func TestETAUsesTheRateSinceProgressStarted(t *testing.T) {
	t.Parallel()
	now := time.Unix(0, 0)
	e := &etaEstimator{now: func() time.Time { return now }}
	_, ok := e.remaining()
	require.False(t, ok)
	e.observe(&client.Status{Status: "pending"})
	e.observe(&client.Status{Status: "processing", Progress: 0}) // loading: not counted
	now = now.Add(time.Minute)
	e.observe(&client.Status{Status: "processing", Progress: 20})
	_, ok = e.remaining()
	require.False(t, ok, "one sample says nothing about the rate")
	now = now.Add(2 * time.Second)
	e.observe(&client.Status{Status: "processing", Progress: 40})
	d, ok := e.remaining()
	require.True(t, ok)
	require.Equal(t, 6*time.Second, d, "20%% per 2s, 60%% left")
	require.Equal(t, "6s", formatETA(d))
	require.Equal(t, "2m5s", formatETA(125*time.Second))
}
