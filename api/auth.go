package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"

	"github.com/gofiber/fiber/v2"
)

// keyChecker compares presented API keys with the configured one in constant time. It
// compares SHA-256 digests so that neither the content nor the length of the key leaks through
// timing.
type keyChecker struct {
	digest [sha256.Size]byte
}

func newKeyChecker(key string) keyChecker {
	return keyChecker{digest: sha256.Sum256([]byte(key))}
}

func (k keyChecker) valid(presented string) bool {
	if presented == "" {
		return false
	}
	d := sha256.Sum256([]byte(presented))
	return subtle.ConstantTimeCompare(d[:], k.digest[:]) == 1
}

// requireAPIKey accepts, in this order, the X-API-Key header, the session cookie (see
// session.go) or the api_key query parameter for browser media fetches, and records which
// client sent the request (for the limits). A wrong header key is refused at once; a cookie
// that is no longer valid gives way to a valid api_key, else its own 401 answers. The key is
// never logged (the access log redacts query strings).
func (s *Server) requireAPIKey(c *fiber.Ctx) error {
	if key := c.Get("X-API-Key"); key != "" {
		if !s.keys.valid(key) {
			return errInvalidAPIKey()
		}
		return s.next(c, s.keyClient())
	}
	var sessionErr error
	if token := c.Cookies(sessionCookie); token != "" {
		sess, err := s.session(c.UserContext(), token)
		var env *Error
		switch {
		case err == nil:
			if err := s.checkOrigin(c); err != nil {
				return err
			}
			return s.next(c, sessionClient(sess.IDHash))
		case !errors.As(err, &env):
			return err
		}
		sessionErr = err
	}
	if s.keys.valid(c.Query("api_key")) {
		return s.next(c, s.keyClient())
	}
	if sessionErr != nil {
		return sessionErr
	}
	return errInvalidAPIKey()
}
