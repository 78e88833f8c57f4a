package api

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValidIdempotencyKeyAcceptsOnly1To255PrintableASCII(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]bool{
		"a":                      true,
		"order-42/retry 1 ~!":    true,
		strings.Repeat("k", 255): true,
		"":                       false,
		strings.Repeat("k", 256): false,
		"tab\there":              false,
		"new\nline":              false,
		"del\x7f":                false,
		"café":                   false,
		"nul\x00":                false,
	} {
		require.Equal(t, want, validIdempotencyKey([]byte(key)), "%q", key)
	}
}

func TestRequestHashIgnoresKeyOrderWhitespaceAndEscapes(t *testing.T) {
	t.Parallel()
	hash := func(body string) string {
		h, err := requestHash([]byte(body))
		require.NoError(t, err)
		require.Len(t, h, 64, "hex SHA-256")
		return h
	}
	base := hash(`{"model":"pony","prompt":"A lighthouse","width":512,"extra":{"b":1,"a":[1,2]}}`)
	require.Equal(t, base, hash("{ \"width\": 512,\n \"prompt\": \"\\u0041 lighthouse\", \"extra\": {\"a\": [1, 2], \"b\": 1}, \"model\": \"pony\" }"))
	for _, other := range []string{
		`{"model":"pony","prompt":"A lighthouse","width":768,"extra":{"b":1,"a":[1,2]}}`,
		`{"model":"pony","prompt":"A lighthouse","width":512,"extra":{"b":1,"a":[2,1]}}`,
		`{"model":"pony","prompt":"a lighthouse","width":512,"extra":{"b":1,"a":[1,2]}}`,
		`{"model":"pony","prompt":"A lighthouse","width":512}`,
	} {
		require.NotEqual(t, base, hash(other), other)
	}
	_, err := requestHash([]byte(`{"model":`))
	require.Error(t, err)
}
