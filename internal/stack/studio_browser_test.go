package stack_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/api"
	"github.com/gooni/gooni/internal/secret"
)

// browserTestsEnv is "required" under `make test`, which installs Chromium and builds the
// bundle first: a missing prerequisite then fails the test instead of skipping it.
const browserTestsEnv = "GOONI_BROWSER_TESTS"

// TestStudioInChromium drives the web studio and admin pages in headless Chromium (Debian's
// chromium, driven by playwright-core from web/e2e) against this package's real stack:
// PostgreSQL, the in-process Temporal server, the API serving the built bundle over HTTP, the
// control worker and a GPU worker with the CPU runner. Each web/e2e/*.spec.mjs is one scenario;
// they write screenshots of the main pages to docs/screenshots (linked from the README).
func TestStudioInChromium(t *testing.T) {
	webDir, err := filepath.Abs("../../web")
	require.NoError(t, err)
	missing := browserPrerequisitesMissing(webDir)
	if missing != "" {
		if os.Getenv(browserTestsEnv) == "required" {
			t.Fatalf("browser tests required but %s", missing)
		}
		t.Skipf("browser tests skipped: %s (make test installs and builds everything)", missing)
	}
	key, err := secret.NewKey()
	require.NoError(t, err)
	e := setup(t, envOptions{
		adminKey:    testAdminKey,
		accountsKey: key,
		// Slow enough that a person (and the test) sees progress move and can cancel a video: 400 ms a
		// step makes a 20-step image take 8 s and an 8-step anisora video over 3 s before encoding.
		runnerEnv: []string{"GOONI_CPU_RUNNER_STEP_DELAY=400ms"},
		api: func(c *api.Config, _ *api.Deps) {
			c.InsecureCookies = true // plain HTTP on loopback
			// The scenarios sign in and poll the admin pages many times a minute from one IP.
			c.AdminAuthPerMinute, c.AdminReadPerMinute, c.AdminWritePerMinute = 1000, 10_000, 1000
			c.Studio = os.DirFS(filepath.Join(webDir, "dist"))
		},
	})

	shots, err := filepath.Abs("../../docs/screenshots")
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(shots, 0o755))
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	specs, err := filepath.Glob(filepath.Join(webDir, "e2e", "*.spec.mjs"))
	require.NoError(t, err)
	require.NotEmpty(t, specs, "no web/e2e/*.spec.mjs scenarios")
	args := append([]string{"--test", "--test-concurrency=1", "--test-reporter=spec"}, specs...)
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = webDir
	cmd.Env = append(os.Environ(),
		"GOONI_E2E_BASE_URL="+e.baseURL,
		"GOONI_E2E_API_KEY="+testAPIKey,
		"GOONI_E2E_ADMIN_KEY="+testAdminKey,
		"GOONI_E2E_SCREENSHOTS="+shots,
		"GOONI_E2E_ARTIFACTS="+t.TempDir(),
	)
	out, err := cmd.CombinedOutput()
	t.Logf("web/e2e:\n%s", out)
	require.NoError(t, err, "browser scenarios failed (output above)")
}

// browserPrerequisitesMissing names what the browser tests need and is not there, or "".
func browserPrerequisitesMissing(webDir string) string {
	if _, err := exec.LookPath("node"); err != nil {
		return "node is not installed"
	}
	if _, err := exec.LookPath("chromium"); err != nil {
		return "chromium is not installed (apt-get install chromium)"
	}
	if _, err := os.Stat(filepath.Join(webDir, "node_modules", "playwright-core")); err != nil {
		return "web/node_modules is missing (cd web && npm ci)"
	}
	if _, err := os.Stat(filepath.Join(webDir, "dist", "index.html")); err != nil {
		return "the studio is not built (make web)"
	}
	return ""
}
