package api

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRedactQueryHidesSecretsAndKeepsTheRest(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"":                            "",
		"api_key=s3cret":              "api_key=REDACTED",
		"page=2&api_key=s3cret&sig=x": "api_key=REDACTED&page=2&sig=REDACTED",
		"token=abc":                   "token=REDACTED",
		"%zz":                         "<unparsable>",
	}
	for in, want := range cases {
		require.Equal(t, want, redactQuery(in), in)
	}
}

func TestValidTaskIDAcceptsOnlyLowercaseUUIDs(t *testing.T) {
	t.Parallel()
	require.True(t, validTaskID("cdb76f72-46d3-48aa-8704-853ae52419d5"))
	for _, id := range []string{"", "x", "../../etc/passwd", "CDB76F72-46D3-48AA-8704-853AE52419D5",
		"cdb76f72-46d3-48aa-8704-853ae52419d", "cdb76f72x46d3-48aa-8704-853ae52419d5"} {
		require.False(t, validTaskID(id), id)
	}
}

func TestKeyCheckerComparesWholeKeys(t *testing.T) {
	t.Parallel()
	k := newKeyChecker("correct-horse-battery")
	require.True(t, k.valid("correct-horse-battery"))
	require.False(t, k.valid(""))
	require.False(t, k.valid("correct-horse"))
	require.False(t, k.valid("correct-horse-battery-staple"))
}

func TestSanitizeFieldMakesFileNameParts(t *testing.T) {
	t.Parallel()
	require.Equal(t, "arbitrary_frames-0--image", sanitizeField("arbitrary_frames[0].image"))
	require.Equal(t, "reference_image", sanitizeField("reference_image"))
}

func TestConfigRefusesShortKeysAndWildcardOrigins(t *testing.T) {
	t.Parallel()
	require.Error(t, Config{APIKey: "short"}.withDefaults().validate())
	require.Error(t, Config{APIKey: "long-enough-key", CORSOrigins: []string{"*"}}.withDefaults().validate())
	require.NoError(t, Config{APIKey: "long-enough-key", CORSOrigins: []string{"http://localhost:5173"}}.withDefaults().validate())
}
