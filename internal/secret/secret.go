// Package secret encrypts small secrets (worker-account token secrets) with Fernet under a list
// of keys, newest first, so keys can rotate: data is always encrypted under the newest key and
// decrypts under any key of the list until it is rotated (Rotate) and the old key is dropped.
//
// It wraps github.com/fernet/fernet-go, whose VerifyAndDecrypt returns nil on any failure (a
// wrong key, a tampered or malformed token): here every failure is an error, so a caller cannot
// mistake "could not decrypt" for an empty secret. Keys come from the environment
// (ACCOUNTS_ENCRYPT_KEY), never from the repository.
package secret

import (
	"errors"
	"fmt"
	"strings"

	"github.com/fernet/fernet-go"
)

// ErrDecrypt means a ciphertext did not verify under any key of the ring: it was encrypted
// under a key that is no longer listed, or it is malformed or tampered with.
var ErrDecrypt = errors.New("secret: ciphertext does not verify under any configured key")

// Keyring is an ordered list of Fernet keys, newest first. It is safe for concurrent use.
type Keyring struct {
	keys []*fernet.Key
}

// ParseKeys reads a comma-separated list of Fernet keys (32 bytes, URL-safe base64, as
// `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`
// or NewKey prints), newest first. The error names the position of a bad key, never its value.
func ParseKeys(list string) (*Keyring, error) {
	var keys []*fernet.Key
	for i, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, err := fernet.DecodeKey(part)
		if err != nil {
			return nil, fmt.Errorf("secret: key %d of the list is not a Fernet key (32 bytes, URL-safe base64)", i+1)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("secret: no keys: set ACCOUNTS_ENCRYPT_KEY to one or more Fernet keys, comma-separated, newest first")
	}
	return &Keyring{keys: keys}, nil
}

// NewKey returns a fresh random Fernet key, encoded.
func NewKey() (string, error) {
	var k fernet.Key
	if err := k.Generate(); err != nil {
		return "", fmt.Errorf("secret: generate key: %w", err)
	}
	return k.Encode(), nil
}

// Len returns how many keys the ring holds.
func (r *Keyring) Len() int { return len(r.keys) }

// Encrypt encrypts plaintext under the newest key. Empty plaintext is refused: the library
// cannot tell its decryption from a failure.
func (r *Keyring) Encrypt(plaintext []byte) (string, error) {
	if len(plaintext) == 0 {
		return "", errors.New("secret: encrypt: empty plaintext")
	}
	tok, err := fernet.EncryptAndSign(plaintext, r.keys[0])
	if err != nil {
		return "", fmt.Errorf("secret: encrypt: %w", err)
	}
	return string(tok), nil
}

// Decrypt returns the plaintext of ciphertext, trying every key newest first; ErrDecrypt when
// none verifies it.
func (r *Keyring) Decrypt(ciphertext string) ([]byte, error) {
	msg, _, err := r.decrypt(ciphertext)
	return msg, err
}

// Rotate re-encrypts ciphertext under the newest key (with a fresh IV) after checking that it
// decrypts; ErrDecrypt when it does not, and the caller keeps the old ciphertext.
func (r *Keyring) Rotate(ciphertext string) (string, error) {
	msg, _, err := r.decrypt(ciphertext)
	if err != nil {
		return "", err
	}
	return r.Encrypt(msg)
}

// UnderNewest reports whether ciphertext verifies under the newest key (so Rotate would change
// only its IV): a rotation can count what is left to do.
func (r *Keyring) UnderNewest(ciphertext string) bool {
	_, i, err := r.decrypt(ciphertext)
	return err == nil && i == 0
}

// decrypt returns the plaintext and the index of the key that verified it.
func (r *Keyring) decrypt(ciphertext string) ([]byte, int, error) {
	if ciphertext == "" {
		return nil, -1, ErrDecrypt
	}
	for i, k := range r.keys {
		// ttl 0: tokens do not expire (a worker secret lives as long as its account).
		if msg := fernet.VerifyAndDecrypt([]byte(ciphertext), 0, []*fernet.Key{k}); msg != nil {
			return msg, i, nil
		}
	}
	return nil, -1, ErrDecrypt
}
