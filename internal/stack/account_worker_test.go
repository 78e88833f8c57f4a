package stack_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/stack"
	"github.com/gooni/gooni/internal/workeraccount"
	"github.com/gooni/gooni/workers"
)

// accountWorker runs stack.RunAccountGPUWorker for the test with token and returns a channel with
// its result.
func (e *env) accountWorker(ctx context.Context, token string) <-chan error {
	e.t.Helper()
	exe, err := os.Executable()
	require.NoError(e.t, err)
	done := make(chan error, 1)
	go func() {
		done <- stack.RunAccountGPUWorker(ctx, e.temporal, e.catalogue, e.artifacts, workers.StoreReporter{Store: e.store}, stack.AccountWorkerConfig{
			GPUWorkerConfig: stack.GPUWorkerConfig{
				RunnerName:    "cpu",
				RunnerCommand: []string{exe},
				RunnerEnv:     []string{runnerEnv + "=1", "GORACE=atexit_sleep_ms=0", "GOONI_CPU_RUNNER_STEP_DELAY=20ms", "GOONI_CPU_RUNNER_LOAD_DELAY=20ms"},
				WorkDir:       e.t.TempDir(),
				Logger:        testLogger(e),
			},
			APIURL:       e.baseURL,
			Token:        token,
			Registration: workeraccount.Registration{Host: "test-host", GPUName: "none (CPU runner)"},
			RetryEvery:   200 * time.Millisecond,
		})
	}()
	return done
}

// TestAccountWorkerServesOnlyWhileItsAccountAllows: a GPU worker with an account's token
// registers, serves only the account's lanes, reports GPU time, stops taking work within a
// heartbeat when an admin disables the account and serves again once it is enabled.
func TestAccountWorkerServesOnlyWhileItsAccountAllows(t *testing.T) {
	e, _ := adminSetup(t, true, nil)
	cookie := e.adminLogin().Value
	acc := e.createAccount(cookie, "host-1", []string{e.lane("pony")}, 0)
	ctx, cancel := context.WithCancel(context.Background())
	done := e.accountWorker(ctx, acc.WorkerToken)
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})

	first := e.submit(map[string]any{"model": "pony", "prompt": "account work", "width": 512, "height": 512, "steps": 20})
	seen := e.waitTerminal(first, 60*time.Second)
	require.Equal(t, "done", seen[len(seen)-1].Status)

	require.Eventually(t, func() bool {
		code, body, _ := e.admin("GET", "/admin/accounts/"+acc.ID, nil, cookie)
		a := decodeAccount(t, body)
		used, _ := a.Usage["gpu_seconds"].(float64)
		return code == http.StatusOK && a.Status == "ready" && used > 0
	}, 20*time.Second, 200*time.Millisecond, "the account is ready and its GPU time is reported")

	code, body, _ := e.admin("POST", "/admin/accounts/"+acc.ID+"/disable", map[string]any{"reason": "test"}, cookie)
	require.Equal(t, http.StatusOK, code, string(body))
	require.Eventually(t, func() bool {
		return strings.Contains(e.logs.String(), "account says stop taking work")
	}, 20*time.Second, 100*time.Millisecond, "the worker stops taking work after a heartbeat")

	second := e.submit(map[string]any{"model": "pony", "prompt": "while disabled", "width": 512, "height": 512, "steps": 20})
	require.Never(t, func() bool {
		task, err := e.store.GetTask(context.Background(), second)
		return err != nil || task.Status != "pending"
	}, 3*time.Second, 100*time.Millisecond, "a disabled account's worker takes no work")

	code, body, _ = e.admin("POST", "/admin/accounts/"+acc.ID+"/enable", nil, cookie)
	require.Equal(t, http.StatusOK, code, string(body))
	seen = e.waitTerminal(second, 60*time.Second)
	require.Equal(t, "done", seen[len(seen)-1].Status)
	require.NotContains(t, e.logs.String(), acc.WorkerToken, "the token is never logged")
}

func TestAccountWorkerWithAWrongTokenStopsWithAClearError(t *testing.T) {
	e, _ := adminSetup(t, true, nil)
	err := <-e.accountWorker(context.Background(), "not-an-account.secret")
	require.Error(t, err)
	require.Contains(t, err.Error(), "invalid_worker_token")
}

// testLogger logs into the env's captured logs and the test log.
func testLogger(e *env) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.MultiWriter(e.logs, testWriter{e.t}), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestWhyNamesTheDisabledAccountOfALaneNoWorkerServes: "why is my task still queued" names
// the accounts allowed on the task's lane and why none of them serves it.
func TestWhyNamesTheDisabledAccountOfALaneNoWorkerServes(t *testing.T) {
	e, _ := adminSetup(t, true, nil)
	cookie := e.adminLogin().Value
	acc := e.createAccount(cookie, "rack-7", []string{e.lane("pony")}, 0)
	code, body, _ := e.admin("POST", "/admin/accounts/"+acc.ID+"/disable", map[string]any{"reason": "quota exhausted"}, cookie)
	require.Equal(t, http.StatusOK, code, string(body))
	id := e.submit(map[string]any{"model": "pony", "prompt": "queued", "width": 512, "height": 512})

	var why struct {
		Explanation string `json:"explanation"`
		Accounts    []struct {
			Label  string `json:"label"`
			Status string `json:"status"`
		} `json:"accounts"`
		Activity *struct{} `json:"activity"`
	}
	require.Eventually(t, func() bool {
		code, body, _ := e.admin("GET", "/admin/tasks/"+id+"/why", nil, cookie)
		return code == http.StatusOK && json.Unmarshal(body, &why) == nil && why.Activity != nil
	}, 20*time.Second, 100*time.Millisecond)
	require.Len(t, why.Accounts, 1)
	require.Equal(t, "disabled", why.Accounts[0].Status)
	require.Contains(t, why.Explanation, "Accounts allowed on lane "+e.lane("pony")+": rack-7 is disabled (disabled by an admin: quota exhausted).")
}
