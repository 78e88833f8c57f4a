package maintenance

import (
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
)

func TestResultMIMEFollowsTheKeysExtension(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]string{
		"results/t/result.png":  "image/png",
		"results/t/result.jpg":  "image/jpeg",
		"results/t/result.webp": "image/webp",
		"results/t/result.mp4":  "video/mp4",
		"results/t/result.WEBM": "video/webm",
	} {
		require.Equal(t, want, resultMIME(key), key)
	}
}

func TestWorkflowStatusWordNamesClosedStatuses(t *testing.T) {
	t.Parallel()
	require.Equal(t, "terminated", workflowStatusWord(enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED))
	require.Equal(t, "timed out", workflowStatusWord(enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT))
	require.Equal(t, "failed", workflowStatusWord(enumspb.WORKFLOW_EXECUTION_STATUS_FAILED))
}
