package gpu

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/runner"
)

func TestScaleMapsRunnerStagesOntoTaskProgress(t *testing.T) {
	t.Parallel()
	cases := []struct {
		p      runner.Progress
		pct    float64
		detail string
	}{
		{runner.Progress{Stage: runner.StageLoadingModel}, 0, ""},
		{runner.Progress{Stage: runner.StageInference, Step: 0, Total: 25}, 5, "step 0/25"},
		{runner.Progress{Stage: runner.StageInference, Step: 5, Total: 25}, 23, "step 5/25"},
		{runner.Progress{Stage: runner.StageInference, Step: 25, Total: 25}, 95, "step 25/25"},
		{runner.Progress{Stage: runner.StageEncoding, Step: 1, Total: 2}, 96, "frame 1/2"},
	}
	for _, tc := range cases {
		pct, detail := scale(runner.KindImage, tc.p)
		require.InDelta(t, tc.pct, pct, 1e-9, "%+v", tc.p)
		require.Equal(t, tc.detail, detail)
	}
}

func TestProgressIsMonotonicAcrossSteps(t *testing.T) {
	t.Parallel()
	last := -1.0
	for step := 0; step <= 40; step++ {
		pct, _ := scale(runner.KindImage, runner.Progress{Stage: runner.StageInference, Step: step, Total: 40})
		require.Greater(t, pct, last)
		last = pct
	}
}

func TestVideoProgressGivesEncodingItsShare(t *testing.T) {
	t.Parallel()
	inferenceDone, _ := scale(runner.KindVideo, runner.Progress{Stage: runner.StageInference, Step: 8, Total: 8})
	halfEncoded, detail := scale(runner.KindVideo, runner.Progress{Stage: runner.StageEncoding, Step: 40, Total: 81})
	require.InDelta(t, 60, inferenceDone, 1e-9)
	require.Greater(t, halfEncoded, 75.0)
	require.Equal(t, "frame 40/81", detail)
}

func TestExtensionAndSafeName(t *testing.T) {
	t.Parallel()
	require.Equal(t, ".png", extension("/x/result.PNG", "image/png"))
	require.Equal(t, ".jpg", extension("/x/result", "image/jpeg"))
	require.Equal(t, ".mp4", extension("/x/result", "video/mp4"))
	require.Equal(t, "abc-123", safeName("abc-123/../"))
}
