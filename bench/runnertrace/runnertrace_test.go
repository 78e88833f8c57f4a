package runnertrace

import (
	"bytes"
	"io"
	"os"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/require"
)

// TestTapsRecordEveryLineAndPassBytesThrough proves the tap changes nothing on the pipe and
// records each protocol line once, even when reads split lines.
func TestTapsRecordEveryLineAndPassBytesThrough(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rec, err := newRecorder(dir)
	require.NoError(t, err)

	in := `{"type":"load","model":"pony"}` + "\n" +
		`{"type":"generate","id":"t1","model":"pony"}` + "\n"
	got, err := io.ReadAll(&readTap{r: iotest.OneByteReader(bytes.NewBufferString(in)), rec: rec})
	require.NoError(t, err)
	require.Equal(t, in, string(got))

	var out bytes.Buffer
	w := &writeTap{w: &out, rec: rec}
	lines := []string{
		`{"type":"progress","id":"t1","stage":"inference","step":1,"total":2}`,
		`{"type":"progress","id":"t1","stage":"inference","step":2,"total":2}`,
		`{"type":"result","id":"t1","path":"/x.png"}`,
	}
	for _, l := range lines {
		_, err := w.Write([]byte(l + "\n"))
		require.NoError(t, err)
	}
	require.Equal(t, lines[0]+"\n"+lines[1]+"\n"+lines[2]+"\n", out.String())
	rec.close()

	events, err := Read(dir)
	require.NoError(t, err)
	require.Len(t, events, 5)
	jobs := Jobs(events)
	require.Len(t, jobs, 1)
	j := jobs["t1"]
	require.Equal(t, os.Getpid(), j.PID)
	require.Equal(t, 2, j.Total)
	require.Len(t, j.Steps, 2)
	require.False(t, j.Failed)
	require.False(t, j.Steps[2].Before(j.Steps[1]))
	require.False(t, j.Finished.IsZero())
	require.GreaterOrEqual(t, j.Own(), time.Duration(0))
}
