package stack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"image/color"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/artifact"
)

// galleryAnswer is GET /gallery's answer.
type galleryAnswer struct {
	Items []struct {
		ID             string         `json:"id"`
		Model          string         `json:"model"`
		Type           string         `json:"type"`
		Mode           string         `json:"mode"`
		Prompt         string         `json:"prompt"`
		NegativePrompt string         `json:"negative_prompt"`
		Parameters     map[string]any `json:"parameters"`
		Width          int            `json:"width"`
		Height         int            `json:"height"`
		Seed           int64          `json:"seed"`
		CreatedAt      time.Time      `json:"created_at"`
		PreviewURL     string         `json:"preview_url"`
		ResultURL      string         `json:"result_url"`
	} `json:"items"`
	Total   int  `json:"total"`
	Page    int  `json:"page"`
	PerPage int  `json:"per_page"`
	HasMore bool `json:"has_more"`
}

func (e *env) gallery(query string) galleryAnswer {
	e.t.Helper()
	code, body, _ := e.do("GET", "/gallery"+query, nil, nil)
	require.Equal(e.t, http.StatusOK, code, string(body))
	var g galleryAnswer
	require.NoError(e.t, json.Unmarshal(body, &g), string(body))
	return g
}

// doneTask submits a pony generation and waits for it to be done.
func (e *env) doneTask(req map[string]any) string {
	e.t.Helper()
	id := e.submit(req)
	seen := e.waitTerminal(id, 60*time.Second)
	require.Equal(e.t, "done", seen[len(seen)-1].Status, "%+v", seen[len(seen)-1])
	return id
}

// TestGalleryListsDoneResultsAndDeleteRemovesTheirFiles: two real generations (one with a
// reference image) and three records that are not gallery items; the gallery lists the two with
// every field, pages and filters them, refuses bad parameters naming the field, and DELETE
// removes an item's record, result, preview and reference image.
func TestGalleryListsDoneResultsAndDeleteRemovesTheirFiles(t *testing.T) {
	e := setup(t, envOptions{gpuModels: []string{"pony"}})
	first := e.doneTask(map[string]any{"model": "pony", "prompt": "first", "negative_prompt": "blur", "width": 512, "height": 768, "seed": 7})
	second := e.doneTask(map[string]any{"model": "pony", "mode": "img2img", "prompt": "second", "width": 512, "height": 512,
		"reference_image": solidPNG(t, color.RGBA{R: 200, A: 255}), "denoising_strength": 0.5})
	live := e.storedTask() // pending, no workflow
	_, err := e.store.Pool().Exec(context.Background(), `insert into tasks (id, workflow_id, status, lane, model, type, mode, parameters, expires_at)
		values ('00000000-0000-4000-8000-000000000001', 'w1', 'failed', 'gpu-pony', 'pony', 'image', 'txt2img', '{}', null),
		       ('00000000-0000-4000-8000-000000000002', 'w2', 'done', 'gpu-pony', 'pony', 'image', 'txt2img', '{}', now() - interval '1 hour')`)
	require.NoError(t, err)

	g := e.gallery("")
	require.Equal(t, 2, g.Total)
	require.Equal(t, 1, g.Page)
	require.Equal(t, 20, g.PerPage)
	require.False(t, g.HasMore)
	require.Len(t, g.Items, 2)
	require.Equal(t, second, g.Items[0].ID, "newest first")
	it := g.Items[1]
	require.Equal(t, first, it.ID)
	require.Equal(t, "pony", it.Model)
	require.Equal(t, "image", it.Type)
	require.Equal(t, "txt2img", it.Mode)
	require.Equal(t, "first", it.Prompt)
	require.Equal(t, "blur", it.NegativePrompt)
	require.Equal(t, 512, it.Width)
	require.Equal(t, 768, it.Height)
	require.EqualValues(t, 7, it.Seed)
	require.NotEmpty(t, it.Parameters)
	require.False(t, it.CreatedAt.IsZero())
	st := e.getStatus(first)
	require.Equal(t, st.ResultURL[:strings.IndexByte(st.ResultURL+"?", '?')], it.ResultURL[:strings.IndexByte(it.ResultURL+"?", '?')])
	for _, u := range []string{it.ResultURL, it.PreviewURL} {
		code, body, _ := e.do("GET", u, nil, nil)
		require.Equal(t, http.StatusOK, code, "%s: %s", u, body)
		require.NotEmpty(t, body)
	}

	g = e.gallery("?per_page=1&page=1&sort=height")
	require.Equal(t, first, g.Items[0].ID, "768 high first")
	require.True(t, g.HasMore)
	g = e.gallery("?per_page=1&page=2&sort=height")
	require.Equal(t, second, g.Items[0].ID)
	require.False(t, g.HasMore)
	require.Equal(t, 2, e.gallery("?model=pony&type=image").Total)
	require.Zero(t, e.gallery("?model=flux").Total)
	require.Zero(t, e.gallery("?type=video").Total)
	require.Empty(t, e.gallery("?page=9").Items)

	for query, field := range map[string]string{
		"?page=0": "page", "?page=abc": "page", "?per_page=0": "per_page", "?per_page=101": "per_page",
		"?sort=id": "sort", "?model=sdxl": "model", "?type=audio": "type",
		"?model=" + url.QueryEscape("pony' or '1'='1"): "model", "?sort=" + url.QueryEscape("created_at; drop table tasks"): "sort",
	} {
		code, body, _ := e.do("GET", "/gallery"+query, nil, nil)
		require.Equal(t, http.StatusUnprocessableEntity, code, "%s: %s", query, body)
		env := decodeEnvelope(t, body)
		require.Equal(t, "validation_error", env.Code)
		raw, _ := json.Marshal(env.Metadata["fields"])
		require.Contains(t, string(raw), `"field":"`+field+`"`, query)
	}
	require.Equal(t, 2, e.gallery("").Total, "the tasks table is still there")
	code, body, _ := e.do("GET", "/gallery", nil, map[string]string{"X-API-Key": ""})
	require.Equal(t, http.StatusForbidden, code, string(body))

	// Delete the img2img item: record, result, preview and reference image all go.
	task, err := e.store.GetTask(context.Background(), second)
	require.NoError(t, err)
	keys := []string{task.ResultKey, task.PreviewKey}
	require.Len(t, task.Inputs, 1)
	keys = append(keys, task.Inputs[0].Key)
	for _, k := range keys {
		_, err := e.artifacts.Stat(context.Background(), k)
		require.NoError(t, err, k)
	}
	code, body, _ = e.do("DELETE", "/gallery/"+second, nil, nil)
	require.Equal(t, http.StatusNoContent, code, string(body))
	for _, k := range keys {
		_, err := e.artifacts.Stat(context.Background(), k)
		require.ErrorIs(t, err, artifact.ErrNotFound, k)
	}
	code, _, _ = e.do("GET", "/status/"+second, nil, nil)
	require.Equal(t, http.StatusNotFound, code)
	g = e.gallery("")
	require.Equal(t, 1, g.Total)
	require.Equal(t, first, g.Items[0].ID)

	code, body, _ = e.do("DELETE", "/gallery/"+second, nil, nil)
	require.Equal(t, http.StatusNotFound, code, string(body))
	require.Equal(t, "not_found", decodeEnvelope(t, body).Code)
	code, body, _ = e.do("DELETE", "/gallery/not-a-task-id", nil, nil)
	require.Equal(t, http.StatusNotFound, code, string(body))
	require.Equal(t, "not_found", decodeEnvelope(t, body).Code)
	code, body, _ = e.do("DELETE", "/gallery/"+live, nil, nil)
	require.Equal(t, http.StatusConflict, code, string(body))
	require.Equal(t, "task_still_running", decodeEnvelope(t, body).Code)
	require.Equal(t, "pending", e.getStatus(live).Status)
}

// TestMediaServesValidatorsRangesAndCaching: a real result and preview carry their type, a
// strong ETag, Last-Modified and an immutable private Cache-Control; conditional requests get
// 304, single and multiple ranges 206, a range past the end 416 in the envelope; once the file
// is gone the task answers 410 result_file_missing.
func TestMediaServesValidatorsRangesAndCaching(t *testing.T) {
	e := setup(t, envOptions{gpuModels: []string{"pony"}})
	id := e.doneTask(map[string]any{"model": "pony", "prompt": "media", "width": 512, "height": 512})

	code, img, hdr := e.do("GET", "/results/"+id, nil, nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "image/png", hdr.Get("Content-Type"))
	etag := hdr.Get("ETag")
	require.Regexp(t, `^"[0-9a-f]{32}"$`, etag, "a strong validator")
	lastModified := hdr.Get("Last-Modified")
	_, err := http.ParseTime(lastModified)
	require.NoError(t, err, lastModified)
	require.Equal(t, "private, max-age=31536000, immutable", hdr.Get("Cache-Control"))
	require.Equal(t, []string{"nosniff"}, hdr.Values("X-Content-Type-Options"))
	require.Equal(t, strconv.Itoa(len(img)), hdr.Get("Content-Length"))

	code, body, hdr := e.do("GET", "/results/"+id, nil, map[string]string{"If-None-Match": etag})
	require.Equal(t, http.StatusNotModified, code)
	require.Empty(t, body)
	require.Equal(t, etag, hdr.Get("ETag"))
	require.Equal(t, "private, max-age=31536000, immutable", hdr.Get("Cache-Control"))
	code, _, _ = e.do("GET", "/results/"+id, nil, map[string]string{"If-None-Match": `"other", ` + etag})
	require.Equal(t, http.StatusNotModified, code)
	code, _, _ = e.do("GET", "/results/"+id, nil, map[string]string{"If-Modified-Since": lastModified})
	require.Equal(t, http.StatusNotModified, code)
	code, body, _ = e.do("GET", "/results/"+id, nil, map[string]string{"If-None-Match": `"other"`})
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, img, body)

	code, part, hdr := e.do("GET", "/results/"+id, nil, map[string]string{"Range": "bytes=10-19"})
	require.Equal(t, http.StatusPartialContent, code)
	require.Equal(t, img[10:20], part)
	require.Equal(t, fmt.Sprintf("bytes 10-19/%d", len(img)), hdr.Get("Content-Range"))
	code, part, _ = e.do("GET", "/results/"+id, nil, map[string]string{"Range": "bytes=-4"})
	require.Equal(t, http.StatusPartialContent, code)
	require.Equal(t, img[len(img)-4:], part, "suffix range")
	code, part, _ = e.do("GET", "/results/"+id, nil, map[string]string{"Range": "bytes=10-19", "If-Range": etag})
	require.Equal(t, http.StatusPartialContent, code)
	require.Equal(t, img[10:20], part)
	code, _, _ = e.do("GET", "/results/"+id, nil, map[string]string{"Range": "bytes=10-19", "If-Range": `"stale"`})
	require.Equal(t, http.StatusOK, code, "a stale If-Range gets the whole file")

	code, multi, hdr := e.do("GET", "/results/"+id, nil, map[string]string{"Range": "bytes=0-3,8-11"})
	require.Equal(t, http.StatusPartialContent, code)
	require.True(t, strings.HasPrefix(hdr.Get("Content-Type"), "multipart/byteranges; boundary="), hdr.Get("Content-Type"))
	require.Contains(t, string(multi), "Content-Range: bytes 0-3/"+strconv.Itoa(len(img)))
	require.Contains(t, string(multi), "Content-Range: bytes 8-11/"+strconv.Itoa(len(img)))
	require.Contains(t, string(multi), string(img[0:4]))
	require.Contains(t, string(multi), string(img[8:12]))

	code, body, hdr = e.do("GET", "/results/"+id, nil, map[string]string{"Range": fmt.Sprintf("bytes=%d-", len(img)+10)})
	require.Equal(t, http.StatusRequestedRangeNotSatisfiable, code, string(body))
	require.Equal(t, "range_not_satisfiable", decodeEnvelope(t, body).Code)
	require.Equal(t, fmt.Sprintf("bytes */%d", len(img)), hdr.Get("Content-Range"))
	require.Equal(t, "no-store", hdr.Get("Cache-Control"), "an error is not cached as the file")
	require.Empty(t, hdr.Get("ETag"))

	code, prev, hdr := e.do("GET", "/preview/"+id, nil, nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "image/jpeg", hdr.Get("Content-Type"))
	require.NotEmpty(t, prev)
	require.Regexp(t, `^"[0-9a-f]{32}"$`, hdr.Get("ETag"))
	require.NotEqual(t, etag, hdr.Get("ETag"))
	require.Equal(t, "private, max-age=31536000, immutable", hdr.Get("Cache-Control"))

	task, err := e.store.GetTask(context.Background(), id)
	require.NoError(t, err)
	require.NoError(t, e.artifacts.Delete(context.Background(), task.ResultKey))
	code, body, hdr = e.do("GET", "/results/"+id, nil, nil)
	require.Equal(t, http.StatusGone, code, string(body))
	env := decodeEnvelope(t, body)
	require.Equal(t, "result_file_missing", env.Code)
	require.Contains(t, strings.ToLower(env.UserAction), "regenerate")
	require.Equal(t, "no-store", hdr.Get("Cache-Control"))
	code, _, _ = e.do("GET", "/preview/"+id, nil, nil)
	require.Equal(t, http.StatusOK, code, "the preview is still there")
}

// TestSecurityHeadersOnEveryResponse: successes, errors of handlers and middleware, and unknown
// routes all carry nosniff, no-referrer and no-framing; JSON answers are not stored by caches.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true})
	id := e.storedTask()
	for _, tc := range []struct {
		method, path string
		header       map[string]string
		status       int
	}{
		{"GET", "/health", nil, http.StatusOK},
		{"GET", "/models", nil, http.StatusOK},
		{"GET", "/status/" + id, nil, http.StatusOK},
		{"GET", "/gallery", nil, http.StatusOK},
		{"GET", "/gallery", map[string]string{"X-API-Key": "wrong-key-0123456789"}, http.StatusForbidden},
		{"GET", "/status/00000000-0000-4000-8000-000000000000", nil, http.StatusNotFound},
		{"GET", "/results/" + id, nil, http.StatusNotFound},
		{"GET", "/no/such/route", nil, http.StatusNotFound},
		{"POST", "/generate", map[string]string{"Content-Type": "application/json"}, http.StatusBadRequest},
	} {
		code, body, hdr := e.do(tc.method, tc.path, nil, tc.header)
		name := tc.method + " " + tc.path
		require.Equal(t, tc.status, code, "%s: %s", name, body)
		require.Equal(t, "nosniff", hdr.Get("X-Content-Type-Options"), name)
		require.Equal(t, "no-referrer", hdr.Get("Referrer-Policy"), name)
		require.Equal(t, "DENY", hdr.Get("X-Frame-Options"), name)
		require.Equal(t, "frame-ancestors 'none'", hdr.Get("Content-Security-Policy"), name)
		require.True(t, strings.HasPrefix(hdr.Get("Content-Type"), "application/json"), "%s: %s", name, hdr.Get("Content-Type"))
		require.Equal(t, "no-store", hdr.Get("Cache-Control"), name)
	}
}

// TestCORSAllowsOnlyConfiguredOrigins: a preflight from a configured origin is answered for that
// origin with credentials allowed; one from any other origin gets no Access-Control-Allow-Origin,
// so the browser refuses the call. Simple requests likewise.
func TestCORSAllowsOnlyConfiguredOrigins(t *testing.T) {
	const allowed = "https://studio.example.com"
	e := setup(t, envOptions{noGPUWorker: true, corsOrigins: []string{allowed, "http://localhost:5173"}})
	preflight := func(origin string) (int, http.Header) {
		code, _, hdr := e.do("OPTIONS", "/gallery", nil, map[string]string{
			"Origin": origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-api-key",
			"X-API-Key": "", "Content-Type": "",
		})
		return code, hdr
	}
	code, hdr := preflight(allowed)
	require.Equal(t, http.StatusNoContent, code)
	require.Equal(t, allowed, hdr.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", hdr.Get("Access-Control-Allow-Credentials"))
	require.Contains(t, strings.ToLower(hdr.Get("Access-Control-Allow-Headers")), "x-api-key")
	require.Contains(t, hdr.Get("Access-Control-Allow-Methods"), "DELETE")
	require.Equal(t, "nosniff", hdr.Get("X-Content-Type-Options"))

	for _, origin := range []string{"https://evil.example.com", "https://studio.example.com.evil.example", "null"} {
		_, hdr := preflight(origin)
		require.Empty(t, hdr.Get("Access-Control-Allow-Origin"), origin)
		require.Empty(t, hdr.Get("Access-Control-Allow-Credentials"), origin)
	}

	code, _, hdr = e.do("GET", "/gallery", nil, map[string]string{"Origin": allowed})
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, allowed, hdr.Get("Access-Control-Allow-Origin"))
	require.Contains(t, hdr.Get("Access-Control-Expose-Headers"), "ETag")
	require.Contains(t, hdr.Values("Vary"), "Origin")
	code, _, hdr = e.do("GET", "/gallery", nil, map[string]string{"Origin": "https://evil.example.com"})
	require.Equal(t, http.StatusOK, code, "the server answers; the browser withholds it")
	require.Empty(t, hdr.Get("Access-Control-Allow-Origin"))
}
