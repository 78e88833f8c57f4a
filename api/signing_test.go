package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSignedURLsCheckRouteIDExpiryAndSignature(t *testing.T) {
	t.Parallel()
	u := newURLSigner([]byte("0123456789abcdef0123456789abcdef"), 4*time.Hour)
	now := time.Unix(1_700_000_000, 0)
	link, err := url.Parse(u.url("results", "task-1", now))
	require.NoError(t, err)
	require.Equal(t, "/results/task-1", link.Path)
	exp, sig := link.Query().Get("exp"), link.Query().Get("sig")
	e, err := strconv.ParseInt(exp, 10, 64)
	require.NoError(t, err)
	require.GreaterOrEqual(t, e, now.Add(4*time.Hour).Unix(), "valid at least the ttl")
	require.Less(t, e, now.Add(4*time.Hour+u.step).Unix())
	require.Equal(t, link.String(), u.url("results", "task-1", now.Add(time.Second)), "the same URL for a while (cacheable)")

	require.NoError(t, u.check("results", "task-1", exp, sig, now))
	code := func(err error) string {
		t.Helper()
		var env *Error
		require.ErrorAs(t, err, &env)
		require.Equal(t, http.StatusForbidden, env.Status)
		return env.Code
	}
	require.Equal(t, "signature_expired", code(u.check("results", "task-1", exp, sig, time.Unix(e, 0))))
	require.Equal(t, "invalid_signature", code(u.check("preview", "task-1", exp, sig, now)))
	require.Equal(t, "invalid_signature", code(u.check("results", "task-2", exp, sig, now)))
	require.Equal(t, "invalid_signature", code(u.check("results", "task-1", strconv.FormatInt(e+1, 10), sig, now)))
	require.Equal(t, "invalid_signature", code(u.check("results", "task-1", "soon", sig, now)))
	require.Equal(t, "invalid_signature", code(u.check("results", "task-1", exp, "", now)))
	require.Equal(t, "invalid_signature", code(u.check("results", "task-1", exp, strings.ToUpper(sig), now)))
	other := newURLSigner([]byte("another-key-another-key-another!"), 4*time.Hour)
	require.Equal(t, "invalid_signature", code(other.check("results", "task-1", exp, sig, now)))
}

func TestSigningKeyIsDerivedFromTheAPIKeyStably(t *testing.T) {
	t.Parallel()
	a := Config{APIKey: "long-enough-api-key"}.withDefaults()
	b := Config{APIKey: "long-enough-api-key"}.withDefaults()
	c := Config{APIKey: "another-api-key-value"}.withDefaults()
	require.Len(t, a.URLSigningKey, 32)
	require.Equal(t, a.URLSigningKey, b.URLSigningKey, "replicas and restarts agree")
	require.NotEqual(t, a.URLSigningKey, c.URLSigningKey)
	require.NotContains(t, string(a.URLSigningKey), "long-enough-api-key")
	explicit := Config{APIKey: "long-enough-api-key", URLSigningKey: []byte("explicit-signing-key")}.withDefaults()
	require.Equal(t, []byte("explicit-signing-key"), explicit.URLSigningKey)
}

func TestSessionTokensMustBe32Base64URLBytes(t *testing.T) {
	t.Parallel()
	good := "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" // 43 chars: 32 zero bytes
	h, ok := tokenHash(good)
	require.True(t, ok)
	require.Len(t, h, 32)
	for _, bad := range []string{"", "x", good + "A", good[:42] + "!", good[:42] + "=", strings.Repeat("A", 44)} {
		_, ok := tokenHash(bad)
		require.False(t, ok, bad)
	}
}

func TestAuthConfigDefaultsAndRefusals(t *testing.T) {
	t.Parallel()
	c := Config{APIKey: "long-enough-key"}.withDefaults()
	require.Equal(t, "Lax", c.CookieSameSite)
	require.Equal(t, 24*time.Hour, c.SessionTTL)
	require.Equal(t, 4*time.Hour, c.SignedURLTTL)
	require.Equal(t, 10, c.GeneratePerMinute)
	require.Equal(t, 2, c.MaxActiveTasks)
	require.NoError(t, c.validate())
	require.Error(t, Config{APIKey: "long-enough-key", CookieSameSite: "None", InsecureCookies: true}.withDefaults().validate())
	require.NoError(t, Config{APIKey: "long-enough-key", CookieSameSite: "none"}.withDefaults().validate())
	require.Error(t, Config{APIKey: "long-enough-key", CookieSameSite: "relaxed"}.withDefaults().validate())
	require.Error(t, Config{APIKey: "long-enough-key", URLSigningKey: []byte("short")}.withDefaults().validate())
}
