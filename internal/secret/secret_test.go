package secret_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/secret"
)

func newKey(t *testing.T) string {
	t.Helper()
	k, err := secret.NewKey()
	require.NoError(t, err)
	return k
}

func ring(t *testing.T, keys ...string) *secret.Keyring {
	t.Helper()
	r, err := secret.ParseKeys(strings.Join(keys, ","))
	require.NoError(t, err)
	return r
}

func TestEncryptDecryptRoundTripsAndHidesThePlaintext(t *testing.T) {
	t.Parallel()
	r := ring(t, newKey(t))
	ct, err := r.Encrypt([]byte("worker-secret-value"))
	require.NoError(t, err)
	require.NotContains(t, ct, "worker-secret-value")
	pt, err := r.Decrypt(ct)
	require.NoError(t, err)
	require.Equal(t, "worker-secret-value", string(pt))
}

func TestDecryptUnderAWrongKeyIsAnErrorNotNil(t *testing.T) {
	t.Parallel()
	ct, err := ring(t, newKey(t)).Encrypt([]byte("s3cret"))
	require.NoError(t, err)
	pt, err := ring(t, newKey(t)).Decrypt(ct)
	require.ErrorIs(t, err, secret.ErrDecrypt)
	require.Nil(t, pt)
}

func TestDecryptRefusesMalformedAndTamperedCiphertexts(t *testing.T) {
	t.Parallel()
	r := ring(t, newKey(t))
	ct, err := r.Encrypt([]byte("s3cret"))
	require.NoError(t, err)
	flipped := []byte(ct)
	i := len(flipped) / 2
	if flipped[i] == 'A' {
		flipped[i] = 'B'
	} else {
		flipped[i] = 'A'
	}
	for name, bad := range map[string]string{
		"empty":      "",
		"not base64": "%%%not-a-token%%%",
		"truncated":  ct[:len(ct)/2],
		"tampered":   string(flipped),
		"plaintext":  "s3cret",
	} {
		_, err := r.Decrypt(bad)
		require.ErrorIs(t, err, secret.ErrDecrypt, name)
		_, err = r.Rotate(bad)
		require.ErrorIs(t, err, secret.ErrDecrypt, name)
	}
}

func TestOldCiphertextDecryptsAfterANewKeyIsPrependedAndRotateMovesItToTheNewest(t *testing.T) {
	t.Parallel()
	oldKey, newKeyV := newKey(t), newKey(t)
	ct, err := ring(t, oldKey).Encrypt([]byte("rotate-me"))
	require.NoError(t, err)

	both := ring(t, newKeyV, oldKey)
	require.Equal(t, 2, both.Len())
	pt, err := both.Decrypt(ct)
	require.NoError(t, err, "data under the old key still decrypts")
	require.Equal(t, "rotate-me", string(pt))
	require.False(t, both.UnderNewest(ct))

	rotated, err := both.Rotate(ct)
	require.NoError(t, err)
	require.NotEqual(t, ct, rotated)
	require.True(t, both.UnderNewest(rotated))
	pt, err = ring(t, newKeyV).Decrypt(rotated)
	require.NoError(t, err, "after rotation the old key can be dropped")
	require.Equal(t, "rotate-me", string(pt))
	_, err = ring(t, oldKey).Decrypt(rotated)
	require.ErrorIs(t, err, secret.ErrDecrypt, "the rotated ciphertext is not under the old key")
}

func TestParseKeysRejectsBadListsWithoutQuotingThem(t *testing.T) {
	t.Parallel()
	_, err := secret.ParseKeys("")
	require.Error(t, err)
	_, err = secret.ParseKeys(" , ")
	require.Error(t, err)
	_, err = secret.ParseKeys(newKey(t) + ",not-a-fernet-key-value")
	require.ErrorContains(t, err, "key 2")
	require.NotContains(t, err.Error(), "not-a-fernet-key-value")
}

func TestEncryptRefusesEmptyPlaintext(t *testing.T) {
	t.Parallel()
	_, err := ring(t, newKey(t)).Encrypt(nil)
	require.Error(t, err)
}
