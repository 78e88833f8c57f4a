package devtemporal

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

const testTaskQueue = "devtemporal-test"

var (
	attrModel = temporal.NewSearchAttributeKeyKeyword("GooniModel")
	attrLane  = temporal.NewSearchAttributeKeyKeyword("GooniLane")
)

func greetWorkflow(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var greeting string
	err := workflow.ExecuteActivity(ctx, greetActivity, name).Get(ctx, &greeting)
	return greeting, err
}

func greetActivity(_ context.Context, name string) (string, error) {
	return "hello " + name, nil
}

// testConfig is a Config on a fresh temp dir with free ports and the UI on.
func testConfig(t *testing.T, dir string) Config {
	t.Helper()
	ports, err := FreePorts(DefaultHost, 2)
	require.NoError(t, err)
	return Config{
		DataDir:          dir,
		Port:             ports[0],
		UIEnabled:        true,
		UIPort:           ports[1],
		SearchAttributes: map[string]enumspb.IndexedValueType{attrModel.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD},
		// Not t.Log: the server may log from its goroutines after the test returns.
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
}

func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := Start(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	return srv
}

func dialServer(t *testing.T, srv *Server) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort:  srv.FrontendAddress(),
		Namespace: srv.Namespace(),
		Logger:    nopSDKLogger(),
	})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func TestServerRunsWorkflowsFindsThemAndKeepsThemAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir)

	began := time.Now()
	srv := startServer(t, cfg)
	startedIn := time.Since(began)
	require.Equal(t, fmt.Sprintf("127.0.0.1:%d", cfg.Port), srv.FrontendAddress())
	require.Equal(t, fmt.Sprintf("http://127.0.0.1:%d", cfg.UIPort), srv.UIAddress())

	c := dialServer(t, srv)
	w := worker.New(c, testTaskQueue, worker.Options{})
	w.RegisterWorkflow(greetWorkflow)
	w.RegisterActivity(greetActivity)
	require.NoError(t, w.Start())
	defer w.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    "greet-1",
		TaskQueue:             testTaskQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(attrModel.ValueSet("sdxl")),
	}, greetWorkflow, "gooni")
	require.NoError(t, err)
	var greeting string
	require.NoError(t, run.Get(ctx, &greeting))
	require.Equal(t, "hello gooni", greeting)
	t.Logf("Start took %s; Start to first workflow completed: %s; RSS %s", startedIn, time.Since(began), rss())

	// Visibility is written asynchronously: wait for the run to be listed.
	requireListed(t, c, `WorkflowId = "greet-1"`, "greet-1")
	requireListed(t, c, `GooniModel = "sdxl"`, "greet-1")
	requireListed(t, c, `GooniModel = "flux" OR WorkflowId = "nope"`)

	t.Run("web UI answers", func(t *testing.T) {
		status, _ := httpGet(t, srv.UIAddress()+"/")
		require.Equal(t, http.StatusOK, status)
		query := url.QueryEscape(`WorkflowId = "greet-1"`)
		status, body := httpGet(t, srv.UIAddress()+"/api/v1/namespaces/default/workflows?query="+query)
		require.Equal(t, http.StatusOK, status, body)
		require.Contains(t, body, "greet-1")
	})

	t.Run("a second server on the same data dir is refused", func(t *testing.T) {
		other := testConfig(t, dir)
		_, err := Start(ctx, other)
		require.ErrorContains(t, err, "in use by another dev Temporal server")
	})

	t.Run("a second server on its own data dir and ports runs beside the first", func(t *testing.T) {
		other := testConfig(t, t.TempDir())
		other.UIEnabled = false
		srv2 := startServer(t, other)
		require.Empty(t, srv2.UIAddress())
		c2 := dialServer(t, srv2)
		_, err := c2.DescribeWorkflowExecution(ctx, "greet-1", "")
		require.Error(t, err, "the second server must not see the first one's workflows")
		srv2.Stop()
	})

	w.Stop()
	c.Close()
	began = time.Now()
	srv.Stop()
	t.Logf("Stop took %s", time.Since(began))
	srv.Stop() // safe twice

	// Restart on the same data dir, with one more search attribute than before.
	cfg.SearchAttributes[attrLane.GetName()] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
	began = time.Now()
	srv = startServer(t, cfg)
	t.Logf("restart took %s", time.Since(began))
	c = dialServer(t, srv)
	desc, err := c.DescribeWorkflowExecution(ctx, "greet-1", "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, desc.GetWorkflowExecutionInfo().GetStatus())
	requireListed(t, c, `GooniModel = "sdxl"`, "greet-1")

	// The attribute added on restart is usable at once.
	w = worker.New(c, testTaskQueue, worker.Options{})
	w.RegisterWorkflow(greetWorkflow)
	w.RegisterActivity(greetActivity)
	require.NoError(t, w.Start())
	defer w.Stop()
	run, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    "greet-2",
		TaskQueue:             testTaskQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(attrModel.ValueSet("sdxl"), attrLane.ValueSet("shared")),
	}, greetWorkflow, "again")
	require.NoError(t, err)
	require.NoError(t, run.Get(ctx, &greeting))
	requireListed(t, c, `GooniLane = "shared"`, "greet-2")
}

// requireListed waits until query lists exactly the workflow ids want (in any order).
func requireListed(t *testing.T, c client.Client, query string, want ...string) {
	t.Helper()
	slices.Sort(want)
	var got []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		require.NoError(t, err, query)
		got = got[:0]
		for _, e := range resp.GetExecutions() {
			got = append(got, e.GetExecution().GetWorkflowId())
		}
		slices.Sort(got)
		if slices.Equal(got, want) {
			return
		}
	}
	require.Equal(t, want, got, "query %s", query)
}

// nopSDKLogger keeps test clients quiet.
func nopSDKLogger() sdklog.Logger {
	return sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))
}

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// rss reports the process's resident memory from /proc (Linux), or "n/a".
func rss() string {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for line := range strings.Lines(string(status)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "n/a"
}

func TestStartFailsFastOnATakenPortAndReleasesTheDataDir(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = taken.Close() }()

	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.Port = taken.Addr().(*net.TCPAddr).Port
	_, err = Start(context.Background(), cfg)
	require.ErrorContains(t, err, "temporal frontend port")

	lock, err := lockDataDir(dir)
	require.NoError(t, err, "a failed Start must release the data dir")
	lock.release()
}

func TestConfigValidationNamesTheField(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no data dir", Config{}, "DataDir is required"},
		{"host name", Config{DataDir: "x", Host: "localhost"}, `Host "localhost" is not an IP address`},
		{"UI on the frontend port", Config{DataDir: "x", UIEnabled: true, UIPort: DefaultPort}, "UIPort 7233 equals Port"},
		{"short retention", Config{DataDir: "x", Retention: time.Hour}, "Retention 1h0m0s is below"},
		{"untyped attribute", Config{DataDir: "x", SearchAttributes: map[string]enumspb.IndexedValueType{"A": 0}}, `SearchAttributes: "A" needs a name and a type`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorContains(t, tc.cfg.withDefaults().validate(), tc.want)
		})
	}
	require.NoError(t, Config{DataDir: "x"}.withDefaults().validate())
}
