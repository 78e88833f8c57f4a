package testtemporal

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/gooni/gooni/internal/temporalsetup"
)

var server *Server

func TestMain(m *testing.M) {
	began := time.Now()
	srv, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "testtemporal: server started in %s\n", time.Since(began))
	server = srv
	code := m.Run()
	srv.Stop()
	srv.Stop() // safe twice
	os.Exit(code)
}

func TestClientConnectsAndSeesGooniSearchAttributes(t *testing.T) {
	c, err := server.NewClient()
	require.NoError(t, err)
	defer c.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: server.Namespace()})
	require.NoError(t, err)

	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: server.Namespace()})
	require.NoError(t, err)
	for name, typ := range temporalsetup.SearchAttributes() {
		require.Equal(t, typ, resp.GetCustomAttributes()[name], name)
	}
}
