package stack_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/api"
	"github.com/gooni/gooni/internal/secret"
	"github.com/gooni/gooni/internal/store"
)

// account is the subset of an account answer the tests read.
type account struct {
	ID           string         `json:"id"`
	Label        string         `json:"label"`
	Lanes        []string       `json:"lanes"`
	Status       string         `json:"status"`
	StatusReason string         `json:"status_reason"`
	WorkerToken  string         `json:"worker_token"`
	SecretEnc    string         `json:"secret_enc"`
	Usage        map[string]any `json:"usage"`
	Events       []struct {
		From   string `json:"from_status"`
		To     string `json:"to_status"`
		Reason string `json:"reason"`
		Actor  string `json:"actor"`
	} `json:"events"`
}

func decodeAccount(t *testing.T, body []byte) account {
	t.Helper()
	var a account
	require.NoError(t, json.Unmarshal(body, &a), string(body))
	return a
}

// createAccount adds an account serving lanes and returns it with its token.
func (e *env) createAccount(cookie, label string, lanes []string, limit float64) account {
	e.t.Helper()
	code, body, _ := e.admin("POST", "/admin/accounts",
		map[string]any{"label": label, "lanes": lanes, "monthly_limit_gpu_seconds": limit}, cookie)
	require.Equal(e.t, http.StatusCreated, code, string(body))
	a := decodeAccount(e.t, body)
	require.NotEmpty(e.t, a.WorkerToken)
	return a
}

func (e *env) lane(model string) string {
	m, ok := e.catalogue.Model(model)
	require.True(e.t, ok)
	return m.Runtime.Lane
}

func TestAccountsAreCreatedListedDisabledEnabledResetAndDeletedWithOnlyAnEncryptedSecretStored(t *testing.T) {
	e, key := adminSetup(t, true, nil)
	ctx := context.Background()
	cookie := e.adminLogin().Value
	shared := e.catalogue.SharedLane().TaskQueue

	// Validation: lanes from the catalogue, the shared lane included.
	code, body, _ := e.admin("POST", "/admin/accounts", map[string]any{"label": "", "lanes": []string{"gpu-nope"}, "monthly_limit_gpu_seconds": -1}, cookie)
	require.Equal(t, http.StatusUnprocessableEntity, code, string(body))
	env := decodeEnvelope(t, body)
	require.Equal(t, "validation_error", env.Code)
	require.Len(t, env.Metadata["fields"], 3)
	code, body, _ = e.admin("POST", "/admin/accounts", map[string]any{"label": "x", "lanes": []string{shared}, "extra": 1}, cookie)
	require.Equal(t, http.StatusUnprocessableEntity, code, "unknown fields are refused: %s", body)
	code, body, _ = e.admin("POST", "/admin/accounts", "[1]", cookie)
	require.Equal(t, http.StatusBadRequest, code)
	require.Equal(t, "invalid_json", decodeEnvelope(t, body).Code)

	a := e.createAccount(cookie, "rig one", []string{e.lane("pony"), shared}, 1000)
	require.Equal(t, "pending", a.Status)
	require.Equal(t, []string{e.lane("pony"), shared}, a.Lanes)
	require.Empty(t, a.SecretEnc, "the answer never carries the stored ciphertext")
	id, secretText, ok := strings.Cut(a.WorkerToken, ".")
	require.True(t, ok)
	require.Equal(t, a.ID, id, "the token is the account id and a secret")
	require.GreaterOrEqual(t, len(secretText), 43)

	// The database never holds the secret (nor the token) in plaintext; the ciphertext
	// decrypts under ACCOUNTS_ENCRYPT_KEY to the secret.
	rows := e.rawRows("worker_accounts")
	require.Len(t, rows, 1)
	require.NotContains(t, rows[0], secretText)
	require.NotContains(t, rows[0], a.WorkerToken)
	var enc string
	require.NoError(t, e.store.Pool().QueryRow(ctx, `select secret_enc from worker_accounts where id = $1`, a.ID).Scan(&enc))
	ring, err := secret.ParseKeys(key)
	require.NoError(t, err)
	plain, err := ring.Decrypt(enc)
	require.NoError(t, err)
	require.Equal(t, secretText, string(plain))
	for _, table := range []string{"account_events", "admin_audit"} {
		for _, row := range e.rawRows(table) {
			require.NotContains(t, row, secretText, table)
		}
	}

	// List and get never show the token again.
	code, body, _ = e.admin("GET", "/admin/accounts", nil, cookie)
	require.Equal(t, http.StatusOK, code, string(body))
	require.NotContains(t, string(body), secretText)
	var list struct {
		Items []account `json:"items"`
	}
	require.NoError(t, json.Unmarshal(body, &list))
	require.Len(t, list.Items, 1)
	require.Equal(t, a.ID, list.Items[0].ID)
	require.Empty(t, list.Items[0].WorkerToken)

	code, body, _ = e.admin("GET", "/admin/accounts/"+a.ID, nil, cookie)
	require.Equal(t, http.StatusOK, code, string(body))
	require.NotContains(t, string(body), secretText)
	got := decodeAccount(t, body)
	require.Len(t, got.Events, 1)
	require.Equal(t, "pending", got.Events[0].To)

	// Disable with a reason: status and history say why.
	code, body, _ = e.admin("POST", "/admin/accounts/"+a.ID+"/disable", map[string]any{"reason": "invoice overdue"}, cookie)
	require.Equal(t, http.StatusOK, code, string(body))
	got = decodeAccount(t, body)
	require.Equal(t, "disabled", got.Status)
	require.Contains(t, got.StatusReason, "invoice overdue")
	code, body, _ = e.admin("GET", "/admin/accounts/"+a.ID, nil, cookie)
	require.Equal(t, http.StatusOK, code)
	got = decodeAccount(t, body)
	require.Len(t, got.Events, 2)
	require.Equal(t, "pending", got.Events[1].From)
	require.Equal(t, "disabled", got.Events[1].To)
	require.Contains(t, got.Events[1].Reason, "invoice overdue")
	require.Equal(t, "admin", got.Events[1].Actor)

	code, body, _ = e.admin("POST", "/admin/accounts/"+a.ID+"/enable", nil, cookie)
	require.Equal(t, http.StatusOK, code, string(body))
	require.Equal(t, "pending", decodeAccount(t, body).Status)

	// Usage: GPU-seconds this month; at 90% of the limit the account is stopped; reset clears it.
	_, err = e.store.AddAccountUsage(ctx, a.ID, 950)
	require.NoError(t, err)
	code, body, _ = e.admin("GET", "/admin/accounts/"+a.ID, nil, cookie)
	require.Equal(t, http.StatusOK, code)
	got = decodeAccount(t, body)
	require.InDelta(t, 950, got.Usage["gpu_seconds"], 1e-9)
	require.Equal(t, true, got.Usage["stopped"])
	code, body, _ = e.admin("POST", "/admin/accounts/"+a.ID+"/reset-usage", nil, cookie)
	require.Equal(t, http.StatusOK, code, string(body))
	got = decodeAccount(t, body)
	require.InDelta(t, 0, got.Usage["gpu_seconds"], 1e-9)
	require.Equal(t, false, got.Usage["stopped"])

	// Delete: gone, with its history kept.
	code, _, _ = e.admin("DELETE", "/admin/accounts/"+a.ID, nil, cookie)
	require.Equal(t, http.StatusNoContent, code)
	for _, r := range []struct{ method, path string }{
		{"GET", "/admin/accounts/" + a.ID}, {"DELETE", "/admin/accounts/" + a.ID},
		{"POST", "/admin/accounts/" + a.ID + "/disable"}, {"GET", "/admin/accounts/not-a-uuid"},
	} {
		code, body, _ = e.admin(r.method, r.path, nil, cookie)
		require.Equal(t, http.StatusNotFound, code, r.path)
		require.Equal(t, "account_not_found", decodeEnvelope(t, body).Code)
	}
	events, err := e.store.AccountEvents(ctx, a.ID)
	require.NoError(t, err)
	require.Equal(t, "deleted", events[len(events)-1].ToStatus)
}

func TestAccountsAnswer503WhenTheEncryptionKeyIsMissingOrUnreadable(t *testing.T) {
	e, _ := adminSetup(t, false, nil)
	cookie := e.adminLogin().Value
	bad := e.replica(func(c *api.Config) { c.AccountsEncryptKey = "not-a-fernet-key" })
	for _, r := range []*env{e, bad} {
		for _, req := range []struct{ method, path string }{{"POST", "/admin/accounts"}, {"GET", "/admin/accounts"}, {"GET", "/admin/accounts/" + uuid.NewString()}} {
			code, body, _ := r.admin(req.method, req.path, map[string]any{"label": "x", "lanes": []string{"y"}}, cookie)
			require.Equal(t, http.StatusServiceUnavailable, code, string(body))
			env := decodeEnvelope(t, body)
			require.Equal(t, "accounts_misconfigured", env.Code)
			require.Contains(t, env.UserAction, "ACCOUNTS_ENCRYPT_KEY")
		}
	}
	require.NotContains(t, e.logs.String(), "not-a-fernet-key", "the key value is never logged")
}

func TestAccountSecretsDecryptAfterANewKeyIsPrependedAndRotateMovesThemToIt(t *testing.T) {
	e, oldKey := adminSetup(t, true, nil)
	ctx := context.Background()
	cookie := e.adminLogin().Value
	a := e.createAccount(cookie, "rig", []string{e.lane("flux")}, 0)
	_, secretText, _ := strings.Cut(a.WorkerToken, ".")

	newKey, err := secret.NewKey()
	require.NoError(t, err)
	both, err := secret.ParseKeys(newKey + "," + oldKey)
	require.NoError(t, err)
	secrets, err := e.store.ListAccountSecrets(ctx)
	require.NoError(t, err)
	require.Len(t, secrets, 1)
	plain, err := both.Decrypt(secrets[0].SecretEnc)
	require.NoError(t, err, "the old key still decrypts after a new one is prepended")
	require.Equal(t, secretText, string(plain))
	require.False(t, both.UnderNewest(secrets[0].SecretEnc))

	rotated, err := both.Rotate(secrets[0].SecretEnc)
	require.NoError(t, err)
	require.NoError(t, e.store.ReplaceAccountSecret(ctx, a.ID, secrets[0].SecretEnc, rotated))
	require.ErrorIs(t, e.store.ReplaceAccountSecret(ctx, a.ID, secrets[0].SecretEnc, rotated), store.ErrConflict,
		"a second rotation from the same old value loses no write")
	onlyNew, err := secret.ParseKeys(newKey)
	require.NoError(t, err)
	secrets, err = e.store.ListAccountSecrets(ctx)
	require.NoError(t, err)
	plain, err = onlyNew.Decrypt(secrets[0].SecretEnc)
	require.NoError(t, err, "after rotation the old key can be dropped")
	require.Equal(t, secretText, string(plain))

	// The API with the new key list keeps working with the rotated row.
	r := e.replica(func(c *api.Config) { c.AccountsEncryptKey = newKey })
	code, body, _ := r.admin("GET", "/admin/accounts/"+a.ID, nil, cookie)
	require.Equal(t, http.StatusOK, code, string(body))
}

func TestAuditRecordsSuccessRefusalAndFailureWithoutAnySecret(t *testing.T) {
	e, _ := adminSetup(t, true, nil)
	ctx := context.Background()
	start := time.Now().Add(-time.Minute)

	code, _, _ := e.do("POST", "/admin/session", nil, adminHeaders("", "X-Admin-Key", "wrong-admin-key-0123456789"))
	require.Equal(t, http.StatusForbidden, code)
	code, _, _ = e.do("GET", "/admin/accounts", nil, nil) // API key, no session
	require.Equal(t, http.StatusUnauthorized, code)
	cookie := e.adminLogin().Value
	a := e.createAccount(cookie, "audited rig", []string{e.lane("pony")}, 10)
	code, _, _ = e.admin("POST", "/admin/accounts/"+a.ID+"/disable", map[string]any{"reason": "test"}, cookie)
	require.Equal(t, http.StatusOK, code)

	// A failure: the accounts table is away for one request.
	_, err := e.store.Pool().Exec(ctx, `alter table worker_accounts rename to worker_accounts_away`)
	require.NoError(t, err)
	code, body, _ := e.admin("GET", "/admin/accounts", nil, cookie)
	_, err2 := e.store.Pool().Exec(ctx, `alter table worker_accounts_away rename to worker_accounts`)
	require.NoError(t, err2)
	require.Equal(t, http.StatusInternalServerError, code, string(body))

	code, body, _ = e.admin("GET", "/admin/audit?limit=500", nil, cookie)
	require.Equal(t, http.StatusOK, code, string(body))
	var page struct {
		Items []store.AuditEntry `json:"items"`
	}
	require.NoError(t, json.Unmarshal(body, &page))
	find := func(action, outcome string) store.AuditEntry {
		t.Helper()
		for _, it := range page.Items {
			if it.Action == action && it.Outcome == outcome {
				return it
			}
		}
		t.Fatalf("no audit row %s/%s in %s", action, outcome, body)
		return store.AuditEntry{}
	}
	failedBoot := find("admin.session.create", "refused")
	require.Equal(t, "invalid_admin_key", failedBoot.Code)
	require.Equal(t, "127.0.0.1", failedBoot.ClientIP)
	require.NotEmpty(t, failedBoot.RequestID)
	missing := find("GET /admin/accounts", "refused")
	require.Equal(t, "admin_session_missing", missing.Code)
	require.Equal(t, http.StatusUnauthorized, missing.Status)
	created := find("accounts.create", "success")
	require.Equal(t, a.ID, created.Target)
	require.Equal(t, "audited rig", created.Details["label"])
	require.NotEmpty(t, created.Details["session"], "which admin session acted")
	disabled := find("accounts.disable", "success")
	require.Equal(t, a.ID, disabled.Target)
	require.Contains(t, disabled.Details["reason"], "test")
	failed := find("accounts.list", "failed")
	require.Equal(t, "internal_error", failed.Code)
	find("admin.session.create", "success")

	// No key, token or cookie anywhere in any column of any row.
	_, secretText, _ := strings.Cut(a.WorkerToken, ".")
	rows := e.rawRows("admin_audit")
	require.GreaterOrEqual(t, len(rows), 7)
	for _, row := range rows {
		for _, s := range []string{testAdminKey, testAPIKey, cookie, a.WorkerToken, secretText, "wrong-admin-key-0123456789"} {
			require.NotContains(t, row, s)
		}
	}

	// Filters and paging.
	q := url.Values{"outcome": {"refused"}, "since": {start.UTC().Format(time.RFC3339)}, "until": {time.Now().Add(time.Minute).UTC().Format(time.RFC3339)}}
	code, body, _ = e.admin("GET", "/admin/audit?"+q.Encode(), nil, cookie)
	require.Equal(t, http.StatusOK, code, string(body))
	require.NoError(t, json.Unmarshal(body, &page))
	require.GreaterOrEqual(t, len(page.Items), 2)
	for _, it := range page.Items {
		require.Equal(t, "refused", it.Outcome)
	}
	code, body, _ = e.admin("GET", "/admin/audit?action=accounts.create", nil, cookie)
	require.Equal(t, http.StatusOK, code)
	require.NoError(t, json.Unmarshal(body, &page))
	require.Len(t, page.Items, 1)
	code, body, _ = e.admin("GET", "/admin/audit?until="+url.QueryEscape(start.UTC().Format(time.RFC3339)), nil, cookie)
	require.Equal(t, http.StatusOK, code)
	require.NoError(t, json.Unmarshal(body, &page))
	require.Empty(t, page.Items)

	var seen []int64
	before := ""
	for range 20 {
		code, body, _ = e.admin("GET", "/admin/audit?limit=2"+before, nil, cookie)
		require.Equal(t, http.StatusOK, code, string(body))
		var p struct {
			Items      []store.AuditEntry `json:"items"`
			NextBefore int64              `json:"next_before"`
			HasMore    bool               `json:"has_more"`
		}
		require.NoError(t, json.Unmarshal(body, &p))
		require.LessOrEqual(t, len(p.Items), 2)
		for _, it := range p.Items {
			if len(seen) > 0 {
				require.Less(t, it.ID, seen[len(seen)-1], "newest first, no repeats")
			}
			seen = append(seen, it.ID)
		}
		if !p.HasMore {
			break
		}
		before = "&before=" + strconv.FormatInt(p.NextBefore, 10)
	}
	require.GreaterOrEqual(t, len(seen), 7)

	code, body, _ = e.admin("GET", "/admin/audit?outcome=maybe&limit=0&since=yesterday", nil, cookie)
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Len(t, decodeEnvelope(t, body).Metadata["fields"], 3)

	// Retention: the store deletes rows older than a cutoff.
	n, err := e.store.DeleteAuditBefore(ctx, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.GreaterOrEqual(t, n, int64(len(rows)))
}
