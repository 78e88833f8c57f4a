package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/settings"
)

// newTestServer builds the API without services: routes and the handlers that need none
// (health, the contract, the docs page, settings) work; the rest are not called.
func newTestServer(t *testing.T) *Server {
	t.Helper()
	cat, err := settings.LoadDefault()
	require.NoError(t, err)
	s, err := New(Config{APIKey: "test-key-0123456789abcdef", Logger: slog.New(slog.DiscardHandler)}, Deps{Catalogue: cat})
	require.NoError(t, err)
	return s
}

func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPI())
	require.NoError(t, err)
	return doc
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	require.NoError(t, doc.Validate(context.Background(), openapi3.EnableExamplesValidation()))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3."), doc.OpenAPI)
}

// fiberParam matches a Fiber route parameter such as ":task_id".
var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// registeredRoutes lists "METHOD /path" for every route the app serves, in OpenAPI path syntax,
// leaving out middleware and the HEAD and OPTIONS routes Fiber adds by itself.
func registeredRoutes(t *testing.T, s *Server) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, r := range s.App().GetRoutes(true) {
		if r.Method == http.MethodHead || r.Method == http.MethodOptions || r.Method == "USE" {
			continue
		}
		require.NotContains(t, r.Path, "*", "route %s %s: wildcards have no OpenAPI path; describe it by hand and teach this test", r.Method, r.Path)
		require.NotContains(t, r.Path, "?", "route %s %s: optional parameters have no OpenAPI path; register two routes", r.Method, r.Path)
		seen[r.Method+" "+fiberParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIDescribesEveryRegisteredRoute reads the live route list, so a route added to
// routes.go without a spec entry (or a spec entry whose route was removed) fails here.
func TestOpenAPIDescribesEveryRegisteredRoute(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	var described []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			described = append(described, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(described)
	routes := registeredRoutes(t, newTestServer(t))
	require.NotEmpty(t, routes)
	for _, r := range routes {
		require.Contains(t, described, r, "route %s is registered but api/openapi.yaml does not describe it", r)
	}
	for _, d := range described {
		require.Contains(t, routes, d, "api/openapi.yaml describes %s but no such route is registered", d)
	}
}

// newErrorCode finds the code of every envelope the package builds: newError(status, "code", …).
var newErrorCode = regexp.MustCompile(`newError\(\s*[^,]+,\s*"([a-z0-9_]+)"`)

// TestOpenAPIListsEveryErrorCode reads the package's sources, so an error code added to a
// handler without adding it to the contract's Error.code enum fails here.
func TestOpenAPIListsEveryErrorCode(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	errSchema := doc.Components.Schemas["Error"]
	require.NotNil(t, errSchema)
	var listed []string
	for _, v := range errSchema.Value.Properties["code"].Value.Enum {
		listed = append(listed, v.(string))
	}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	found := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range newErrorCode.FindAllStringSubmatch(string(src), -1) {
			found[m[1]] = true
		}
	}
	require.Contains(t, found, "invalid_api_key", "the scan finds the package's codes")
	for code := range found {
		require.True(t, slices.Contains(listed, code), "error code %q is answered by the api package but missing from Error.code in api/openapi.yaml", code)
	}
}

func get(t *testing.T, s *Server, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := s.App().Test(httptest.NewRequest(http.MethodGet, path, nil), -1)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

func TestOpenAPIIsServedAsJSONWithoutAKey(t *testing.T) {
	t.Parallel()
	resp, body := get(t, newTestServer(t), "/openapi.json")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Contains(t, resp.Header.Get("Content-Type"), "application/json")
	var doc map[string]any
	require.NoError(t, json.Unmarshal(body, &doc))
	require.Equal(t, "Gooni API", doc["info"].(map[string]any)["title"])
	require.Contains(t, doc["paths"], "/generate")
}

// TestOpenAPIDocsPageRendersTheSpecWithNothingFromOutside checks the page loads /openapi.json,
// references no outside asset and that its CSP allows exactly its inline style and script.
func TestOpenAPIDocsPageRendersTheSpecWithNothingFromOutside(t *testing.T) {
	t.Parallel()
	resp, body := get(t, newTestServer(t), "/docs")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/html")
	page := string(body)
	require.Contains(t, page, `fetch("/openapi.json"`)
	require.NotRegexp(t, `(src|href)="(https?:)?//`, page, "no outside assets")
	require.NotContains(t, page, "{{", "every placeholder is filled")

	csp := resp.Header.Get("Content-Security-Policy")
	for _, tag := range []string{"script", "style"} {
		m := regexp.MustCompile(`(?s)<` + tag + `>(.*?)</` + tag + `>`).FindStringSubmatch(page)
		require.Len(t, m, 2, "one inline %s", tag)
		sum := sha256.Sum256([]byte(m[1]))
		require.Contains(t, csp, tag+"-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'", "the CSP allows the inline %s", tag)
	}
	require.Contains(t, csp, "default-src 'none'")
}

func TestSettingsServesTheWholeCatalogueWithoutAKey(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	resp, body := get(t, s, "/settings")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Contains(t, resp.Header.Get("Content-Type"), "application/json")
	require.JSONEq(t, string(s.deps.Catalogue.Raw()), string(body))
	require.Contains(t, string(body), `"runtime"`, "runtime blocks are kept: they hold no secrets")
}
