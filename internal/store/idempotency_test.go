package store_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/store"
)

const day = 24 * time.Hour

// keyedTask returns a minimal new task for CreateTaskWithKey.
func keyedTask() *store.Task {
	id := uuid.NewString()
	return &store.Task{ID: id, WorkflowID: "generation-" + id, Lane: "gpu-pony", Model: "pony"}
}

func TestCreateTaskWithKeyCreatesOnceAndReturnsTheHolderAfterwards(t *testing.T) {
	s := setup(t)
	first := keyedTask()
	held, err := s.CreateTaskWithKey(t.Context(), first, "order-42", "hash-a", day)
	require.NoError(t, err)
	require.Nil(t, held, "the first call creates")
	require.Equal(t, store.StatusPending, get(t, s, first.ID).Status)

	second := keyedTask()
	held, err = s.CreateTaskWithKey(t.Context(), second, "order-42", "hash-b", day)
	require.NoError(t, err)
	require.NotNil(t, held)
	require.Equal(t, first.ID, held.TaskID)
	require.Equal(t, "hash-a", held.RequestHash, "the holder's hash, for the caller to compare")
	_, err = s.GetTask(t.Context(), second.ID)
	require.ErrorIs(t, err, store.ErrNotFound, "the second task was rolled back with its key")

	got, err := s.GetIdempotencyKey(t.Context(), "order-42", day)
	require.NoError(t, err)
	require.Equal(t, first.ID, got.TaskID)
	require.WithinDuration(t, time.Now(), got.CreatedAt, time.Minute)
}

func TestCreateTaskWithKeyReplacesAnExpiredKey(t *testing.T) {
	s := setup(t)
	old := keyedTask()
	_, err := s.CreateTaskWithKey(t.Context(), old, "k", "hash-a", day)
	require.NoError(t, err)
	_, err = s.Pool().Exec(t.Context(), `update idempotency_keys set created_at = now() - interval '25 hours'`)
	require.NoError(t, err)

	_, err = s.GetIdempotencyKey(t.Context(), "k", day)
	require.ErrorIs(t, err, store.ErrNotFound, "an expired key reads as unknown")

	fresh := keyedTask()
	held, err := s.CreateTaskWithKey(t.Context(), fresh, "k", "hash-b", day)
	require.NoError(t, err)
	require.Nil(t, held, "an expired key is treated as new")
	got, err := s.GetIdempotencyKey(t.Context(), "k", day)
	require.NoError(t, err)
	require.Equal(t, fresh.ID, got.TaskID)
	require.Equal(t, "hash-b", got.RequestHash)
	require.Equal(t, store.StatusPending, get(t, s, old.ID).Status, "the old task stays")

	// The same age is still live under a longer time to live.
	_, err = s.Pool().Exec(t.Context(), `update idempotency_keys set created_at = now() - interval '25 hours'`)
	require.NoError(t, err)
	_, err = s.GetIdempotencyKey(t.Context(), "k", 2*day)
	require.NoError(t, err)
}

func TestDeletingTheTaskDeletesItsKey(t *testing.T) {
	s := setup(t)
	task := keyedTask()
	_, err := s.CreateTaskWithKey(t.Context(), task, "k", "hash-a", day)
	require.NoError(t, err)
	require.NoError(t, s.DeleteTask(t.Context(), task.ID))
	_, err = s.GetIdempotencyKey(t.Context(), "k", day)
	require.ErrorIs(t, err, store.ErrNotFound, "a key never points at a deleted task")

	again := keyedTask()
	held, err := s.CreateTaskWithKey(t.Context(), again, "k", "hash-a", day)
	require.NoError(t, err)
	require.Nil(t, held)
}

func TestCreateTaskWithKeyUnderConcurrencyCreatesExactlyOneTask(t *testing.T) {
	s := setup(t)
	const n = 8
	tasks := make([]*store.Task, n)
	helds := make([]*store.IdempotencyKey, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		tasks[i] = keyedTask()
		wg.Go(func() {
			<-start
			helds[i], errs[i] = s.CreateTaskWithKey(t.Context(), tasks[i], "race", "hash", day)
		})
	}
	close(start)
	wg.Wait()
	var winner string
	for i := range n {
		require.NoError(t, errs[i])
		if helds[i] == nil {
			require.Empty(t, winner, "only one call creates")
			winner = tasks[i].ID
		}
	}
	require.NotEmpty(t, winner)
	for i := range n {
		if helds[i] != nil {
			require.Equal(t, winner, helds[i].TaskID)
		}
	}
	var count int
	require.NoError(t, s.Pool().QueryRow(t.Context(), `select count(*) from tasks`).Scan(&count))
	require.Equal(t, 1, count)
}

func TestCreateTaskWithKeyRejectsMissingKeyOrInvalidTask(t *testing.T) {
	s := setup(t)
	_, err := s.CreateTaskWithKey(t.Context(), keyedTask(), "", "hash", day)
	require.ErrorIs(t, err, store.ErrInvalid)
	_, err = s.CreateTaskWithKey(t.Context(), keyedTask(), "k", "", day)
	require.ErrorIs(t, err, store.ErrInvalid)
	_, err = s.CreateTaskWithKey(t.Context(), &store.Task{ID: uuid.NewString(), WorkflowID: "w"}, "k", "hash", day)
	require.ErrorIs(t, err, store.ErrInvalid, "a task without a lane")
	_, err = s.CreateTaskWithKey(t.Context(), keyedTask(), strings.Repeat("k", 256), "hash", day)
	require.ErrorIs(t, err, store.ErrInvalid, "the schema bounds the key length")
	_, err = s.GetIdempotencyKey(t.Context(), "k", day)
	require.ErrorIs(t, err, store.ErrNotFound, "nothing was recorded")
}
