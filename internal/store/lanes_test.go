package store_test

import (
	"context"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/pgtest"
	"github.com/gooni/gooni/internal/store"
)

func newPending(t *testing.T, st *store.Store) string {
	t.Helper()
	id := uuid.NewString()
	require.NoError(t, st.CreateTask(context.Background(), &store.Task{ID: id, WorkflowID: "generation-" + id, Lane: "gpu-pony", Model: "pony"}))
	return id
}

func TestAdmitSharedNeverExceedsTheDepthUnderConcurrency(t *testing.T) {
	t.Parallel()
	st := pgtest.NewStore(t)
	ctx := context.Background()
	ids := make([]string, 12)
	for i := range ids {
		ids[i] = newPending(t, st)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, _, err := st.AdmitShared(ctx, id, "gpu-shared", "no dedicated worker", 5)
			require.NoError(t, err)
			if ok {
				mu.Lock()
				admitted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 5, admitted)
	depth, err := st.SharedDepth(ctx)
	require.NoError(t, err)
	require.Equal(t, 5, depth)
}

func TestAdmitSharedIsIdempotentAndRecordsTheReason(t *testing.T) {
	t.Parallel()
	st := pgtest.NewStore(t)
	ctx := context.Background()
	id := newPending(t, st)
	for range 2 {
		ok, _, err := st.AdmitShared(ctx, id, "gpu-shared", "dedicated lane idle for 10m", 1)
		require.NoError(t, err)
		require.True(t, ok)
	}
	task, err := st.GetTask(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "shared", task.LaneMode)
	require.Equal(t, "gpu-shared", task.Lane)
	require.Equal(t, "dedicated lane idle for 10m", task.FallbackReason)

	// Once started, it no longer counts as waiting.
	require.NoError(t, st.MarkProcessing(ctx, id, "gpu-shared", "shared", 1))
	depth, err := st.SharedDepth(ctx)
	require.NoError(t, err)
	require.Zero(t, depth)
}

func TestCancelTaskOnlyCancelsLiveTasks(t *testing.T) {
	t.Parallel()
	st := pgtest.NewStore(t)
	ctx := context.Background()
	id := newPending(t, st)
	changed, err := st.CancelTask(ctx, id)
	require.NoError(t, err)
	require.True(t, changed)
	changed, err = st.CancelTask(ctx, id)
	require.NoError(t, err)
	require.False(t, changed)
	task, err := st.GetTask(ctx, id)
	require.NoError(t, err)
	require.Equal(t, store.StatusCancelled, task.Status)

	done := newPending(t, st)
	_, err = st.FinishTask(ctx, done, store.FinishFields{ResultKey: "r"})
	require.NoError(t, err)
	_, err = st.CancelTask(ctx, done)
	require.ErrorIs(t, err, store.ErrConflict)
	_, err = st.CancelTask(ctx, uuid.NewString())
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestRecordAttemptFailureKeepsTheLastFailure(t *testing.T) {
	t.Parallel()
	st := pgtest.NewStore(t)
	ctx := context.Background()
	id := newPending(t, st)
	require.NoError(t, st.RecordAttemptFailure(ctx, id, 1, "runner_crashed", "The model process crashed."))
	require.NoError(t, st.RecordAttemptFailure(ctx, id, 2, "runner_stalled", "No progress."))
	task, err := st.GetTask(ctx, id)
	require.NoError(t, err)
	require.Equal(t, 2, task.Attempt)
	require.Equal(t, "runner_stalled", task.LastErrorCode)
	require.ErrorIs(t, st.RecordAttemptFailure(ctx, uuid.NewString(), 1, "x", "y"), store.ErrNotFound)
}
