package api

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gooni/gooni/internal/store"
)

// Signed media URLs. GET /status answers result_url and preview_url as
// /results/{id}?exp=<unix seconds>&sig=<base64url HMAC-SHA256 of "results|{id}|{exp}">, so a
// browser can put them in <img src> without the API key ever appearing in a URL (or in a log,
// a history or a Referer). The route name is signed too, so a preview signature does not open
// the result. GET /results and /preview accept a valid unexpired signature without a key;
// without sig they still take the key (header, session or api_key query).

// signingKeyInfo separates the URL signing key derived from the API key from any other use of it.
const signingKeyInfo = "gooni media url signing v1"

// deriveSigningKey derives a 32-byte HMAC key from the API key with HKDF-SHA256: every replica
// and every restart computes the same key, and a URL signature reveals nothing about the API key.
func deriveSigningKey(apiKey string) []byte {
	key, err := hkdf.Key(sha256.New, []byte(apiKey), nil, signingKeyInfo, sha256.Size)
	if err != nil {
		panic("api: hkdf: " + err.Error()) // only for lengths hkdf cannot produce
	}
	return key
}

// urlSigner signs and checks media URLs.
type urlSigner struct {
	key []byte
	ttl time.Duration
	// step rounds expiry times up, so repeated status polls return the same URL for a while and
	// the browser's cache keeps working.
	step time.Duration
}

func newURLSigner(key []byte, ttl time.Duration) urlSigner {
	step := min(max(ttl/12, time.Second), 15*time.Minute)
	return urlSigner{key: key, ttl: ttl, step: step}
}

// mac is the base64url (unpadded) HMAC-SHA256 of "route|id|exp".
func (u urlSigner) mac(route, id string, exp int64) string {
	h := hmac.New(sha256.New, u.key)
	h.Write([]byte(route + "|" + id + "|" + strconv.FormatInt(exp, 10)))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// url returns /{route}/{id}?exp=…&sig=…, valid for at least ttl from now.
func (u urlSigner) url(route, id string, now time.Time) string {
	exp := now.Add(u.ttl).Truncate(u.step)
	if exp.Before(now.Add(u.ttl)) {
		exp = exp.Add(u.step)
	}
	e := exp.Unix()
	return "/" + route + "/" + id + "?exp=" + strconv.FormatInt(e, 10) + "&sig=" + u.mac(route, id, e)
}

// check verifies a URL's exp and sig for route and id: a signature that does not match is
// invalid_signature (checked first, so a forged URL learns nothing about expiry); a genuine
// one past its exp is signature_expired.
func (u urlSigner) check(route, id, exp, sig string, now time.Time) error {
	e, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !hmac.Equal([]byte(sig), []byte(u.mac(route, id, e))) {
		return newError(http.StatusForbidden, "invalid_signature", "The media URL's signature is not valid.",
			"Use the result_url or preview_url from GET /status unchanged.")
	}
	if now.Unix() >= e {
		return newError(http.StatusForbidden, "signature_expired", "The media URL has expired.",
			"Call GET /status again for a fresh result_url and preview_url.")
	}
	return nil
}

// mediaURLs returns the signed result and preview URLs of a done task, "" for others. The
// status answer and its event stream use it.
func (s *Server) mediaURLs(t *store.Task) (result, preview string) {
	if t.Status != store.StatusDone {
		return "", ""
	}
	return s.signedMediaURLs(t.ID)
}

// signedMediaURLs returns the signed result and preview URLs of the finished task id (for
// listings such as the gallery, whose items are all done).
func (s *Server) signedMediaURLs(id string) (result, preview string) {
	now := time.Now()
	return s.signer.url("results", id, now), s.signer.url("preview", id, now)
}

// requireMediaAccess guards GET /results and /preview: a request carrying sig (or exp) is
// judged by its signature alone; any other needs the API key or a session (requireAPIKey).
func (s *Server) requireMediaAccess(route string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		sig, exp := c.Query("sig"), c.Query("exp")
		if sig == "" && exp == "" {
			return s.requireAPIKey(c)
		}
		if err := s.signer.check(route, c.Params("task_id"), exp, sig, time.Now()); err != nil {
			return err
		}
		return c.Next()
	}
}
