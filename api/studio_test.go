package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/settings"
)

func newStudioServer(t *testing.T, bundle fstest.MapFS) *Server {
	t.Helper()
	cat, err := settings.LoadDefault()
	require.NoError(t, err)
	s, err := New(Config{APIKey: "test-key-0123456789abcdef", Logger: slog.New(slog.DiscardHandler), Studio: bundle}, Deps{Catalogue: cat})
	require.NoError(t, err)
	return s
}

func TestStudioPagesServeTheBundleUnderAStrictCSP(t *testing.T) {
	t.Parallel()
	s := newStudioServer(t, fstest.MapFS{
		"index.html":           {Data: []byte(`<!doctype html><script type="module" src="/assets/index-abc.js"></script>`)},
		"assets/index-abc.js":  {Data: []byte(`console.log(1)`)},
		"assets/index-abc.css": {Data: []byte(`body{}`)},
	})
	for _, path := range []string{"/", "/admin"} {
		resp, body := get(t, s, path)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		require.Contains(t, string(body), "/assets/index-abc.js")
		require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
		csp := resp.Header.Get("Content-Security-Policy")
		require.Contains(t, csp, "script-src 'self'")
		require.Contains(t, csp, "frame-ancestors 'none'")
		require.NotContains(t, csp, "unsafe-inline")
		require.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	}

	resp, body := get(t, s, "/assets/index-abc.js")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "console.log(1)", string(body))
	require.Contains(t, resp.Header.Get("Content-Type"), "javascript")
	require.Equal(t, "public, max-age=31536000, immutable", resp.Header.Get("Cache-Control"))
	resp, _ = get(t, s, "/assets/index-abc.css")
	require.Contains(t, resp.Header.Get("Content-Type"), "text/css")

	for _, path := range []string{"/assets/missing.js", "/assets/..%2findex.html", "/assets/.hidden"} {
		resp, body := get(t, s, path)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, path)
		require.Equal(t, "route_not_found", decodeCode(t, body), path)
	}
}

func TestStudioNotBuiltAnswersAnEnvelopeSayingHowToBuildIt(t *testing.T) {
	t.Parallel()
	s := newStudioServer(t, fstest.MapFS{".keep": {Data: []byte("x")}})
	for _, path := range []string{"/", "/admin"} {
		resp, body := get(t, s, path)
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		require.Equal(t, "studio_not_built", decodeCode(t, body))
		require.Contains(t, string(body), "make web")
	}
	resp, _ := get(t, s, "/assets/index.js")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func decodeCode(t *testing.T, body []byte) string {
	t.Helper()
	var env Error
	require.NoError(t, json.Unmarshal(body, &env), string(body))
	return env.Code
}
