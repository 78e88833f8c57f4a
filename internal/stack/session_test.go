package stack_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/api"
	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/workflows"
)

// resultBytes and previewBytes are the files of a task finished by finishedTask.
var (
	resultBytes  = []byte("\x89PNG\r\n\x1a\n stand-in result")
	previewBytes = []byte("\xff\xd8\xff stand-in preview")
)

// finishedTask records a finished task whose result and preview exist, without running a model.
func (e *env) finishedTask() string {
	e.t.Helper()
	ctx := context.Background()
	id := uuid.NewString()
	require.NoError(e.t, e.store.CreateTask(ctx, &store.Task{
		ID: id, WorkflowID: workflows.WorkflowID(id), Lane: "gpu-pony", Model: "pony", Type: "image", Mode: "txt2img",
	}))
	resultKey, previewKey := "results/"+id+".png", "previews/"+id+".jpg"
	_, err := e.artifacts.Put(ctx, resultKey, bytes.NewReader(resultBytes))
	require.NoError(e.t, err)
	_, err = e.artifacts.Put(ctx, previewKey, bytes.NewReader(previewBytes))
	require.NoError(e.t, err)
	_, err = e.store.FinishTask(ctx, id, store.FinishFields{ResultKey: resultKey, ResultMIME: "image/png", PreviewKey: previewKey})
	require.NoError(e.t, err)
	return id
}

// noKey is a header map that sends no API key.
func noKey(extra ...string) map[string]string {
	h := map[string]string{"X-API-Key": ""}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	return h
}

// startSession calls POST /auth/session and returns the session cookie.
func (e *env) startSession() *http.Cookie {
	e.t.Helper()
	code, body, header := e.do("POST", "/auth/session", nil, nil)
	require.Equal(e.t, http.StatusCreated, code, string(body))
	return sessionCookieOf(e.t, header)
}

// sessionCookieOf returns the gg_session Set-Cookie of a response.
func sessionCookieOf(t *testing.T, header http.Header) *http.Cookie {
	t.Helper()
	for _, line := range header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		require.NoError(t, err)
		if c.Name == "gg_session" {
			return c
		}
	}
	t.Fatalf("no gg_session cookie in %v", header.Values("Set-Cookie"))
	return nil
}

// withCookie is a header map that sends no API key and the session cookie value.
func withCookie(value string) map[string]string {
	return noKey("Cookie", "gg_session="+value)
}

// replica starts a second API server on the same database, Temporal and artifacts (another
// replica, or the same API after a restart) and returns an env that talks to it.
func (e *env) replica(edit func(*api.Config)) *env {
	e.t.Helper()
	cfg := e.apiCfg
	if edit != nil {
		edit(&cfg)
	}
	srv, err := api.New(cfg, e.apiDeps)
	require.NoError(e.t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(e.t, err)
	go func() { _ = srv.Serve(ln) }()
	e.t.Cleanup(func() { _ = srv.App().Shutdown() })
	r := *e
	r.srv, r.baseURL = srv, "http://"+ln.Addr().String()
	return &r
}

func TestSessionIsIssuedReportedUsedAndRevoked(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true})
	id := e.finishedTask()

	code, body, header := e.do("POST", "/auth/session", nil, map[string]string{"User-Agent": "studio-test/1"})
	require.Equal(t, http.StatusCreated, code, string(body))
	cookie := sessionCookieOf(t, header)
	require.True(t, cookie.HttpOnly, "script cannot read the cookie")
	require.True(t, cookie.Secure, "Secure by default")
	require.Equal(t, http.SameSiteLaxMode, cookie.SameSite, "Lax by default")
	require.Equal(t, "/", cookie.Path)
	require.Equal(t, 24*60*60, cookie.MaxAge)
	raw, err := base64.RawURLEncoding.DecodeString(cookie.Value)
	require.NoError(t, err)
	require.Len(t, raw, 32, "a 256-bit token")
	require.NotContains(t, string(body), cookie.Value, "the body never carries the token")
	var issued struct {
		CreatedAt time.Time `json:"created_at"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	require.NoError(t, json.Unmarshal(body, &issued))
	require.InDelta(t, 24*time.Hour, issued.ExpiresAt.Sub(issued.CreatedAt), float64(time.Second))

	// Only the token's SHA-256 is stored, with who asked for it.
	sum := sha256.Sum256(raw)
	var ua string
	var rows int
	require.NoError(t, e.store.Pool().QueryRow(t.Context(), `select count(*) over (), user_agent from sessions where id_hash = $1`, sum[:]).Scan(&rows, &ua))
	require.Equal(t, 1, rows)
	require.Equal(t, "studio-test/1", ua)
	var leaked bool
	require.NoError(t, e.store.Pool().QueryRow(t.Context(), `select exists (select 1 from sessions s where s::text like '%' || $1 || '%')`, cookie.Value).Scan(&leaked))
	require.False(t, leaked, "the token itself is stored nowhere")

	// The session reports itself and stands in for the key on every keyed route.
	code, body, _ = e.do("GET", "/auth/session", nil, withCookie(cookie.Value))
	require.Equal(t, http.StatusOK, code, string(body))
	require.Contains(t, string(body), `"expires_at"`)
	require.Contains(t, string(body), `"created_at"`)
	require.NotContains(t, string(body), cookie.Value)
	code, body, _ = e.do("GET", "/status/"+id, nil, withCookie(cookie.Value))
	require.Equal(t, http.StatusOK, code, string(body))
	code, body, _ = e.do("GET", "/results/"+id, nil, withCookie(cookie.Value))
	require.Equal(t, http.StatusOK, code, string(body))
	require.Equal(t, resultBytes, body)
	code, body, _ = e.do("GET", "/preview/"+id, nil, withCookie(cookie.Value))
	require.Equal(t, http.StatusOK, code, string(body))
	require.Equal(t, previewBytes, body)

	// Submissions with the session are the session's, not the key's.
	code, body, _ = e.do("POST", "/generate", map[string]any{"model": "pony", "prompt": "a lighthouse"}, withCookie(cookie.Value))
	require.Equal(t, http.StatusAccepted, code, string(body))
	var accepted acceptedTask
	require.NoError(t, json.Unmarshal(body, &accepted))
	var client string
	require.NoError(t, e.store.Pool().QueryRow(t.Context(), `select client_id from tasks where id = $1`, accepted.TaskID).Scan(&client))
	require.True(t, strings.HasPrefix(client, "session:"), client)

	// A session cannot mint another; only the key in the header can.
	code, body, _ = e.do("POST", "/auth/session", nil, withCookie(cookie.Value))
	require.Equal(t, http.StatusForbidden, code)
	require.Equal(t, "invalid_api_key", decodeEnvelope(t, body).Code)
	code, body, _ = e.do("POST", "/auth/session?api_key="+testAPIKey, nil, noKey())
	require.Equal(t, http.StatusForbidden, code)
	require.Equal(t, "invalid_api_key", decodeEnvelope(t, body).Code)

	// Logging out revokes the session and clears the cookie.
	code, _, header = e.do("DELETE", "/auth/session", nil, withCookie(cookie.Value))
	require.Equal(t, http.StatusNoContent, code)
	cleared := sessionCookieOf(t, header)
	require.Empty(t, cleared.Value)
	require.True(t, cleared.Expires.Before(time.Now()), "the cookie is expired: %v", cleared.Expires)
	require.True(t, cleared.HttpOnly)
	for _, path := range []string{"/status/" + id, "/results/" + id, "/auth/session"} {
		code, body, _ = e.do("GET", path, nil, withCookie(cookie.Value))
		require.Equal(t, http.StatusUnauthorized, code, path)
		require.Equal(t, "session_revoked", decodeEnvelope(t, body).Code, path)
	}
	code, _, _ = e.do("DELETE", "/auth/session", nil, withCookie(cookie.Value))
	require.Equal(t, http.StatusNoContent, code, "logging out twice is fine")
	require.NotContains(t, e.logs.String(), cookie.Value, "the token never reaches a log")
}

func TestSessionCookieFlagsFollowTheConfiguration(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true, api: func(c *api.Config, _ *api.Deps) {
		c.InsecureCookies, c.CookieSameSite = true, "strict"
	}})
	cookie := e.startSession()
	require.False(t, cookie.Secure)
	require.Equal(t, http.SameSiteStrictMode, cookie.SameSite)
	require.True(t, cookie.HttpOnly)

	_, err := api.New(api.Config{APIKey: testAPIKey, InsecureCookies: true, CookieSameSite: "None"}, e.apiDeps)
	require.Error(t, err, "SameSite=None without Secure is refused at start")
	_, err = api.New(api.Config{APIKey: testAPIKey, CookieSameSite: "sometimes"}, e.apiDeps)
	require.Error(t, err)
}

func TestSessionRevokedExpiredAndTamperedCookiesHaveTheirOwnCodes(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true})
	id := e.finishedTask()
	revoked, expired, good := e.startSession(), e.startSession(), e.startSession()
	code, _, _ := e.do("DELETE", "/auth/session", nil, withCookie(revoked.Value))
	require.Equal(t, http.StatusNoContent, code)
	raw, err := base64.RawURLEncoding.DecodeString(expired.Value)
	require.NoError(t, err)
	sum := sha256.Sum256(raw)
	tag, err := e.store.Pool().Exec(t.Context(), `update sessions set expires_at = now() - interval '1 second' where id_hash = $1`, sum[:])
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected())

	flipped := []byte(good.Value)
	flipped[5] ^= 1 // still base64url, another token
	unknown := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	cases := map[string]string{
		revoked.Value:         "session_revoked",
		expired.Value:         "session_expired",
		string(flipped):       "session_invalid",
		unknown:               "session_invalid",
		"not-a-token":         "session_invalid",
		good.Value + "AAAA":   "session_invalid",
		good.Value[:40] + "!": "session_invalid",
	}
	for value, want := range cases {
		for _, path := range []string{"/status/" + id, "/auth/session"} {
			code, body, _ := e.do("GET", path, nil, withCookie(value))
			require.Equal(t, http.StatusUnauthorized, code, "%s %s: %s", value, path, body)
			require.Equal(t, want, decodeEnvelope(t, body).Code, "%s %s", value, path)
		}
		code, body, _ := e.do("POST", "/generate", map[string]any{"model": "pony", "prompt": "x"}, withCookie(value))
		require.Equal(t, http.StatusUnauthorized, code, string(body))
		require.Equal(t, want, decodeEnvelope(t, body).Code)
	}

	// The untouched session still works; a stale cookie gives way to a valid api_key.
	code, body, _ := e.do("GET", "/status/"+id, nil, withCookie(good.Value))
	require.Equal(t, http.StatusOK, code, string(body))
	code, body, _ = e.do("GET", "/status/"+id+"?api_key="+testAPIKey, nil, withCookie(revoked.Value))
	require.Equal(t, http.StatusOK, code, string(body))
	code, body, _ = e.do("GET", "/auth/session", nil, noKey())
	require.Equal(t, http.StatusUnauthorized, code)
	require.Equal(t, "session_missing", decodeEnvelope(t, body).Code)
	require.Equal(t, 0, e.countRows("tasks where client_id is not null"), "no refused request created a task")
}

func TestSessionRefusesChangesFromAForeignOrigin(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true, corsOrigins: []string{"https://studio.example"}})
	cookie := e.startSession()
	body := map[string]any{"model": "pony", "prompt": "x"}
	code, resp, _ := e.do("POST", "/generate", body, noKey("Cookie", "gg_session="+cookie.Value, "Origin", "https://evil.example"))
	require.Equal(t, http.StatusForbidden, code, string(resp))
	require.Equal(t, "origin_not_allowed", decodeEnvelope(t, resp).Code)
	code, resp, _ = e.do("POST", "/generate", body, noKey("Cookie", "gg_session="+cookie.Value, "Origin", "https://studio.example"))
	require.Equal(t, http.StatusAccepted, code, string(resp))
	code, resp, _ = e.do("POST", "/generate", body, map[string]string{"Origin": "https://evil.example"})
	require.Equal(t, http.StatusAccepted, code, "the API key is not a cookie: any origin may send it: %s", resp)
}

func TestSessionSurvivesANewAPIServerOnTheSameDatabase(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true})
	id := e.finishedTask()
	cookie := e.startSession()
	s := e.getStatus(id)
	require.NoError(t, e.srv.Shutdown(t.Context()))

	restarted := e.replica(nil)
	code, body, _ := restarted.do("GET", "/auth/session", nil, withCookie(cookie.Value))
	require.Equal(t, http.StatusOK, code, string(body))
	code, body, _ = restarted.do("GET", "/status/"+id, nil, withCookie(cookie.Value))
	require.Equal(t, http.StatusOK, code, string(body))
	code, body, _ = restarted.do("GET", s.ResultURL, nil, noKey())
	require.Equal(t, http.StatusOK, code, "a URL signed before the restart still works (the key is derived from API_KEY): %s", body)
	require.Equal(t, resultBytes, body)

	code, _, _ = restarted.do("DELETE", "/auth/session", nil, withCookie(cookie.Value))
	require.Equal(t, http.StatusNoContent, code)
	other := restarted.replica(nil)
	code, body, _ = other.do("GET", "/status/"+id, nil, withCookie(cookie.Value))
	require.Equal(t, http.StatusUnauthorized, code, "revoked on one replica is revoked on all")
	require.Equal(t, "session_revoked", decodeEnvelope(t, body).Code)
}

// sign computes a media URL signature the way the API documents it, independently of its code.
func sign(key []byte, route, id string, exp int64) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(route + "|" + id + "|" + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

func TestSignedMediaURLsWorkWithoutTheKeyAndRefuseForgeries(t *testing.T) {
	key := []byte("media-signing-key-0123456789abcdef")
	e := setup(t, envOptions{noGPUWorker: true, api: func(c *api.Config, _ *api.Deps) {
		c.URLSigningKey, c.SignedURLTTL = key, 2*time.Hour
	}})
	id, other := e.finishedTask(), e.finishedTask()

	code, raw, _ := e.do("GET", "/status/"+id, nil, nil)
	require.Equal(t, http.StatusOK, code, string(raw))
	require.NotContains(t, string(raw), testAPIKey, "the key never appears in the status")
	var s status
	require.NoError(t, json.Unmarshal(raw, &s))
	for route, link := range map[string]string{"results": s.ResultURL, "preview": s.PreviewURL} {
		u, err := url.Parse(link)
		require.NoError(t, err)
		require.Equal(t, "/"+route+"/"+id, u.Path)
		require.Empty(t, u.Query().Get("api_key"))
		exp, err := strconv.ParseInt(u.Query().Get("exp"), 10, 64)
		require.NoError(t, err)
		lifetime := time.Until(time.Unix(exp, 0))
		require.True(t, lifetime > 2*time.Hour-time.Minute && lifetime <= 2*time.Hour+11*time.Minute, "lifetime %s", lifetime)
		require.Equal(t, sign(key, route, id, exp), u.Query().Get("sig"), "HMAC-SHA256 over route|id|exp, base64url")
	}

	code, body, header := e.do("GET", s.ResultURL, nil, noKey())
	require.Equal(t, http.StatusOK, code, string(body))
	require.Equal(t, resultBytes, body)
	require.Equal(t, "image/png", header.Get("Content-Type"))
	code, body, _ = e.do("GET", s.PreviewURL, nil, noKey())
	require.Equal(t, http.StatusOK, code, string(body))
	require.Equal(t, previewBytes, body)
	code, _, header = e.do("GET", s.ResultURL, nil, noKey("Range", "bytes=0-3"))
	require.Equal(t, http.StatusPartialContent, code, "Range works on signed URLs")
	require.Equal(t, "bytes 0-3/"+strconv.Itoa(len(resultBytes)), header.Get("Content-Range"))

	exp := time.Now().Add(time.Hour).Unix()
	past := time.Now().Add(-time.Minute).Unix()
	q := func(e int64, sig string) string { return "?exp=" + strconv.FormatInt(e, 10) + "&sig=" + sig }
	forged := []byte(sign(key, "results", id, exp))
	forged[3] ^= 1
	refused := map[string]string{
		"/results/" + id + q(exp, string(forged)):                               "invalid_signature",
		"/results/" + id + q(exp+1, sign(key, "results", id, exp)):              "invalid_signature",
		"/results/" + id + q(exp, sign(key, "results", other, exp)):             "invalid_signature",
		"/results/" + id + q(exp, sign(key, "preview", id, exp)):                "invalid_signature",
		"/results/" + id + q(exp, sign([]byte(testAPIKey), "results", id, exp)): "invalid_signature",
		"/results/" + id + "?exp=" + strconv.FormatInt(exp, 10):                 "invalid_signature",
		"/results/" + id + "?sig=" + sign(key, "results", id, exp):              "invalid_signature",
		"/results/" + id + q(past, sign(key, "results", id, past)):              "signature_expired",
		"/preview/" + id + q(past, sign(key, "preview", id, past)):              "signature_expired",
		"/results/" + id + q(exp, sign(key, "results", id, exp)) + "&api_key=x": "",
	}
	for path, want := range refused {
		code, body, _ := e.do("GET", path, nil, noKey())
		if want == "" {
			require.Equal(t, http.StatusOK, code, "%s: %s", path, body)
			continue
		}
		require.Equal(t, http.StatusForbidden, code, "%s: %s", path, body)
		require.Equal(t, want, decodeEnvelope(t, body).Code, path)
	}

	// Without a signature the key still works (header or api_key), and nothing else does.
	code, body, _ = e.do("GET", "/results/"+id+"?api_key="+testAPIKey, nil, noKey())
	require.Equal(t, http.StatusOK, code, string(body))
	code, body, _ = e.do("GET", "/preview/"+id, nil, nil)
	require.Equal(t, http.StatusOK, code, string(body))
	code, body, _ = e.do("GET", "/results/"+id, nil, noKey())
	require.Equal(t, http.StatusForbidden, code)
	require.Equal(t, "invalid_api_key", decodeEnvelope(t, body).Code)

	u, _ := url.Parse(s.ResultURL)
	require.NotContains(t, e.logs.String(), u.Query().Get("sig"), "signatures are redacted in the access log")
	require.Contains(t, e.logs.String(), "sig=REDACTED")
}

// generateBody is a small valid submission.
var generateBody = map[string]any{"model": "pony", "prompt": "a quiet harbour"}

func TestRateLimitRefusesWithRetryAfterAcrossReplicas(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true, generatePerMinute: 3})
	b := e.replica(nil)

	for i, srv := range []*env{e, b, e} {
		code, body, _ := srv.do("POST", "/generate", generateBody, nil)
		require.Equal(t, http.StatusAccepted, code, "request %d: %s", i+1, body)
	}
	for _, srv := range []*env{b, e} {
		code, body, header := srv.do("POST", "/generate", generateBody, nil)
		require.Equal(t, http.StatusTooManyRequests, code, string(body))
		env := decodeEnvelope(t, body)
		require.Equal(t, "rate_limited", env.Code)
		retry, err := strconv.Atoi(header.Get("Retry-After"))
		require.NoError(t, err, "Retry-After is whole seconds: %q", header.Get("Retry-After"))
		require.True(t, retry >= 1 && retry <= 20, "one slot frees every 60/3 s; Retry-After %d", retry)
		require.EqualValues(t, 3, env.Metadata["limit"])
		require.EqualValues(t, retry, env.Metadata["retry_after_seconds"])
	}
	require.Equal(t, 3, e.countTasks(), "refused submissions created nothing")

	// Another client (a browser session) has its own allowance.
	cookie := e.startSession()
	code, body, _ := b.do("POST", "/generate", generateBody, withCookie(cookie.Value))
	require.Equal(t, http.StatusAccepted, code, string(body))

	// When the key's slot frees (its row moved back one interval), it may submit again.
	_, err := e.store.Pool().Exec(t.Context(), `update rate_limits set tat = tat - interval '20 seconds' where client_id like 'key:%'`)
	require.NoError(t, err)
	code, body, _ = b.do("POST", "/generate", generateBody, nil)
	require.Equal(t, http.StatusAccepted, code, string(body))
	code, body, _ = e.do("POST", "/generate", generateBody, nil)
	require.Equal(t, http.StatusTooManyRequests, code, "exactly one slot freed: %s", body)
}

func TestActiveTaskLimitCountsLiveTasksAcrossReplicas(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true, maxActiveTasks: 2})
	b := e.replica(nil)

	first := e.submit(generateBody)
	b.submit(generateBody)
	for _, c := range []struct {
		srv    *env
		header map[string]string
	}{{e, nil}, {b, nil}, {e, map[string]string{"Idempotency-Key": "third-try"}}} {
		code, body, _ := c.srv.do("POST", "/generate", generateBody, c.header)
		require.Equal(t, http.StatusTooManyRequests, code, string(body))
		env := decodeEnvelope(t, body)
		require.Equal(t, "active_task_limit_exceeded", env.Code)
		require.EqualValues(t, 2, env.Metadata["active"])
		require.EqualValues(t, 2, env.Metadata["limit"])
	}
	require.Equal(t, 2, e.countTasks(), "refused submissions created nothing")

	// A session is another client with its own two.
	cookie := e.startSession()
	for range 2 {
		code, body, _ := b.do("POST", "/generate", generateBody, withCookie(cookie.Value))
		require.Equal(t, http.StatusAccepted, code, string(body))
	}
	code, body, _ := b.do("POST", "/generate", generateBody, withCookie(cookie.Value))
	require.Equal(t, http.StatusTooManyRequests, code, string(body))

	// A task that ends frees its slot.
	code, body, _ = e.do("DELETE", "/tasks/"+first, nil, nil)
	require.Equal(t, http.StatusAccepted, code, string(body))
	e.waitStatus(first, 30*time.Second, "cancelled", func(s status) bool { return s.Status == "cancelled" })
	code, body, _ = b.do("POST", "/generate", generateBody, nil)
	require.Equal(t, http.StatusAccepted, code, string(body))
	code, body, _ = e.do("POST", "/generate", generateBody, nil)
	require.Equal(t, http.StatusTooManyRequests, code, string(body))
}

func TestActiveTaskLimitHoldsUnderConcurrentSubmissions(t *testing.T) {
	e := setup(t, envOptions{noGPUWorker: true, maxActiveTasks: 2})
	b := e.replica(nil)
	codes := make(chan int, 8)
	for i := range 8 {
		srv := e
		if i%2 == 1 {
			srv = b
		}
		go func() {
			req, _ := http.NewRequest("POST", srv.baseURL+"/generate", strings.NewReader(`{"model":"pony","prompt":"race"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-API-Key", testAPIKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	counts := map[int]int{}
	for range 8 {
		counts[<-codes]++
	}
	require.Equal(t, map[int]int{http.StatusAccepted: 2, http.StatusTooManyRequests: 6}, counts)
	require.Equal(t, 2, e.countTasks())
}
