package temporalsetup_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/gooni/gooni/internal/temporalsetup"
	"github.com/gooni/gooni/internal/testtemporal"
)

var server *testtemporal.Server

func TestMain(m *testing.M) {
	srv, err := testtemporal.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	server = srv
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}

func setup(t *testing.T) (context.Context, client.Client) {
	t.Helper()
	c, err := server.NewClient()
	require.NoError(t, err)
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx, c
}

func TestEnsureSearchAttributesAddsMissingOnesAndIsIdempotent(t *testing.T) {
	ctx, c := setup(t)
	attrs := map[string]enumspb.IndexedValueType{
		"TestEnsureKeyword": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"TestEnsureInt":     enumspb.INDEXED_VALUE_TYPE_INT,
	}
	for range 2 {
		require.NoError(t, temporalsetup.EnsureSearchAttributes(ctx, c, server.Namespace(), attrs))
	}
	// Usable in a query as soon as the call returns.
	_, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{
		Namespace: server.Namespace(),
		Query:     `TestEnsureKeyword = "x" AND TestEnsureInt > 3`,
	})
	require.NoError(t, err)
	// Gooni's own attributes are already there: nothing to do.
	require.NoError(t, temporalsetup.EnsureSearchAttributes(ctx, c, server.Namespace(), temporalsetup.SearchAttributes()))
}

func TestEnsureSearchAttributesRefusesATypeChange(t *testing.T) {
	ctx, c := setup(t)
	require.NoError(t, temporalsetup.EnsureSearchAttributes(ctx, c, server.Namespace(), map[string]enumspb.IndexedValueType{
		"TestTypeChange": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	}))
	err := temporalsetup.EnsureSearchAttributes(ctx, c, server.Namespace(), map[string]enumspb.IndexedValueType{
		"TestTypeChange": enumspb.INDEXED_VALUE_TYPE_INT,
	})
	require.ErrorContains(t, err, "exists with type Keyword, want Int")
}

func TestEnsureSearchAttributesRefusesASystemAttributeName(t *testing.T) {
	ctx, c := setup(t)
	err := temporalsetup.EnsureSearchAttributes(ctx, c, server.Namespace(), map[string]enumspb.IndexedValueType{
		"WorkflowId": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	})
	require.ErrorContains(t, err, "is a system attribute")
}

func TestEnsureSearchAttributesWithNothingToDoDoesNotCallTheServer(t *testing.T) {
	// A nil client would panic on any call.
	require.NoError(t, temporalsetup.EnsureSearchAttributes(context.Background(), nil, "default", nil))
}
