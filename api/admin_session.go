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

	"github.com/gooni/gooni/internal/secret"
	"github.com/gooni/gooni/internal/store"
)

// Admin sessions. An operator trades ADMIN_KEY, once, for an httpOnly cookie (POST
// /admin/session with the X-Admin-Key header, and only the header): a random 256-bit token of
// which PostgreSQL keeps only the SHA-256. Every other /admin/* route takes that session and
// nothing else (requireAdmin): neither the admin key nor the API key opens them. The timeout is
// idle and sliding (Config.AdminIdleTimeout, default 12 h). ADMIN_KEY unset or shorter than
// minAdminKey → every admin route answers 403 admin_misconfigured: the admin API is never open.

// adminCookie names the admin session cookie. Its Path is /admin, so no other route sees it.
const adminCookie = "gg_admin_session"

// minAdminKey is the shortest ADMIN_KEY accepted.
const minAdminKey = 16

// adminSessionLocal is the Fiber local holding the request's *store.AdminSession.
const adminSessionLocal = "gooni.admin_session"

// withAdminDefaults applies the defaults of the admin settings.
func (c Config) withAdminDefaults() Config {
	if c.AdminIdleTimeout <= 0 {
		c.AdminIdleTimeout = 12 * time.Hour
	}
	if c.AdminAuthPerMinute <= 0 {
		c.AdminAuthPerMinute = 20
	}
	if c.AdminReadPerMinute <= 0 {
		c.AdminReadPerMinute = 60
	}
	if c.AdminWritePerMinute <= 0 {
		c.AdminWritePerMinute = 30
	}
	if c.AccountCooldown <= 0 {
		c.AccountCooldown = 300 * time.Second
	}
	if c.AccountMaxFailures <= 0 {
		c.AccountMaxFailures = 6
	}
	return c
}

// adminConfigured reports whether ADMIN_KEY is usable: long enough, and not the API key (the
// API key never grants admin).
func (s *Server) adminConfigured() bool {
	return len(s.cfg.AdminKey) >= minAdminKey && s.cfg.AdminKey != s.cfg.APIKey
}

// adminTouchEvery is how often a session in use has its expiry slid: a minute, or less for
// short idle timeouts.
func (s *Server) adminTouchEvery() time.Duration {
	return min(time.Minute, s.cfg.AdminIdleTimeout/4)
}

// adminSessionResponse describes an admin session; it never carries the token.
type adminSessionResponse struct {
	CreatedAt          time.Time `json:"created_at"`
	ExpiresAt          time.Time `json:"expires_at"`
	LastSeenAt         time.Time `json:"last_seen_at"`
	IdleTimeoutSeconds int       `json:"idle_timeout_seconds"`
}

func (s *Server) newAdminSessionResponse(sess *store.AdminSession) adminSessionResponse {
	return adminSessionResponse{CreatedAt: sess.CreatedAt, ExpiresAt: sess.ExpiresAt, LastSeenAt: sess.LastSeenAt,
		IdleTimeoutSeconds: int(s.cfg.AdminIdleTimeout / time.Second)}
}

// createAdminSession is POST /admin/session: with the right X-Admin-Key header it sets the
// admin cookie and answers 201. A failed attempt spends a second token of the client's auth
// rate (failed bootstraps count double).
func (s *Server) createAdminSession(c *fiber.Ctx) error {
	s.audit(c, "admin.session.create", "", nil)
	if !s.adminConfigured() {
		return errAdminMisconfigured()
	}
	if !s.adminKeys.valid(c.Get("X-Admin-Key")) {
		if _, _, err := s.deps.Store.Allow(c.UserContext(), rateScopeAdminAuth, adminClient(c), s.adminRate(rateScopeAdminAuth)); err != nil {
			s.cfg.Logger.Warn("admin: count failed bootstrap", "err", err)
		}
		s.audit(c, "", "", map[string]any{"reason": "wrong or missing X-Admin-Key"})
		return newError(http.StatusForbidden, "invalid_admin_key", "The admin key is missing or wrong.",
			"Send ADMIN_KEY in the X-Admin-Key header (the API key does not open the admin API).")
	}
	var token [32]byte
	if _, err := rand.Read(token[:]); err != nil {
		return fmt.Errorf("admin session token: %w", err)
	}
	hash := sha256.Sum256(token[:])
	ua := string(c.Request().Header.UserAgent())
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	ctx := c.UserContext()
	sess, err := s.deps.Store.CreateAdminSession(ctx, hash[:], s.cfg.AdminIdleTimeout, strings.ToValidUTF8(ua, ""), c.IP())
	if err != nil {
		return err
	}
	if _, err := s.deps.Store.PurgeAdminSessions(ctx, sessionPurgeAfter); err != nil {
		s.cfg.Logger.Warn("purge admin sessions", "err", err)
	}
	s.audit(c, "", adminSessionRef(hash[:]), nil)
	c.Cookie(&fiber.Cookie{
		Name:     adminCookie,
		Value:    base64.RawURLEncoding.EncodeToString(token[:]),
		Path:     "/admin",
		Secure:   !s.cfg.InsecureCookies,
		HTTPOnly: true,
		SameSite: s.cfg.CookieSameSite,
	})
	return c.Status(http.StatusCreated).JSON(s.newAdminSessionResponse(sess))
}

// getAdminSession is GET /admin/session (behind requireAdmin): the cookie's session.
func (s *Server) getAdminSession(c *fiber.Ctx) error {
	s.audit(c, "admin.session.get", "", nil)
	sess, _ := c.Locals(adminSessionLocal).(*store.AdminSession)
	if sess == nil {
		return errors.New("get admin session: route without requireAdmin")
	}
	return c.JSON(s.newAdminSessionResponse(sess))
}

// deleteAdminSession is DELETE /admin/session: it revokes the cookie's session everywhere and
// clears the cookie. Ending an ended session is fine.
func (s *Server) deleteAdminSession(c *fiber.Ctx) error {
	s.audit(c, "admin.session.delete", "", nil)
	if hash, ok := tokenHash(c.Cookies(adminCookie)); ok {
		s.audit(c, "", adminSessionRef(hash), nil)
		if err := s.deps.Store.RevokeAdminSession(c.UserContext(), hash); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	c.Cookie(&fiber.Cookie{
		Name:     adminCookie,
		Path:     "/admin",
		Expires:  fasthttp.CookieExpireDelete,
		Secure:   !s.cfg.InsecureCookies,
		HTTPOnly: true,
		SameSite: s.cfg.CookieSameSite,
	})
	return c.SendStatus(http.StatusNoContent)
}

// requireAdmin is the middleware of every admin route but POST and DELETE /admin/session: it
// accepts only a live admin session cookie (401 admin_session_missing, admin_session_expired,
// admin_session_invalid), slides its expiry, refuses cookie use from foreign origins on
// changing methods, and leaves the session in c.Locals for the handler and the audit row.
func (s *Server) requireAdmin(c *fiber.Ctx) error {
	if !s.adminConfigured() {
		return errAdminMisconfigured()
	}
	token := c.Cookies(adminCookie)
	if token == "" {
		return newError(http.StatusUnauthorized, "admin_session_missing", "The request carries no admin session cookie.",
			"Start an admin session with POST /admin/session and the X-Admin-Key header.")
	}
	sess, err := s.adminSession(c.UserContext(), token)
	if err != nil {
		return err
	}
	s.auditDetail(c, "session", adminSessionRef(sess.IDHash))
	if err := s.checkOrigin(c); err != nil {
		return err
	}
	c.Locals(adminSessionLocal, sess)
	return c.Next()
}

// adminSession returns the live session of token and slides its expiry.
func (s *Server) adminSession(ctx context.Context, token string) (*store.AdminSession, error) {
	hash, ok := tokenHash(token)
	if !ok {
		return nil, errAdminSessionInvalid("The admin session cookie is malformed.")
	}
	sess, err := s.deps.Store.GetAdminSession(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errAdminSessionInvalid("The admin session cookie is not a known session.")
	}
	if err != nil {
		return nil, err
	}
	switch {
	case sess.RevokedAt != nil:
		return nil, errAdminSessionInvalid("The admin session was ended (logged out).")
	case sess.Expired:
		return nil, newError(http.StatusUnauthorized, "admin_session_expired", "The admin session was idle for too long and has expired.",
			"Start a new admin session with POST /admin/session.")
	}
	exp, touched, err := s.deps.Store.TouchAdminSession(ctx, hash, s.cfg.AdminIdleTimeout, s.adminTouchEvery())
	if err != nil {
		return nil, err
	}
	if touched {
		sess.ExpiresAt, sess.LastSeenAt = exp, time.Now()
	}
	return sess, nil
}

// adminSessionRef names a session in the audit log without revealing anything usable: the
// first 8 bytes of the token's hash.
func adminSessionRef(hash []byte) string {
	return "admin-session:" + hex.EncodeToString(hash[:8])
}

func errAdminSessionInvalid(detail string) *Error {
	return newError(http.StatusUnauthorized, "admin_session_invalid", detail,
		"Start a new admin session with POST /admin/session.")
}

func errAdminMisconfigured() *Error {
	return newError(http.StatusForbidden, "admin_misconfigured", "The admin API is disabled: ADMIN_KEY is unset, shorter than 16 characters or equal to API_KEY.",
		"An operator must set ADMIN_KEY to a long random value of its own (openssl rand -hex 32) and restart the API.")
}

// initAdmin prepares the admin key check and the accounts keyring, logging (without values)
// what keeps either from working; the routes then answer admin_misconfigured or
// accounts_misconfigured rather than the process refusing to start.
func (s *Server) initAdmin() {
	s.adminKeys = newKeyChecker(s.cfg.AdminKey)
	if !s.adminConfigured() {
		s.cfg.Logger.Warn("admin API disabled: ADMIN_KEY is unset, shorter than 16 characters or equal to API_KEY")
	}
	if s.cfg.AccountsEncryptKey == "" {
		s.cfg.Logger.Warn("worker accounts disabled: ACCOUNTS_ENCRYPT_KEY is unset")
		return
	}
	ring, err := secret.ParseKeys(s.cfg.AccountsEncryptKey)
	if err != nil {
		s.cfg.Logger.Error("worker accounts disabled: ACCOUNTS_ENCRYPT_KEY", "err", err)
		return
	}
	s.accountKeys = ring
}
