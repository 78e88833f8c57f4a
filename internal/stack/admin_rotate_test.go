package stack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/gooni/gooni/activities/control"
	"github.com/gooni/gooni/activities/maintenance"
	"github.com/gooni/gooni/api"
	"github.com/gooni/gooni/internal/secret"
	"github.com/gooni/gooni/internal/stack"
	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/workflows"
)

// newKey returns a fresh Fernet key.
func newKey(t *testing.T) string {
	t.Helper()
	k, err := secret.NewKey()
	require.NoError(t, err)
	return k
}

// keyring parses keys, newest first.
func keyring(t *testing.T, keys ...string) *secret.Keyring {
	t.Helper()
	r, err := secret.ParseKeys(strings.Join(keys, ","))
	require.NoError(t, err)
	return r
}

// restartControl starts another control worker (on its own queue, with keys) and an API replica
// sending maintenance there with ACCOUNTS_ENCRYPT_KEY keys: the API and control worker
// restarted with a new key list.
func (e *env) restartControl(suffix string, keys ...string) *env {
	e.t.Helper()
	queue := e.apiCfg.ControlQueue + "-" + suffix
	cw, err := stack.StartControlWorkerWith(e.temporal, queue, e.store, e.artifacts, stack.ControlWorkerConfig{
		Control: control.Config{Logger: e.logger}, Maintenance: maintenance.Config{Keys: keyring(e.t, keys...), Logger: e.logger}})
	require.NoError(e.t, err)
	e.t.Cleanup(cw.Stop)
	edit := func(c *api.Config) { c.ControlQueue, c.AccountsEncryptKey = queue, strings.Join(keys, ",") }
	r := e.replica(edit)
	edit(&r.apiCfg)
	return r
}

// rawSecrets reads secret_enc of every account straight from the table.
func (e *env) rawSecrets() map[string]string {
	e.t.Helper()
	out := map[string]string{}
	for _, row := range e.rawRows("worker_accounts") {
		var r struct {
			ID        string `json:"id"`
			SecretEnc string `json:"secret_enc"`
		}
		require.NoError(e.t, json.Unmarshal([]byte(row), &r))
		out[r.ID] = r.SecretEnc
	}
	return out
}

// TestRotateKeysMovesEverySecretToTheNewestKeyVerifiedAndTokensStillAuthenticate creates
// accounts under key A, restarts the API and control worker with "B,A", runs rotate-keys through
// the API, and proves: the raw rows decrypt with B alone, the worker tokens authenticate on an
// API that knows only B, a secret whose key was dropped is counted failed and left untouched,
// and a second run rotates nothing.
func TestRotateKeysMovesEverySecretToTheNewestKeyVerifiedAndTokensStillAuthenticate(t *testing.T) {
	keyA, keyB, keyGone := newKey(t), newKey(t), newKey(t)
	e, cookie := maintenanceSetup(t, envOptions{noGPUWorker: true, accountsKey: keyA})
	ctx := context.Background()
	lanes := []string{e.lane("pony")}
	accs := []account{e.createAccount(cookie, "rig-1", lanes, 0), e.createAccount(cookie, "rig-2", lanes, 0)}
	// An account whose key was dropped before any rotation: nothing can decrypt it.
	lost, err := keyring(t, keyGone).Encrypt([]byte("lost-secret"))
	require.NoError(t, err)
	lostID := uuid.NewString()
	_, err = e.store.CreateAccount(ctx, &store.Account{ID: lostID, Label: "lost", Lanes: lanes, SecretEnc: lost}, "test")
	require.NoError(t, err)

	r := e.restartControl("ba", keyB, keyA)
	var res workflows.RotateKeysResult
	started := r.runMaintenance(cookie, workflows.MaintenanceRotateKeys, nil, &res)
	require.False(t, started.Joined)
	require.Equal(t, workflows.RotateKeysCounts{Rotated: 2, AlreadyNewest: 0, Failed: 1, FailedAccounts: []string{lostID}}, res.RotateKeysCounts)
	require.True(t, res.Complete)

	onlyB := keyring(t, keyB)
	raw := r.rawSecrets()
	for _, a := range accs {
		_, secretText, _ := strings.Cut(a.WorkerToken, ".")
		plain, err := onlyB.Decrypt(raw[a.ID])
		require.NoError(t, err, "the raw row of %s decrypts with B alone", a.Label)
		require.Equal(t, secretText, string(plain))
		require.NotContains(t, raw[a.ID], secretText)
	}
	require.Equal(t, lost, raw[lostID], "a secret no key decrypts is left as it is")

	var again workflows.RotateKeysResult
	r.runMaintenance(cookie, workflows.MaintenanceRotateKeys, nil, &again)
	require.Equal(t, workflows.RotateKeysCounts{Rotated: 0, AlreadyNewest: 2, Failed: 1, FailedAccounts: []string{lostID}}, again.RotateKeysCounts,
		"a second run finds everything under the newest key")

	// Key A dropped: the tokens still authenticate.
	rb := e.replica(func(c *api.Config) { c.AccountsEncryptKey = keyB })
	for _, a := range accs {
		code, ans, body := rb.worker("/workers/register", a.WorkerToken, map[string]any{"host": "gpu-box"})
		require.Equal(t, http.StatusOK, code, string(body))
		require.Equal(t, a.ID, ans.AccountID)
		require.True(t, ans.TakeWork)
	}
	code, _, body := rb.worker("/workers/heartbeat", lostID+".lost-secret", nil)
	require.Equal(t, http.StatusUnauthorized, code, string(body))
	require.NotContains(t, e.logs.String(), keyA)
	require.NotContains(t, e.logs.String(), keyB)
}

// TestRotateKeysTwoRunsAtOnceRotateEachSecretOnce starts two rotations with distinct workflow
// ids at the same moment (the API would join them; this bypasses it) in batches of one: the
// compare-and-swap makes each secret rotate exactly once, and none is lost.
func TestRotateKeysTwoRunsAtOnceRotateEachSecretOnce(t *testing.T) {
	keyA, keyB := newKey(t), newKey(t)
	e, cookie := maintenanceSetup(t, envOptions{noGPUWorker: true, accountsKey: keyA})
	const n = 6
	tokens := map[string]string{}
	for i := range n {
		a := e.createAccount(cookie, "rig-"+string(rune('a'+i)), []string{e.lane("pony")}, 0)
		_, tokens[a.ID], _ = strings.Cut(a.WorkerToken, ".")
	}
	r := e.restartControl("ba", keyB, keyA)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	results := make([]workflows.RotateKeysResult, 2)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			run, err := e.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID: r.apiCfg.MaintenanceIDPrefix + "rotate-at-once-" + string(rune('0'+i)), TaskQueue: r.apiCfg.ControlQueue,
			}, workflows.RotateKeysWorkflowName, workflows.RotateKeysInput{BatchSize: 1})
			if err == nil {
				err = run.Get(ctx, &results[i])
			}
			require.NoError(t, err)
		})
	}
	wg.Wait()
	require.Equal(t, n, results[0].Rotated+results[1].Rotated, "each secret rotated once: %+v", results)
	for _, res := range results {
		require.Equal(t, n, res.Rotated+res.AlreadyNewest)
		require.Zero(t, res.Failed)
	}
	onlyB := keyring(t, keyB)
	for id, enc := range r.rawSecrets() {
		plain, err := onlyB.Decrypt(enc)
		require.NoError(t, err)
		require.Equal(t, tokens[id], string(plain))
	}
}

// TestRotateKeysFailsClearlyWhenTheControlWorkerHasNoKeys: no ACCOUNTS_ENCRYPT_KEY on the
// control worker is a non-retryable failure naming what to set, not an endless retry.
func TestRotateKeysFailsClearlyWhenTheControlWorkerHasNoKeys(t *testing.T) {
	e, cookie := maintenanceSetup(t, envOptions{noGPUWorker: true})
	code, body, _ := e.admin("POST", "/admin/maintenance/"+workflows.MaintenanceRotateKeys, nil, cookie)
	require.Equal(t, http.StatusAccepted, code, string(body))
	var started maintenanceStarted
	require.NoError(t, json.Unmarshal(body, &started))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := e.temporal.GetWorkflow(ctx, started.WorkflowID, started.RunID).Get(ctx, nil)
	require.Error(t, err)
	require.Contains(t, err.Error(), "ACCOUNTS_ENCRYPT_KEY")
}
