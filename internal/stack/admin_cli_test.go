package stack_test

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/api"
	"github.com/gooni/gooni/internal/cli"
	"github.com/gooni/gooni/internal/secret"
)

// adminCLI runs `gooni admin …` against e's API with adminKey in ADMIN_KEY, as an operator
// would, returning what it printed.
func (e *env) adminCLI(adminKey string, args ...string) (string, string, error) {
	e.t.Helper()
	vars := map[string]string{"GOONI_URL": e.baseURL, "ADMIN_KEY": adminKey}
	var out, errOut bytes.Buffer
	err := cli.Admin(context.Background(), cli.Env{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return vars[k] }}, args)
	e.t.Logf("gooni admin %s\nstdout:\n%s\nstderr:\n%s\nerr: %v", strings.Join(args, " "), out.String(), errOut.String(), err)
	return out.String(), errOut.String(), err
}

var tokenLine = regexp.MustCompile(`(?m)^([0-9a-f-]{36})\.[A-Za-z0-9_-]{43}$`)

// TestAdminCLICreatesListsAndDisablesAccountsRotatesKeysAndStartsMaintenance drives every
// `gooni admin` command against the real stack: the token printed once registers a worker, the
// list shows the account, disable stops its worker, maintenance prints the workflow id and Web
// UI link and (with --wait) its result, rotate-keys reports its counts, and refusals print the
// envelope's detail and what to do. No command leaves an admin session open.
func TestAdminCLICreatesListsAndDisablesAccountsRotatesKeysAndStartsMaintenance(t *testing.T) {
	keyA, keyB := newKey(t), newKey(t)
	e, _ := maintenanceSetup(t, envOptions{noGPUWorker: true, accountsKey: keyA, api: func(c *api.Config, _ *api.Deps) {
		c.AdminAuthPerMinute, c.AdminReadPerMinute, c.AdminWritePerMinute = 1000, 1000, 1000
	}})
	pony, shared := e.lane("pony"), e.catalogue.SharedLane().TaskQueue
	openSessions := func() int {
		var n int
		require.NoError(t, e.store.Pool().QueryRow(context.Background(),
			`select count(*) from admin_sessions where revoked_at is null`).Scan(&n))
		return n
	}
	open := openSessions() // the harness's own login

	out, _, err := e.adminCLI(testAdminKey, "accounts", "create", "--label", "rig one", "--lanes", pony+","+shared, "--limit", "3600")
	require.NoError(t, err)
	m := tokenLine.FindStringSubmatch(out)
	require.NotNil(t, m, "the worker token is printed on its own line: %s", out)
	token, id := m[0], m[1]
	require.Contains(t, out, "account "+id+" (rig one) created, status pending")
	code, ans, body := e.worker("/workers/register", token, map[string]any{"host": "gpu-1"})
	require.Equal(t, http.StatusOK, code, string(body))
	require.True(t, ans.TakeWork)

	out, _, err = e.adminCLI(testAdminKey, "accounts", "list")
	require.NoError(t, err)
	require.Regexp(t, id+`\s+rig one\s+ready\s+`+regexp.QuoteMeta(pony+","+shared)+`\s+0 GPU-s \(0%\)`, out)
	require.Contains(t, out, "1 account(s)")
	require.NotContains(t, out, strings.SplitN(token, ".", 2)[1], "the list never shows the secret")

	out, _, err = e.adminCLI(testAdminKey, "accounts", "disable", id, "--reason", "maintenance window")
	require.NoError(t, err)
	require.Contains(t, out, "disabled: disabled by an admin: maintenance window")
	code, ans, body = e.worker("/workers/heartbeat", token, nil)
	require.Equal(t, http.StatusOK, code, string(body))
	require.False(t, ans.TakeWork, "a disabled account's worker takes no new work")

	out, _, err = e.adminCLI(testAdminKey, "maintenance", "health-sweep", "--wait")
	require.NoError(t, err)
	require.Contains(t, out, "health-sweep started")
	require.Regexp(t, `workflow \S+maintenance-health-sweep \(run \S+\)`, out)
	require.Contains(t, out, "http://ui.example:8233/namespaces/"+temporalServer.Namespace()+"/workflows/")
	require.Contains(t, out, "status: Completed")
	require.Contains(t, out, `"checked":1`)

	// rotate-keys against the API and control worker restarted with keys "B,A".
	r := e.restartControl("ba", keyB, keyA)
	out, _, err = r.adminCLI(testAdminKey, "rotate-keys")
	require.NoError(t, err)
	require.Contains(t, out, "rotate-keys started")
	require.Contains(t, out, `"rotated":1`)
	require.Contains(t, out, `"already_newest":0`)
	require.Contains(t, out, `"failed":0`)
	onlyB, err := secret.ParseKeys(keyB)
	require.NoError(t, err)
	for _, enc := range r.rawSecrets() {
		_, err := onlyB.Decrypt(enc)
		require.NoError(t, err)
	}

	// Refusals print the envelope's detail and what to do.
	_, _, err = e.adminCLI(testAdminKey, "accounts", "create", "--label", "x", "--lanes", "no-such-lane")
	require.Error(t, err)
	require.Contains(t, err.Error(), `"no-such-lane" is not a lane of the catalogue`)
	require.Contains(t, err.Error(), "what to do:")
	_, _, err = e.adminCLI(testAdminKey, "maintenance", "defragment")
	require.Error(t, err)
	require.Contains(t, err.Error(), "No maintenance has this name.")
	require.Contains(t, err.Error(), "what to do: Use one of: cleanup, reconcile, warmup, audit-retention, rotate-keys, health-sweep.")
	_, _, err = e.adminCLI("wrong-admin-key-0123456789", "accounts", "list")
	require.Error(t, err)
	require.Contains(t, err.Error(), "invalid_admin_key")
	require.Contains(t, err.Error(), "what to do:")
	require.NotContains(t, err.Error(), "wrong-admin-key")
	_, _, err = e.adminCLI("", "accounts", "list")
	require.ErrorContains(t, err, "ADMIN_KEY is not set")
	_, errOut, err := e.adminCLI(testAdminKey, "accounts", "frobnicate")
	require.ErrorContains(t, err, `unknown admin command "accounts frobnicate"`)
	require.Contains(t, errOut, "usage: gooni admin")

	require.Equal(t, open, openSessions(), "every command ended its session")
	require.NotContains(t, e.logs.String(), testAdminKey)
}
