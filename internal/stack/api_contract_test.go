package stack_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// countTasks counts the rows in the test's tasks table.
func (e *env) countTasks() int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.store.Pool().QueryRow(context.Background(), "select count(*) from tasks").Scan(&n))
	return n
}

func TestBadRequestsGetTheEnvelopeAndCreateNothing(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true, bodyLimit: 1 << 20})
	cases := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"malformed json", `{"model": "pony",`, http.StatusBadRequest, "invalid_json", ""},
		{"not an object", `[1,2]`, http.StatusBadRequest, "invalid_json", ""},
		{"unknown model", map[string]any{"model": "sdxl", "prompt": "x"}, http.StatusUnprocessableEntity, "validation_error", "model"},
		{"blank prompt", map[string]any{"model": "pony", "prompt": "   "}, http.StatusUnprocessableEntity, "validation_error", "prompt"},
		{"unknown field", map[string]any{"model": "pony", "prompt": "x", "lora": "y"}, http.StatusUnprocessableEntity, "validation_error", "lora"},
		{"out of range", map[string]any{"model": "pony", "prompt": "x", "steps": 500}, http.StatusUnprocessableEntity, "validation_error", "steps"},
		{"fixed parameter", map[string]any{"model": "anisora", "mode": "t2v", "prompt": "x", "steps": 20}, http.StatusUnprocessableEntity, "validation_error", "steps"},
		{"missing reference", map[string]any{"model": "pony", "mode": "img2img", "prompt": "x"}, http.StatusUnprocessableEntity, "validation_error", "reference_image"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body, _ := e.do("POST", "/generate", tc.body, nil)
			require.Equal(t, tc.status, code, string(body))
			env := decodeEnvelope(t, body)
			require.Equal(t, tc.code, env.Code)
			if tc.field != "" {
				raw, _ := json.Marshal(env.Metadata["fields"])
				require.Contains(t, string(raw), `"field":"`+tc.field, "metadata names the failing field: %s", raw)
			}
		})
	}
	t.Run("body over the limit", func(t *testing.T) {
		// A raw request announcing a body over the limit: the server answers 413 from the headers
		// without reading the body (an HTTP client still writing the body could see a reset).
		conn, err := net.Dial("tcp", strings.TrimPrefix(e.baseURL, "http://"))
		require.NoError(t, err)
		defer conn.Close()
		_, err = fmt.Fprintf(conn, "POST /generate HTTP/1.1\r\nHost: gooni\r\nX-API-Key: %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n{", testAPIKey, 2<<20)
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, string(body))
		require.Equal(t, "payload_too_large", decodeEnvelope(t, body).Code)
	})
	require.Equal(t, 0, e.countTasks(), "no bad request created a task")
}

func TestAPIKeyIsRequiredComparedAndNeverLogged(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true})
	code, _, _ := e.do("GET", "/health", nil, map[string]string{"X-API-Key": ""})
	require.Equal(t, http.StatusOK, code, "health needs no key")
	var body []byte
	code, _, _ = e.do("GET", "/models", nil, map[string]string{"X-API-Key": ""})
	require.Equal(t, http.StatusOK, code, "the public catalogue needs no key")

	for _, key := range []string{"", "wrong-key-wrong-key", testAPIKey + "x"} {
		code, body, _ = e.do("POST", "/generate", map[string]any{"model": "pony", "prompt": "x"}, map[string]string{"X-API-Key": key})
		require.Equal(t, http.StatusForbidden, code)
		require.Equal(t, "invalid_api_key", decodeEnvelope(t, body).Code)
	}
	const missing = "00000000-0000-4000-8000-000000000000"
	code, body, _ = e.do("GET", "/status/"+missing+"?api_key="+testAPIKey, nil, map[string]string{"X-API-Key": ""})
	require.Equal(t, http.StatusNotFound, code, "the api_key query parameter is accepted")
	require.Equal(t, "task_not_found", decodeEnvelope(t, body).Code)
	code, body, _ = e.do("GET", "/status/not-a-uuid", nil, nil)
	require.Equal(t, http.StatusNotFound, code)
	require.Equal(t, "task_not_found", decodeEnvelope(t, body).Code)

	require.Contains(t, e.logs.String(), "api_key=REDACTED", "the access log shows the query redacted")
	require.NotContains(t, e.logs.String(), testAPIKey, "the key never reaches a log")
	require.Equal(t, 0, e.countTasks())
}

func TestModelsListsTheCatalogueFromSettings(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true})
	code, body, _ := e.do("GET", "/models", nil, nil)
	require.Equal(t, http.StatusOK, code)
	for _, id := range e.catalogue.IDs() {
		require.Contains(t, string(body), `"`+id+`"`)
	}
	require.NotContains(t, string(body), "non_retryable_codes", "runtime internals stay private")
}

func TestUnknownRouteGetsTheEnvelope(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true})
	code, body, _ := e.do("GET", "/nope", nil, nil)
	require.Equal(t, http.StatusNotFound, code)
	require.Equal(t, "route_not_found", decodeEnvelope(t, body).Code)
}
