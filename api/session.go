package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/gooni/gooni/internal/store"
)

// Browser sessions. The studio trades the API key, once, for an httpOnly cookie (POST
// /auth/session with X-API-Key): a random 256-bit token that script cannot read, of which the
// database keeps only the SHA-256. Every route that takes the API key takes the session too
// (requireAPIKey). Sessions live in PostgreSQL, so they outlast restarts and work on every
// replica; revocation (DELETE /auth/session) takes effect on the next request everywhere.

// sessionCookie names the session cookie.
const sessionCookie = "gg_session"

// sessionTouchEvery bounds how often a session in use has last_seen_at written.
const sessionTouchEvery = time.Minute

// sessionPurgeAfter is how long an expired session is kept (and answered session_expired).
const sessionPurgeAfter = 7 * 24 * time.Hour

// maxUserAgent is the longest User-Agent kept with a session.
const maxUserAgent = 512

// withAuthDefaults applies the defaults of the session, signing and limit settings.
func (c Config) withAuthDefaults() Config {
	if c.SessionTTL <= 0 {
		c.SessionTTL = 24 * time.Hour
	}
	switch strings.ToLower(c.CookieSameSite) {
	case "", "lax":
		c.CookieSameSite = "Lax"
	case "strict":
		c.CookieSameSite = "Strict"
	case "none":
		c.CookieSameSite = "None"
	}
	if len(c.URLSigningKey) == 0 && c.APIKey != "" {
		c.URLSigningKey = deriveSigningKey(c.APIKey)
	}
	if c.SignedURLTTL <= 0 {
		c.SignedURLTTL = 4 * time.Hour
	}
	if c.GeneratePerMinute <= 0 {
		c.GeneratePerMinute = 10
	}
	if c.MaxActiveTasks <= 0 {
		c.MaxActiveTasks = 2
	}
	return c
}

// validateAuth checks the session and signing settings (after withAuthDefaults).
func (c Config) validateAuth() error {
	switch c.CookieSameSite {
	case "Lax", "Strict":
	case "None":
		if c.InsecureCookies {
			return errors.New("api: CookieSameSite None needs Secure cookies (browsers drop the cookie): set GOONI_COOKIE_SECURE=true or GOONI_COOKIE_SAMESITE=Lax")
		}
	default:
		return fmt.Errorf("api: CookieSameSite %q: use Lax, Strict or None (GOONI_COOKIE_SAMESITE)", c.CookieSameSite)
	}
	if len(c.URLSigningKey) < 16 {
		return errors.New("api: URLSigningKey must be at least 16 bytes (GOONI_URL_SIGNING_KEY)")
	}
	return nil
}

// sessionResponse describes a session; it never carries the token.
type sessionResponse struct {
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
}

// createSession is POST /auth/session: with a valid X-API-Key header (only the header: a
// session never mints another, and a key in a URL is what this replaces), it sets the session
// cookie and answers 201 with the session's times.
func (s *Server) createSession(c *fiber.Ctx) error {
	if !s.keys.valid(c.Get("X-API-Key")) {
		return errInvalidAPIKey()
	}
	var token [32]byte
	if _, err := rand.Read(token[:]); err != nil {
		return fmt.Errorf("session token: %w", err)
	}
	hash := sha256.Sum256(token[:])
	ua := string(c.Request().Header.UserAgent()) // string() copies out of Fiber's buffer
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	ctx := c.UserContext()
	sess, err := s.deps.Store.CreateSession(ctx, hash[:], s.cfg.SessionTTL, strings.ToValidUTF8(ua, ""), c.IP())
	if err != nil {
		return err
	}
	s.purgeStale(ctx)
	c.Cookie(&fiber.Cookie{
		Name:     sessionCookie,
		Value:    base64.RawURLEncoding.EncodeToString(token[:]),
		Path:     "/",
		MaxAge:   int(s.cfg.SessionTTL / time.Second),
		Secure:   !s.cfg.InsecureCookies,
		HTTPOnly: true,
		SameSite: s.cfg.CookieSameSite,
	})
	return c.Status(http.StatusCreated).JSON(newSessionResponse(sess))
}

// getSession is GET /auth/session: the cookie's session, if it is valid.
func (s *Server) getSession(c *fiber.Ctx) error {
	token := c.Cookies(sessionCookie)
	if token == "" {
		return errSessionMissing()
	}
	sess, err := s.session(c.UserContext(), token)
	if err != nil {
		return err
	}
	return c.JSON(newSessionResponse(sess))
}

// deleteSession is DELETE /auth/session: it revokes the cookie's session, on every replica, and
// clears the cookie. Logging out twice, or with a cookie that is no longer valid, is fine.
func (s *Server) deleteSession(c *fiber.Ctx) error {
	if hash, ok := tokenHash(c.Cookies(sessionCookie)); ok {
		if err := s.deps.Store.RevokeSession(c.UserContext(), hash); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	c.Cookie(&fiber.Cookie{
		Name:     sessionCookie,
		Path:     "/",
		Expires:  fasthttp.CookieExpireDelete,
		Secure:   !s.cfg.InsecureCookies,
		HTTPOnly: true,
		SameSite: s.cfg.CookieSameSite,
	})
	return c.SendStatus(http.StatusNoContent)
}

// session returns the valid session of token: session_invalid when the token is malformed or
// unknown, session_revoked, session_expired. It records the use (at most once a minute).
func (s *Server) session(ctx context.Context, token string) (*store.Session, error) {
	hash, ok := tokenHash(token)
	if !ok {
		return nil, errSessionInvalid()
	}
	sess, err := s.deps.Store.GetSession(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errSessionInvalid()
	}
	if err != nil {
		return nil, err
	}
	switch {
	case sess.RevokedAt != nil:
		return nil, errSessionRevoked()
	case sess.Expired:
		return nil, errSessionExpired()
	}
	if time.Since(sess.LastSeenAt) > sessionTouchEvery {
		if err := s.deps.Store.TouchSession(ctx, hash, sessionTouchEvery); err != nil {
			s.cfg.Logger.Warn("session: record last use", "err", err)
		}
	}
	return sess, nil
}

// purgeStale deletes long-expired sessions and idle rate-limit rows. Creating a session is what
// adds clients, so it is where their leftovers are swept; a failure only delays the sweep.
func (s *Server) purgeStale(ctx context.Context) {
	if _, err := s.deps.Store.PurgeSessions(ctx, sessionPurgeAfter); err != nil {
		s.cfg.Logger.Warn("purge sessions", "err", err)
	}
	if _, err := s.deps.Store.PurgeRateLimits(ctx, time.Hour); err != nil {
		s.cfg.Logger.Warn("purge rate limits", "err", err)
	}
}

// tokenHash decodes a session token and returns its SHA-256; ok is false for anything that is
// not 32 base64url bytes.
func tokenHash(token string) ([]byte, bool) {
	if len(token) != base64.RawURLEncoding.EncodedLen(32) {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 32 {
		return nil, false
	}
	sum := sha256.Sum256(raw)
	return sum[:], true
}

// sessionClient is the client id (for limits) of a session.
func sessionClient(hash []byte) string {
	return "session:" + hex.EncodeToString(hash[:16])
}

func newSessionResponse(s *store.Session) sessionResponse {
	return sessionResponse{CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt, LastSeenAt: s.LastSeenAt}
}

func errSessionMissing() *Error {
	return newError(http.StatusUnauthorized, "session_missing", "The request carries no session cookie.",
		"Start a session with POST /auth/session and your API key.")
}

func errSessionInvalid() *Error {
	return newError(http.StatusUnauthorized, "session_invalid", "The session cookie is not a valid session.",
		"Start a new session with POST /auth/session.")
}

func errSessionRevoked() *Error {
	return newError(http.StatusUnauthorized, "session_revoked", "The session was ended (logged out).",
		"Start a new session with POST /auth/session.")
}

func errSessionExpired() *Error {
	return newError(http.StatusUnauthorized, "session_expired", "The session has expired.",
		"Start a new session with POST /auth/session.")
}

// checkOrigin refuses a cookie-authenticated request that changes something (not GET, HEAD or
// OPTIONS) from a browser page of another origin than the API's own or a configured
// CORS_ORIGINS one: a cross-site form cannot spend the session (CSRF), even with SameSite=None.
// A request without Origin is not from a cross-origin page of a current browser.
func (s *Server) checkOrigin(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return nil
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" || origin == c.BaseURL() {
		return nil
	}
	for _, o := range s.cfg.CORSOrigins {
		if origin == o {
			return nil
		}
	}
	return newError(http.StatusForbidden, "origin_not_allowed", "A session may not be used from this page's origin.",
		"Call the API from the studio's configured origin (CORS_ORIGINS), or send X-API-Key.")
}
