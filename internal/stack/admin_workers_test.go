package stack_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// workerAnswer is the answer of POST /workers/register and /workers/heartbeat.
type workerAnswer struct {
	AccountID    string   `json:"account_id"`
	Status       string   `json:"status"`
	StatusReason string   `json:"status_reason"`
	Lanes        []string `json:"lanes"`
	TakeWork     bool     `json:"take_work"`
	Usage        float64  `json:"usage_gpu_seconds"`
}

func (e *env) worker(path, token string, body any) (int, workerAnswer, []byte) {
	e.t.Helper()
	code, raw, _ := e.do("POST", path, body, noKey("X-Worker-Token", token))
	var a workerAnswer
	if code == http.StatusOK {
		require.NoError(e.t, json.Unmarshal(raw, &a), string(raw))
	}
	return code, a, raw
}

func TestAccountWorkerRegistersServesOnlyAllowedLanesAndIsStoppedByLimitDisableAndDelete(t *testing.T) {
	e, _ := adminSetup(t, true, nil)
	cookie := e.adminLogin().Value
	shared := e.catalogue.SharedLane().TaskQueue
	a := e.createAccount(cookie, "rig", []string{e.lane("pony"), shared}, 100)

	// Wrong tokens: refused.
	for _, tok := range []string{"", "garbage", a.ID + ".wrong-secret", a.ID, "00000000-0000-0000-0000-000000000000.x"} {
		code, _, body := e.worker("/workers/register", tok, map[string]any{"host": "h"})
		require.Equal(t, http.StatusUnauthorized, code, tok)
		require.Equal(t, "invalid_worker_token", decodeEnvelope(t, body).Code)
	}
	code, raw, _ := e.do("POST", "/workers/register", map[string]any{"host": "h"}, nil)
	require.Equal(t, http.StatusUnauthorized, code, "the API key is not a worker token")
	require.Equal(t, "invalid_worker_token", decodeEnvelope(t, raw).Code)

	code, ans, body := e.worker("/workers/register", a.WorkerToken, map[string]any{
		"host": "gpu-host-1", "gpu_name": "RTX 4090", "gpu_memory_mb": 24564,
		"lanes": []string{e.lane("pony"), e.lane("flux"), shared}, "runner_versions": map[string]string{"cpu": "1"},
	})
	require.Equal(t, http.StatusOK, code, string(body))
	require.Equal(t, "ready", ans.Status, "pending → ready at the first registration")
	require.Equal(t, []string{e.lane("pony"), shared}, ans.Lanes, "only the lanes the account allows")
	require.True(t, ans.TakeWork)
	code, body, _ = e.admin("GET", "/admin/accounts/"+a.ID, nil, cookie)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(body), "RTX 4090", "the registration is kept with the account")

	// Usage: at 90% of the monthly limit the workers stop taking new work.
	code, ans, body = e.worker("/workers/heartbeat", a.WorkerToken, map[string]any{"gpu_seconds": 89})
	require.Equal(t, http.StatusOK, code, string(body))
	require.True(t, ans.TakeWork)
	code, ans, _ = e.worker("/workers/heartbeat", a.WorkerToken, map[string]any{"gpu_seconds": 1})
	require.Equal(t, http.StatusOK, code)
	require.InDelta(t, 90, ans.Usage, 1e-9)
	require.False(t, ans.TakeWork, "90% of the limit")
	code, _, _ = e.admin("POST", "/admin/accounts/"+a.ID+"/reset-usage", nil, cookie)
	require.Equal(t, http.StatusOK, code)
	code, ans, _ = e.worker("/workers/heartbeat", a.WorkerToken, nil)
	require.Equal(t, http.StatusOK, code)
	require.True(t, ans.TakeWork)

	// A quota error reported by the worker disables the account at once.
	code, ans, _ = e.worker("/workers/heartbeat", a.WorkerToken, map[string]any{"failure": map[string]any{"permanent": true, "reason": "provider quota exhausted"}})
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "disabled", ans.Status)
	require.False(t, ans.TakeWork)
	code, _, body = e.worker("/workers/register", a.WorkerToken, map[string]any{"host": "gpu-host-1"})
	require.Equal(t, http.StatusForbidden, code)
	require.Equal(t, "account_disabled", decodeEnvelope(t, body).Code)

	// Enabled by an admin, disabled by an admin: the next heartbeat says stop.
	code, _, _ = e.admin("POST", "/admin/accounts/"+a.ID+"/enable", nil, cookie)
	require.Equal(t, http.StatusOK, code)
	code, ans, _ = e.worker("/workers/register", a.WorkerToken, map[string]any{"host": "gpu-host-1"})
	require.Equal(t, http.StatusOK, code)
	require.True(t, ans.TakeWork)
	code, _, _ = e.admin("POST", "/admin/accounts/"+a.ID+"/disable", map[string]any{"reason": "maintenance"}, cookie)
	require.Equal(t, http.StatusOK, code)
	code, ans, _ = e.worker("/workers/heartbeat", a.WorkerToken, nil)
	require.Equal(t, http.StatusOK, code)
	require.False(t, ans.TakeWork)
	require.Contains(t, ans.StatusReason, "maintenance")

	// Deleted: the token no longer authenticates.
	code, _, _ = e.admin("DELETE", "/admin/accounts/"+a.ID, nil, cookie)
	require.Equal(t, http.StatusNoContent, code)
	code, _, body = e.worker("/workers/heartbeat", a.WorkerToken, nil)
	require.Equal(t, http.StatusUnauthorized, code)
	require.Equal(t, "invalid_worker_token", decodeEnvelope(t, body).Code)
}

func TestAccountWorkerTransientFailuresCoolDownAndTheSixthDisables(t *testing.T) {
	e, _ := adminSetup(t, true, nil)
	cookie := e.adminLogin().Value
	a := e.createAccount(cookie, "flaky", []string{e.lane("pony")}, 0)
	code, _, _ := e.worker("/workers/register", a.WorkerToken, map[string]any{"host": "h"})
	require.Equal(t, http.StatusOK, code)
	for i := 1; i <= 6; i++ {
		code, ans, body := e.worker("/workers/heartbeat", a.WorkerToken, map[string]any{"failure": map[string]any{"reason": "CUDA driver reset"}})
		require.Equal(t, http.StatusOK, code, string(body))
		require.False(t, ans.TakeWork)
		if i < 6 {
			require.Equal(t, "failed", ans.Status, "failure %d", i)
			code, _, body := e.worker("/workers/register", a.WorkerToken, map[string]any{"host": "h"})
			require.Equal(t, http.StatusServiceUnavailable, code)
			require.Equal(t, "account_cooling_down", decodeEnvelope(t, body).Code, "no recovery within the 300 s cooldown")
		} else {
			require.Equal(t, "disabled", ans.Status, "the sixth failure disables")
		}
	}
}
