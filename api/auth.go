package api

import (
	"crypto/sha256"
	"crypto/subtle"

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

// requireAPIKey accepts the X-API-Key header, or the api_key query parameter for browser media
// fetches. The key is never logged (the access log redacts query strings).
func (s *Server) requireAPIKey(c *fiber.Ctx) error {
	key := c.Get("X-API-Key")
	if key == "" {
		key = c.Query("api_key")
	}
	if !s.keys.valid(key) {
		return errInvalidAPIKey()
	}
	return c.Next()
}
