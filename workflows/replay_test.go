package workflows_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/gooni/gooni/workflows"
)

// TestGenerationWorkflowReplaysRecordedHistories replays histories recorded from real runs on the
// dev server (a finished image and a failed video, from before FinishTask became a local
// activity, and a finished image after). A change to GenerationWorkflow that is not guarded by
// workflow.GetVersion breaks this test instead of breaking runs in flight.
func TestGenerationWorkflowReplaysRecordedHistories(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"testdata/generation_done.json", "testdata/generation_failed.json",
		"testdata/generation_done_local_finish.json"} {
		replayer := worker.NewWorkflowReplayer()
		replayer.RegisterWorkflowWithOptions(workflows.GenerationWorkflow, workflow.RegisterOptions{Name: workflows.GenerationWorkflowName})
		require.NoError(t, replayer.ReplayWorkflowHistoryFromJSONFile(nil, file), file)
	}
}
