package stack_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/api"
	"github.com/gooni/gooni/internal/secret"
)

const testAdminKey = "admin-key-0123456789abcdef-test"

// adminSetup starts a stack without a GPU worker whose API has ADMIN_KEY and, when accounts is
// set, ACCOUNTS_ENCRYPT_KEY (a fresh key, returned).
func adminSetup(t *testing.T, accounts bool, edit func(*api.Config)) (*env, string) {
	t.Helper()
	var key string
	if accounts {
		var err error
		key, err = secret.NewKey()
		require.NoError(t, err)
	}
	e := setup(t, envOptions{noGPUWorker: true, adminKey: testAdminKey, accountsKey: key, api: func(c *api.Config, _ *api.Deps) {
		if edit != nil {
			edit(c)
		}
	}})
	return e, key
}

// adminHeaders sends no API key, the admin cookie value when set, and extra header pairs.
func adminHeaders(cookie string, extra ...string) map[string]string {
	h := noKey(extra...)
	if cookie != "" {
		h["Cookie"] = "gg_admin_session=" + cookie
	}
	return h
}

// adminLogin starts an admin session and returns the cookie.
func (e *env) adminLogin() *http.Cookie {
	e.t.Helper()
	code, body, header := e.do("POST", "/admin/session", nil, adminHeaders("", "X-Admin-Key", testAdminKey))
	require.Equal(e.t, http.StatusCreated, code, string(body))
	for _, line := range header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		require.NoError(e.t, err)
		if c.Name == "gg_admin_session" {
			return c
		}
	}
	e.t.Fatalf("no gg_admin_session cookie in %v", header.Values("Set-Cookie"))
	return nil
}

// admin sends an admin request with the session cookie value.
func (e *env) admin(method, path string, body any, cookie string) (int, []byte, http.Header) {
	e.t.Helper()
	return e.do(method, path, body, adminHeaders(cookie))
}

// rawRows returns every row of table as JSON text, every column included.
func (e *env) rawRows(table string) []string {
	e.t.Helper()
	rows, err := e.store.Pool().Query(context.Background(), `select row_to_json(t)::text from `+table+` t`)
	require.NoError(e.t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(e.t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(e.t, rows.Err())
	return out
}

func TestAdminSessionIsBootstrappedOnlyWithTheAdminKey(t *testing.T) {
	e, _ := adminSetup(t, false, nil)

	for name, h := range map[string]map[string]string{
		"no header":        adminHeaders(""),
		"API key":          {"X-API-Key": testAPIKey},
		"wrong admin key":  adminHeaders("", "X-Admin-Key", testAdminKey+"x"),
		"admin key as API": adminHeaders("", "X-API-Key", testAdminKey),
	} {
		code, body, header := e.do("POST", "/admin/session", nil, h)
		require.Equal(t, http.StatusForbidden, code, name)
		require.Equal(t, "invalid_admin_key", decodeEnvelope(t, body).Code, name)
		require.Empty(t, header.Values("Set-Cookie"), name)
	}
	code, body, _ := e.do("POST", "/admin/session?admin_key="+testAdminKey, nil, adminHeaders(""))
	require.Equal(t, http.StatusForbidden, code, "the key in a URL is not accepted")
	require.Equal(t, "invalid_admin_key", decodeEnvelope(t, body).Code)

	code, body, header := e.do("POST", "/admin/session", nil, adminHeaders("", "X-Admin-Key", testAdminKey))
	require.Equal(t, http.StatusCreated, code, string(body))
	var cookie *http.Cookie
	for _, line := range header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		require.NoError(t, err)
		if c.Name == "gg_admin_session" {
			cookie = c
		}
	}
	require.NotNil(t, cookie)
	require.True(t, cookie.HttpOnly)
	require.True(t, cookie.Secure, "Secure like the public session cookie")
	require.Equal(t, http.SameSiteLaxMode, cookie.SameSite)
	require.Equal(t, "/admin", cookie.Path)
	raw, err := base64.RawURLEncoding.DecodeString(cookie.Value)
	require.NoError(t, err)
	require.Len(t, raw, 32)
	require.NotContains(t, string(body), cookie.Value)
	var sess struct {
		ExpiresAt   time.Time `json:"expires_at"`
		IdleTimeout int       `json:"idle_timeout_seconds"`
	}
	require.NoError(t, json.Unmarshal(body, &sess))
	require.Equal(t, 12*60*60, sess.IdleTimeout, "12 h idle timeout by default")
	require.WithinDuration(t, time.Now().Add(12*time.Hour), sess.ExpiresAt, time.Minute)

	// Only the token's hash is stored.
	sum := sha256.Sum256(raw)
	var n int
	require.NoError(t, e.store.Pool().QueryRow(context.Background(), `select count(*) from admin_sessions where id_hash = $1`, sum[:]).Scan(&n))
	require.Equal(t, 1, n)
	for _, row := range e.rawRows("admin_sessions") {
		require.NotContains(t, row, cookie.Value)
	}

	code, body, _ = e.admin("GET", "/admin/session", nil, cookie.Value)
	require.Equal(t, http.StatusOK, code, string(body))

	// The public session cookie is not an admin session.
	pub := e.startSession()
	code, body, _ = e.do("GET", "/admin/session", nil, noKey("Cookie", "gg_session="+pub.Value))
	require.Equal(t, http.StatusUnauthorized, code)
	require.Equal(t, "admin_session_missing", decodeEnvelope(t, body).Code)

	code, _, header = e.admin("DELETE", "/admin/session", nil, cookie.Value)
	require.Equal(t, http.StatusNoContent, code)
	require.Contains(t, strings.Join(header.Values("Set-Cookie"), ";"), "gg_admin_session=")
	code, body, _ = e.admin("GET", "/admin/session", nil, cookie.Value)
	require.Equal(t, http.StatusUnauthorized, code)
	require.Equal(t, "admin_session_invalid", decodeEnvelope(t, body).Code, "a logged-out session opens nothing")
}

func TestAdminIsMisconfiguredWithoutALongOwnAdminKey(t *testing.T) {
	e, _ := adminSetup(t, true, nil)
	good := e.adminLogin().Value
	for name, key := range map[string]string{"unset": "", "short": "fifteen-chars-x", "same as API key": testAPIKey} {
		r := e.replica(func(c *api.Config) { c.AdminKey = key })
		for _, try := range []string{"", key, testAdminKey, testAPIKey} {
			code, body, _ := r.do("POST", "/admin/session", nil, adminHeaders("", "X-Admin-Key", try))
			require.Equal(t, http.StatusForbidden, code, "%s: never open", name)
			require.Equal(t, "admin_misconfigured", decodeEnvelope(t, body).Code, name)
		}
		// A session from before the misconfiguration opens nothing either.
		code, body, _ := r.admin("GET", "/admin/accounts", nil, good)
		require.Equal(t, http.StatusForbidden, code, name)
		require.Equal(t, "admin_misconfigured", decodeEnvelope(t, body).Code, name)
	}
}

func TestAdminRoutesRefuseMissingExpiredTamperedSessionsAndTheAPIKey(t *testing.T) {
	e, _ := adminSetup(t, true, nil)
	ctx := context.Background()

	for _, path := range []string{"/admin/accounts", "/admin/audit", "/admin/session"} {
		code, body, _ := e.do("GET", path, nil, nil) // the API key only
		require.Equal(t, http.StatusUnauthorized, code, path)
		require.Equal(t, "admin_session_missing", decodeEnvelope(t, body).Code, "the API key does not grant admin: %s", path)
		code, body, _ = e.do("GET", path, nil, adminHeaders("", "X-Admin-Key", testAdminKey))
		require.Equal(t, http.StatusUnauthorized, code, path)
		require.Equal(t, "admin_session_missing", decodeEnvelope(t, body).Code, "the admin key opens only POST /admin/session: %s", path)
	}

	cookie := e.adminLogin().Value
	tampered := []byte(cookie)
	if tampered[5] == 'A' {
		tampered[5] = 'B'
	} else {
		tampered[5] = 'A'
	}
	for name, v := range map[string]string{"tampered": string(tampered), "malformed": "not-a-token", "truncated": cookie[:20]} {
		code, body, _ := e.admin("GET", "/admin/accounts", nil, v)
		require.Equal(t, http.StatusUnauthorized, code, name)
		require.Equal(t, "admin_session_invalid", decodeEnvelope(t, body).Code, name)
	}

	raw, err := base64.RawURLEncoding.DecodeString(cookie)
	require.NoError(t, err)
	sum := sha256.Sum256(raw)

	// Sliding: a use after a minute moves the expiry to now + 12 h.
	_, err = e.store.Pool().Exec(ctx, `update admin_sessions set last_seen_at = now() - interval '2 minutes',
		expires_at = now() + interval '1 minute' where id_hash = $1`, sum[:])
	require.NoError(t, err)
	code, body, _ := e.admin("GET", "/admin/session", nil, cookie)
	require.Equal(t, http.StatusOK, code, string(body))
	var sess struct {
		ExpiresAt time.Time `json:"expires_at"`
	}
	require.NoError(t, json.Unmarshal(body, &sess))
	require.WithinDuration(t, time.Now().Add(12*time.Hour), sess.ExpiresAt, time.Minute, "the idle timeout slides")

	// Idle past the timeout: expired.
	_, err = e.store.Pool().Exec(ctx, `update admin_sessions set expires_at = now() - interval '1 second' where id_hash = $1`, sum[:])
	require.NoError(t, err)
	code, body, _ = e.admin("GET", "/admin/accounts", nil, cookie)
	require.Equal(t, http.StatusUnauthorized, code)
	require.Equal(t, "admin_session_expired", decodeEnvelope(t, body).Code)

	// A cookie session may not change anything from a foreign page.
	fresh := e.adminLogin().Value
	code, body, _ = e.do("POST", "/admin/accounts", map[string]any{"label": "x", "lanes": []string{"y"}},
		adminHeaders(fresh, "Origin", "https://evil.example"))
	require.Equal(t, http.StatusForbidden, code)
	require.Equal(t, "origin_not_allowed", decodeEnvelope(t, body).Code)
}

func TestAdminRateLimitAnswers429WithRetryAfterOnEveryReplicaAndFailedBootstrapsCountDouble(t *testing.T) {
	e, _ := adminSetup(t, false, func(c *api.Config) {
		c.AdminAuthPerMinute, c.AdminReadPerMinute = 4, 3
	})
	cookie := e.adminLogin().Value // auth: 1 of 4
	wrong := adminHeaders("", "X-Admin-Key", "wrong-admin-key-0123456789")
	code, _, _ := e.do("POST", "/admin/session", nil, wrong) // 2 more: 3 of 4
	require.Equal(t, http.StatusForbidden, code)
	code, _, _ = e.do("POST", "/admin/session", nil, wrong) // 4 of 4 (its second token is refused)
	require.Equal(t, http.StatusForbidden, code)

	// Counted once each, four attempts would fit; the failed ones counted double, so the right
	// key is refused now, on this replica and on another.
	other := e.replica(nil)
	for _, r := range []*env{e, other} {
		code, body, header := r.do("POST", "/admin/session", nil, adminHeaders("", "X-Admin-Key", testAdminKey))
		require.Equal(t, http.StatusTooManyRequests, code, string(body))
		env := decodeEnvelope(t, body)
		require.Equal(t, "rate_limited", env.Code)
		require.Equal(t, "admin_auth", env.Metadata["bucket"])
		secs, err := strconv.Atoi(header.Get("Retry-After"))
		require.NoError(t, err)
		require.GreaterOrEqual(t, secs, 1)
		require.LessOrEqual(t, secs, 60)
	}

	// Reads have their own bucket: three, then 429, shared by the replicas.
	code, body, _ := e.admin("GET", "/admin/session", nil, cookie)
	require.Equal(t, http.StatusOK, code, string(body))
	code, body, _ = other.admin("GET", "/admin/session", nil, cookie)
	require.Equal(t, http.StatusOK, code, string(body))
	code, body, _ = e.admin("GET", "/admin/audit", nil, cookie)
	require.Equal(t, http.StatusOK, code, string(body))
	code, body, header := other.admin("GET", "/admin/session", nil, cookie)
	require.Equal(t, http.StatusTooManyRequests, code, string(body))
	require.Equal(t, "admin_read", decodeEnvelope(t, body).Metadata["bucket"])
	require.NotEmpty(t, header.Get("Retry-After"))

	// The refusals are audited.
	var n int
	require.NoError(t, e.store.Pool().QueryRow(context.Background(),
		`select count(*) from admin_audit where code = 'rate_limited' and outcome = 'refused'`).Scan(&n))
	require.Equal(t, 3, n)
}
