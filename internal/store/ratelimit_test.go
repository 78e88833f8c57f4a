package store_test

import (
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/store"
)

func TestAllowAdmitsABurstThenOnePerInterval(t *testing.T) {
	s := setup(t)
	rate := store.Rate{Limit: 4, Period: time.Minute} // one slot per 15 s
	for i := range 4 {
		ok, _, err := s.Allow(t.Context(), "generate", "key:a", rate)
		require.NoError(t, err)
		require.True(t, ok, "request %d of the burst", i+1)
	}
	ok, wait, err := s.Allow(t.Context(), "generate", "key:a", rate)
	require.NoError(t, err)
	require.False(t, ok)
	require.True(t, wait > 14*time.Second && wait <= 15*time.Second, "wait %s", wait)

	ok, _, err = s.Allow(t.Context(), "generate", "key:b", rate)
	require.NoError(t, err)
	require.True(t, ok, "clients are counted apart")
	ok, _, err = s.Allow(t.Context(), "other", "key:a", rate)
	require.NoError(t, err)
	require.True(t, ok, "scopes are counted apart")

	// Fifteen seconds later exactly one more request fits.
	_, err = s.Pool().Exec(t.Context(), `update rate_limits set tat = tat - interval '15 seconds' where scope = 'generate' and client_id = 'key:a'`)
	require.NoError(t, err)
	ok, _, err = s.Allow(t.Context(), "generate", "key:a", rate)
	require.NoError(t, err)
	require.True(t, ok)
	ok, _, err = s.Allow(t.Context(), "generate", "key:a", rate)
	require.NoError(t, err)
	require.False(t, ok)

	_, _, err = s.Allow(t.Context(), "generate", "key:a", store.Rate{})
	require.ErrorIs(t, err, store.ErrInvalid)
}

func TestAllowNeverAdmitsMoreThanTheLimitConcurrently(t *testing.T) {
	s := setup(t)
	rate := store.Rate{Limit: 5, Period: time.Hour}
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted := 0
	for range 40 {
		wg.Go(func() {
			ok, _, err := s.Allow(t.Context(), "generate", "key:race", rate)
			require.NoError(t, err)
			if ok {
				mu.Lock()
				admitted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Equal(t, 5, admitted)
}

func TestPurgeRateLimitsDropsOnlyIdleRows(t *testing.T) {
	s := setup(t)
	rate := store.Rate{Limit: 1, Period: time.Minute}
	for _, c := range []string{"idle", "busy"} {
		_, _, err := s.Allow(t.Context(), "generate", c, rate)
		require.NoError(t, err)
	}
	_, err := s.Pool().Exec(t.Context(), `update rate_limits set tat = now() - interval '2 hours' where client_id = 'idle'`)
	require.NoError(t, err)
	n, err := s.PurgeRateLimits(t.Context(), time.Hour)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	ok, _, err := s.Allow(t.Context(), "generate", "busy", rate)
	require.NoError(t, err)
	require.False(t, ok, "the busy client's row is kept")
}

func clientTask(client string, maxActive int) *store.Task {
	id := uuid.NewString()
	return &store.Task{ID: id, WorkflowID: "generation-" + id, Lane: "gpu-pony", Model: "pony", ClientID: client, MaxActive: maxActive}
}

func TestCreateTaskRefusesAClientAtItsLiveTaskLimit(t *testing.T) {
	s := setup(t)
	first := clientTask("key:a", 2)
	require.NoError(t, s.CreateTask(t.Context(), first))
	require.NoError(t, s.CreateTask(t.Context(), clientTask("key:a", 2)))
	err := s.CreateTask(t.Context(), clientTask("key:a", 2))
	var le *store.ActiveLimitError
	require.True(t, errors.As(err, &le), "%v", err)
	require.Equal(t, store.ActiveLimitError{Active: 2, Limit: 2}, *le)

	require.NoError(t, s.CreateTask(t.Context(), clientTask("key:b", 2)), "other clients are counted apart")
	require.NoError(t, s.CreateTask(t.Context(), clientTask("key:a", 0)), "no limit when MaxActive is 0")

	_, err = s.FailTask(t.Context(), first.ID, "boom", "failed")
	require.NoError(t, err)
	require.NoError(t, s.CreateTask(t.Context(), clientTask("key:a", 3)), "a task that ended frees its slot")

	var client string
	require.NoError(t, s.Pool().QueryRow(t.Context(), `select client_id from tasks where id = $1`, first.ID).Scan(&client))
	require.Equal(t, "key:a", client)

	// The keyed path applies the same limit.
	_, err = s.CreateTaskWithKey(t.Context(), clientTask("key:a", 3), "k-1", "h", day)
	require.True(t, errors.As(err, &le), "%v", err)
	_, err = s.GetIdempotencyKey(t.Context(), "k-1", day)
	require.ErrorIs(t, err, store.ErrNotFound, "a refused keyed create records no key")
}

func TestCreateTaskLimitHoldsUnderConcurrency(t *testing.T) {
	s := setup(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for range 20 {
		wg.Go(func() {
			err := s.CreateTask(t.Context(), clientTask("key:race", 3))
			var le *store.ActiveLimitError
			if err != nil && !errors.As(err, &le) {
				t.Error(err)
			}
			if err == nil {
				mu.Lock()
				created++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Equal(t, 3, created)
}

func TestSessionsAreStoredByHashAndReportRevocationAndExpiry(t *testing.T) {
	s := setup(t)
	hash := sha256.Sum256([]byte("token"))
	created, err := s.CreateSession(t.Context(), hash[:], time.Hour, "ua", "127.0.0.1")
	require.NoError(t, err)
	require.InDelta(t, time.Hour, created.ExpiresAt.Sub(created.CreatedAt), float64(time.Millisecond))
	require.False(t, created.Expired)
	require.Nil(t, created.RevokedAt)

	got, err := s.GetSession(t.Context(), hash[:])
	require.NoError(t, err)
	require.Equal(t, "ua", got.UserAgent)
	require.Equal(t, "127.0.0.1", got.ClientIP)

	other := sha256.Sum256([]byte("other"))
	_, err = s.GetSession(t.Context(), other[:])
	require.ErrorIs(t, err, store.ErrNotFound)
	require.ErrorIs(t, s.RevokeSession(t.Context(), other[:]), store.ErrNotFound)
	_, err = s.CreateSession(t.Context(), []byte("short"), time.Hour, "", "")
	require.ErrorIs(t, err, store.ErrInvalid)
	_, err = s.CreateSession(t.Context(), hash[:], time.Hour, "", "")
	require.ErrorIs(t, err, store.ErrAlreadyExists)

	_, err = s.Pool().Exec(t.Context(), `update sessions set last_seen_at = now() - interval '5 minutes'`)
	require.NoError(t, err)
	require.NoError(t, s.TouchSession(t.Context(), hash[:], time.Minute))
	got, err = s.GetSession(t.Context(), hash[:])
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), got.LastSeenAt, 10*time.Second)

	require.NoError(t, s.RevokeSession(t.Context(), hash[:]))
	require.NoError(t, s.RevokeSession(t.Context(), hash[:]), "revoking twice is fine")
	got, err = s.GetSession(t.Context(), hash[:])
	require.NoError(t, err)
	require.NotNil(t, got.RevokedAt)

	_, err = s.Pool().Exec(t.Context(), `update sessions set expires_at = now() - interval '8 days'`)
	require.NoError(t, err)
	got, err = s.GetSession(t.Context(), hash[:])
	require.NoError(t, err)
	require.True(t, got.Expired)
	n, err := s.PurgeSessions(t.Context(), 7*24*time.Hour)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
}
