package stats

import (
	"bytes"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPercentileIsNearestRank(t *testing.T) {
	t.Parallel()
	xs := []float64{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	require.Equal(t, 5.0, Percentile(xs, 50))
	require.Equal(t, 10.0, Percentile(xs, 99))
	require.Equal(t, 10.0, Percentile(xs, 95))
	require.Equal(t, 9.0, Percentile(xs, 90))
	require.Equal(t, 1.0, Percentile(xs, 1))
	require.Equal(t, []float64{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}, xs, "the samples are not reordered")
	require.True(t, math.IsNaN(Percentile(nil, 50)))
}

func TestBenchLineFormat(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	r := Reporter{Out: &out}
	r.Bench("a.b.p50", 12.345, "ms")
	r.Bench("c", 3, "count")
	r.Bench("d", 0.5, "x")
	require.Equal(t, "BENCH a.b.p50 12.3 ms\nBENCH c 3 count\nBENCH d 0.50 x\n", out.String())
}
