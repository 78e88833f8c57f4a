package stack_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/gooni/gooni/api"
)

func TestReadyAnswersOKWhenPostgresAndTemporalAnswer(t *testing.T) {
	t.Parallel()
	e := setup(t, envOptions{noGPUWorker: true})
	code, body, _ := e.do("GET", "/ready", nil, map[string]string{"X-API-Key": ""})
	require.Equal(t, http.StatusOK, code, string(body))
	require.JSONEq(t, `{"status":"ready","checks":{"postgres":"ok","temporal":"ok"}}`, string(body))
}

func TestReadyAnswers503EnvelopeWhenTemporalIsUnreachable(t *testing.T) {
	t.Parallel()
	e := setup(t, envOptions{noGPUWorker: true, api: func(_ *api.Config, d *api.Deps) {
		// A client for a frontend that is not there: every call fails.
		c, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
		require.NoError(t, err)
		t.Cleanup(c.Close)
		d.Temporal = c
	}})
	code, body, _ := e.do("GET", "/ready", nil, map[string]string{"X-API-Key": ""})
	require.Equal(t, http.StatusServiceUnavailable, code, string(body))
	env := decodeEnvelope(t, body)
	require.Equal(t, "not_ready", env.Code)
	require.Equal(t, map[string]any{"postgres": "ok", "temporal": "failing"}, env.Metadata["checks"])
	require.NotContains(t, string(body), "127.0.0.1:1", "internal error text stays in the log")

	code, body, _ = e.do("GET", "/health", nil, map[string]string{"X-API-Key": ""})
	require.Equal(t, http.StatusOK, code, "liveness does not depend on Temporal")
	var h map[string]string
	require.NoError(t, json.Unmarshal(body, &h))
}
