package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"
)

// TestOpenAPIMatchesTheLiveAPI fetches the contract from the running API (no key) and checks
// real answers against it: each request and answer is validated with kin-openapi's filter, so
// a field renamed in a handler, a status code or an envelope the document does not describe
// fails here.
func TestOpenAPIMatchesTheLiveAPI(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true})
	code, raw, hdr := e.do("GET", "/openapi.json", nil, map[string]string{"X-API-Key": ""})
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, hdr.Get("Content-Type"), "application/json")
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	doc.Servers = openapi3.Servers{{URL: e.baseURL}}
	router, err := gorillamux.NewRouter(doc)
	require.NoError(t, err)

	code, page, hdr := e.do("GET", "/docs", nil, map[string]string{"X-API-Key": ""})
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, hdr.Get("Content-Type"), "text/html")
	require.Contains(t, string(page), "/openapi.json")

	check := func(method, path, body string, header map[string]string, wantStatus int) []byte {
		t.Helper()
		req, err := http.NewRequest(method, e.baseURL+path, strings.NewReader(body))
		require.NoError(t, err)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("X-API-Key", testAPIKey)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		route, params, err := router.FindRoute(req)
		require.NoError(t, err, "%s %s is in the contract", method, path)
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
		require.NoError(t, openapi3filter.ValidateRequest(context.Background(), in), "%s %s request", method, path)
		// ValidateRequest read the body; send it again.
		req.Body = io.NopCloser(strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, wantStatus, resp.StatusCode, "%s %s: %s", method, path, out)
		rv := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
			Body: io.NopCloser(bytes.NewReader(out)), Options: &openapi3filter.Options{IncludeResponseStatus: true}}
		require.NoError(t, openapi3filter.ValidateResponse(context.Background(), rv), "%s %s answer %d: %s", method, path, resp.StatusCode, out)
		return out
	}
	check("GET", "/health", "", nil, http.StatusOK)
	check("GET", "/models", "", nil, http.StatusOK)
	check("GET", "/settings", "", nil, http.StatusOK)
	accepted := check("POST", "/generate", `{"model":"pony","prompt":"contract","width":512,"height":512}`, map[string]string{"Idempotency-Key": "contract-1"}, http.StatusAccepted)
	id := decodeAccepted(t, accepted)
	check("POST", "/generate", `{"model":"pony","prompt":"contract","width":512,"height":512}`, map[string]string{"Idempotency-Key": "contract-1"}, http.StatusOK)
	check("GET", "/status/"+id, "", nil, http.StatusOK)
	check("POST", "/generate", `{"model":"sdxl","prompt":"x"}`, nil, http.StatusUnprocessableEntity)
	check("GET", "/status/00000000-0000-4000-8000-000000000000", "", nil, http.StatusNotFound)
	check("GET", "/results/"+id, "", nil, http.StatusNotFound)
	check("GET", "/gallery?per_page=5", "", nil, http.StatusOK)
	check("POST", "/tasks/"+id+"/cancel", "", nil, http.StatusAccepted)
}

func decodeAccepted(t *testing.T, body []byte) string {
	t.Helper()
	var a acceptedTask
	require.NoError(t, json.Unmarshal(body, &a))
	require.NotEmpty(t, a.TaskID)
	return a.TaskID
}
