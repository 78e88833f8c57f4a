package failure_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/failure"
)

func TestEveryCodeHasAdviceAndUnknownCodesFallBack(t *testing.T) {
	t.Parallel()
	for _, code := range []string{
		failure.InvalidInput, failure.GPUMemoryExceeded, failure.NotSupportedYet, failure.RunnerCrashed,
		failure.RunnerStalled, failure.RunnerStartFailed, failure.RunnerProtocolError,
		failure.WorkerStartTimeout, failure.GenerationTimeout, failure.WorkerLost,
		failure.QueueOverloaded, failure.InputMissing, failure.StorageFailed, failure.Internal,
		failure.EncoderUnavailable,
	} {
		require.True(t, failure.Known(code), code)
		require.NotEmpty(t, failure.Advice(code), code)
	}
	require.False(t, failure.Known("no_such_code"))
	require.Equal(t, failure.Advice(failure.Internal), failure.Advice("no_such_code"))
	require.Contains(t, failure.Advice(failure.GPUMemoryExceeded), "Reduce the resolution")
}
