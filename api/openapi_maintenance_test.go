package api

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/workflows"
)

// pageWorkflow finds each entry of the admin page's WORKFLOWS list: its name and, when it asks
// for a number, the request field the number goes in.
var pageWorkflow = regexp.MustCompile(`\{ name: "([a-z-]+)"(?:[^\n]*?field: "([a-z_]+)")?`)

// TestMaintenanceNamesAgreeInTheWorkflowsTheContractAndTheAdminPage: the admin page lists the
// maintenance workflows it can start in its own code (with their labels and number fields), so a
// workflow added to workflows.MaintenanceNames without the contract or the page, or a page field
// the request body does not accept, fails here rather than in an admin's browser.
func TestMaintenanceNamesAgreeInTheWorkflowsTheContractAndTheAdminPage(t *testing.T) {
	t.Parallel()
	want := workflows.MaintenanceNames()

	op := loadOpenAPI(t).Paths.Find("/admin/maintenance/{name}").Post
	require.NotNil(t, op, "POST /admin/maintenance/{name} in api/openapi.yaml")
	var contract []string
	for _, v := range op.Parameters.GetByInAndName("path", "name").Schema.Value.Enum {
		contract = append(contract, v.(string))
	}
	require.ElementsMatch(t, want, contract, "api/openapi.yaml's maintenance name enum")
	body := op.RequestBody.Value.Content.Get("application/json").Schema.Value.Properties

	src, err := os.ReadFile(filepath.Join("..", "web", "src", "admin", "MaintenancePage.tsx"))
	require.NoError(t, err)
	text := string(src)
	start := strings.Index(text, "export const WORKFLOWS")
	require.GreaterOrEqual(t, start, 0, "the admin page's WORKFLOWS list")
	block := text[start : start+strings.Index(text[start:], "];")]
	var page []string
	for _, m := range pageWorkflow.FindAllStringSubmatch(block, -1) {
		page = append(page, m[1])
		if m[2] != "" {
			require.Contains(t, body, m[2], "the admin page sends %q for %s; the request body does not accept it", m[2], m[1])
		}
	}
	require.Equal(t, want, page, "the admin page's WORKFLOWS list, in the workflows' order")
}
