package settings

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWebFormPayloads feeds the POST /generate bodies the web studio's form logic builds
// (web/src/settings/form.test.ts writes them to testdata/payloads.json, for every model and mode,
// valid and invalid) to the real validator: a body the studio finds valid must be accepted, and
// one it flags must be rejected on exactly the fields it flags. So the studio and the server
// agree on every rule of the catalogue.
func TestWebFormPayloads(t *testing.T) {
	path := filepath.Join("..", "web", "src", "settings", "testdata", "payloads.json")
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		t.Skipf("%s is missing: run `cd web && npm test` first", path)
	}
	require.NoError(t, err)
	var fixtures []struct {
		Name     string          `json:"name"`
		Body     json.RawMessage `json:"body"`
		Problems []string        `json:"problems"`
	}
	require.NoError(t, json.Unmarshal(data, &fixtures))
	require.NotEmpty(t, fixtures)
	c := setup(t)
	for _, f := range fixtures {
		t.Run(f.Name, func(t *testing.T) {
			_, err := c.Validate(f.Body, func() int64 { return 7 })
			if len(f.Problems) == 0 {
				require.NoError(t, err, "the studio finds this body valid")
				return
			}
			require.Error(t, err, "the studio flags %v", f.Problems)
			var fields []string
			for _, fe := range err.(*ValidationError).Fields {
				fields = append(fields, fe.Field)
			}
			require.Equal(t, f.Problems, fields)
		})
	}
}
