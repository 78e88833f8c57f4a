package cpu

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFFmpegLogIsBoundedAndKeepsTheLastLines(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	l := newFFmpegLog(slog.New(slog.NewTextHandler(&out, nil)))
	var input strings.Builder
	for i := range 500 {
		fmt.Fprintf(&input, "line %d\n", i)
	}
	input.WriteString(strings.Repeat("x", 10*ffmpegLineMax)) // no newline: flush ends it
	// Write in odd chunks, as a pipe delivers them.
	b := []byte(input.String())
	for len(b) > 0 {
		n := min(len(b), 37)
		written, err := l.Write(b[:n])
		require.NoError(t, err)
		require.Equal(t, n, written)
		b = b[n:]
	}
	l.flush()

	logged := out.String()
	require.Equal(t, ffmpegLogLines+1, strings.Count(logged, "\n"), "at most ffmpegLogLines lines, then one line saying how many were dropped")
	require.Contains(t, logged, "line=\"line 0\"")
	require.NotContains(t, logged, "line 40\"")
	require.Contains(t, logged, "lines=461")
	require.Less(t, out.Len(), ffmpegLogLines*200, "the log stays small")
	require.Equal(t, "line 498; line 499; "+strings.Repeat("x", ffmpegLineMax), l.tail(), "the tail keeps the last lines, each cut")
}
