package workflows_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/gooni/gooni/workflows"
)

// TestArtifactCleanupWorkflowReplaysRecordedHistory replays a cleanup run recorded on the
// in-process server by internal/stack's TestMaintenanceCleanupRemovesExpiredFilesAndResultsAnswer410
// (GOONI_RECORD_HISTORY=1 rewrites it). A change to ArtifactCleanupWorkflow that is not guarded
// by workflow.GetVersion breaks this test instead of breaking scheduled runs in flight.
func TestArtifactCleanupWorkflowReplaysRecordedHistory(t *testing.T) {
	t.Parallel()
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions(workflows.ArtifactCleanupWorkflow, workflow.RegisterOptions{Name: workflows.ArtifactCleanupWorkflowName})
	require.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/cleanup_done.json"))
}
