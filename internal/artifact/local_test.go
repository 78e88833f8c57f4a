package artifact_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/artifact"
)

func TestLocalPutOpenStatDeleteRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := artifact.NewLocal(t.TempDir())
	require.NoError(t, err)

	info, err := s.Put(ctx, "results/t1/result.png", bytes.NewReader([]byte("hello")))
	require.NoError(t, err)
	require.Equal(t, int64(5), info.Size)

	obj, info2, err := s.Open(ctx, "results/t1/result.png")
	require.NoError(t, err)
	defer obj.Close()
	require.Equal(t, info.Size, info2.Size)
	_, err = obj.Seek(1, io.SeekStart)
	require.NoError(t, err)
	rest, err := io.ReadAll(obj)
	require.NoError(t, err)
	require.Equal(t, "ello", string(rest))

	p, err := s.LocalPath(ctx, "results/t1/result.png")
	require.NoError(t, err)
	require.Equal(t, filepath.Join(s.Root(), "results", "t1", "result.png"), p)

	require.NoError(t, s.Delete(ctx, "results/t1/result.png"))
	require.NoError(t, s.Delete(ctx, "results/t1/result.png"), "deleting twice is fine")
	_, err = s.Stat(ctx, "results/t1/result.png")
	require.ErrorIs(t, err, artifact.ErrNotFound)
	_, _, err = s.Open(ctx, "results/t1/result.png")
	require.ErrorIs(t, err, artifact.ErrNotFound)
}

func TestLocalRefusesKeysThatEscapeTheRoot(t *testing.T) {
	t.Parallel()
	s, err := artifact.NewLocal(t.TempDir())
	require.NoError(t, err)
	for _, key := range []string{"", "../x", "a/../../x", "/abs", "a//b", "a\\b", "a/./b"} {
		_, err := s.Put(context.Background(), key, bytes.NewReader(nil))
		require.Error(t, err, key)
	}
}

func TestLocalPutFileMovesTheFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := artifact.NewLocal(filepath.Join(dir, "store"))
	require.NoError(t, err)
	src := filepath.Join(dir, "out.png")
	require.NoError(t, os.WriteFile(src, []byte("png"), 0o600))

	info, err := s.PutFile(ctx, "results/t2/result.png", src)
	require.NoError(t, err)
	require.Equal(t, int64(3), info.Size)
	_, err = os.Stat(src)
	require.True(t, os.IsNotExist(err), "source moved")
}

func TestLocalPutHonoursCancelledContext(t *testing.T) {
	t.Parallel()
	s, err := artifact.NewLocal(t.TempDir())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Put(ctx, "x/y", bytes.NewReader([]byte("data")))
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.Stat(context.Background(), "x/y")
	require.ErrorIs(t, err, artifact.ErrNotFound, "no partial artifact left")
}
