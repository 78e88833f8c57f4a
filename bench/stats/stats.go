// Package stats summarises measured samples and prints benchmark lines.
package stats

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"time"
)

// Percentile returns the p-th percentile (0 < p ≤ 100) of xs by the nearest-rank method: the
// smallest sample such that at least p% of the samples are at or below it. NaN when xs is empty.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// Max returns the largest sample, NaN when xs is empty.
func Max(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return slices.Max(xs)
}

// Min returns the smallest sample, NaN when xs is empty.
func Min(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	return slices.Min(xs)
}

// Ms converts a duration to float milliseconds.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Reporter prints `BENCH <name> <value> <unit>` lines on Out and a human summary on Log.
type Reporter struct {
	Out io.Writer
	Log io.Writer
}

// Bench prints one benchmark line. Milliseconds get one decimal, ratios and rates two, counts
// none.
func (r Reporter) Bench(name string, value float64, unit string) {
	prec := 2
	switch unit {
	case "ms", "%":
		prec = 1
	case "count":
		prec = 0
	}
	fmt.Fprintf(r.Out, "BENCH %s %s %s\n", name, strconv.FormatFloat(value, 'f', prec, 64), unit)
}

// Logf prints a line of the human summary.
func (r Reporter) Logf(format string, args ...any) {
	fmt.Fprintf(r.Log, format+"\n", args...)
}
