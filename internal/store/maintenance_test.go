package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/store"
)

// age moves a task's timestamps into the past by SQL, as time passing would.
func age(t *testing.T, s *store.Store, id, set string) {
	t.Helper()
	_, err := s.Pool().Exec(t.Context(), `update tasks set `+set+` where id = $1`, id)
	require.NoError(t, err)
}

func TestPurgeExpiredArtifactsTakesOnlyTasksPastRetentionOnce(t *testing.T) {
	s := setup(t)
	ctx := t.Context()
	expired := newTask(t, s, store.StatusPending)
	_, err := s.FinishTask(ctx, expired.ID, store.FinishFields{ResultKey: "results/e/result.png", PreviewKey: "previews/e/preview.jpg",
		ExpiresAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	age(t, s, expired.ID, `expires_at = now() - interval '1 minute', inputs = '[{"field":"image","key":"inputs/e/00.png"}]'`)

	fresh := newTask(t, s, store.StatusPending)
	_, err = s.FinishTask(ctx, fresh.ID, store.FinishFields{ResultKey: "results/f/result.png", ExpiresAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)

	oldFailed := newTask(t, s, store.StatusPending)
	_, err = s.FailTask(ctx, oldFailed.ID, "runner_crashed", "x")
	require.NoError(t, err)
	age(t, s, oldFailed.ID, `finished_at = now() - interval '40 days', inputs = '[{"field":"image","key":"inputs/o/00.png"}]'`)

	newFailed := newTask(t, s, store.StatusPending)
	_, err = s.FailTask(ctx, newFailed.ID, "runner_crashed", "x")
	require.NoError(t, err)
	live := newTask(t, s, store.StatusPending)
	age(t, s, live.ID, `expires_at = now() - interval '1 minute'`) // a live task's files are in use whatever its expiry

	var removed []store.PurgeTask
	tasks, files, err := s.PurgeExpiredArtifacts(ctx, 10, 30*24*time.Hour, func(_ context.Context, p store.PurgeTask) error {
		removed = append(removed, p)
		return nil
	})
	require.NoError(t, err)
	ids := make([]string, 0, len(removed))
	for _, p := range removed {
		ids = append(ids, p.ID)
		if p.ID == expired.ID {
			require.ElementsMatch(t, []string{"results/e/result.png", "previews/e/preview.jpg", "inputs/e/00.png"}, p.Keys)
		}
		if p.ID == oldFailed.ID {
			require.Equal(t, []string{"inputs/o/00.png"}, p.Keys)
		}
	}
	require.Contains(t, ids, expired.ID)
	require.Contains(t, ids, oldFailed.ID)
	require.NotContains(t, ids, fresh.ID)
	require.NotContains(t, ids, newFailed.ID)
	require.NotContains(t, ids, live.ID)
	require.Equal(t, len(removed), tasks)
	require.GreaterOrEqual(t, files, 4)

	purged, err := s.ArtifactsPurged(ctx, expired.ID)
	require.NoError(t, err)
	require.True(t, purged)
	got := get(t, s, expired.ID)
	require.Equal(t, store.StatusDone, got.Status, "the record keeps its metadata")
	require.Equal(t, "results/e/result.png", got.ResultKey)

	tasks, _, err = s.PurgeExpiredArtifacts(ctx, 10, 30*24*time.Hour, func(context.Context, store.PurgeTask) error {
		t.Fatal("nothing is due any more")
		return nil
	})
	require.NoError(t, err)
	require.Zero(t, tasks)
}

func TestPurgeExpiredArtifactsKeepsTheBatchDueWhenRemovalFails(t *testing.T) {
	s := setup(t)
	ctx := t.Context()
	task := newTask(t, s, store.StatusPending)
	_, err := s.FinishTask(ctx, task.ID, store.FinishFields{ResultKey: "results/x/result.png", ExpiresAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	age(t, s, task.ID, `expires_at = now() - interval '1 second'`)

	_, _, err = s.PurgeExpiredArtifacts(ctx, 10, time.Hour, func(context.Context, store.PurgeTask) error { return errors.New("disk away") })
	require.Error(t, err)
	purged, err := s.ArtifactsPurged(ctx, task.ID)
	require.NoError(t, err)
	require.False(t, purged)

	n, _, err := s.PurgeExpiredArtifacts(ctx, 10, time.Hour, func(context.Context, store.PurgeTask) error { return nil })
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

func TestPurgeExpiredArtifactsNeverHandsOneTaskToTwoCleanups(t *testing.T) {
	s := setup(t)
	ctx := t.Context()
	task := newTask(t, s, store.StatusPending)
	_, err := s.FinishTask(ctx, task.ID, store.FinishFields{ResultKey: "results/x/result.png", ExpiresAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	age(t, s, task.ID, `expires_at = now() - interval '1 second'`)

	var second int
	first, _, err := s.PurgeExpiredArtifacts(ctx, 10, time.Hour, func(ctx context.Context, _ store.PurgeTask) error {
		// A second cleanup while the first holds the row skips it.
		var err error
		second, _, err = s.PurgeExpiredArtifacts(ctx, 10, time.Hour, func(context.Context, store.PurgeTask) error {
			t.Error("the second cleanup took a task the first holds")
			return nil
		})
		return err
	})
	require.NoError(t, err)
	require.Equal(t, 1, first)
	require.Zero(t, second)
}

func TestLiveTasksPagesByIDAndSkipsRecentlyChangedRecords(t *testing.T) {
	s := setup(t)
	ctx := t.Context()
	var old []string
	for range 3 {
		task := newTask(t, s, store.StatusPending)
		age(t, s, task.ID, `updated_at = now() - interval '10 minutes'`)
		old = append(old, task.ID)
	}
	recent := newTask(t, s, store.StatusProcessing)
	done := newTask(t, s, store.StatusPending)
	_, err := s.FailTask(ctx, done.ID, "x", "y")
	require.NoError(t, err)
	age(t, s, done.ID, `updated_at = now() - interval '10 minutes'`)
	slices.Sort(old)

	page, err := s.LiveTasks(ctx, "", 2, time.Minute)
	require.NoError(t, err)
	require.Len(t, page, 2)
	require.Equal(t, old[:2], []string{page[0].ID, page[1].ID})
	page, err = s.LiveTasks(ctx, page[1].ID, 2, time.Minute)
	require.NoError(t, err)
	require.Len(t, page, 1)
	require.Equal(t, old[2], page[0].ID)
	require.Equal(t, "generate-"+old[2], page[0].WorkflowID)

	all, err := s.LiveTasks(ctx, "", 100, 0)
	require.NoError(t, err)
	var ids []string
	for _, l := range all {
		ids = append(ids, l.ID)
	}
	require.Contains(t, ids, recent.ID)
	require.NotContains(t, ids, done.ID)
}

func TestLaneBacklogsAndPendingAhead(t *testing.T) {
	s := setup(t)
	ctx := t.Context()
	a := newTask(t, s, store.StatusPending)
	age(t, s, a.ID, `created_at = now() - interval '5 minutes'`)
	b := newTask(t, s, store.StatusPending)
	newTask(t, s, store.StatusProcessing)

	backlogs, err := s.LaneBacklogs(ctx)
	require.NoError(t, err)
	require.Len(t, backlogs, 1)
	require.Equal(t, "shared", backlogs[0].Lane)
	require.Equal(t, 2, backlogs[0].Pending)
	require.Equal(t, 1, backlogs[0].Processing)
	require.NotNil(t, backlogs[0].OldestPending)
	require.Greater(t, time.Since(*backlogs[0].OldestPending), 4*time.Minute)

	bt := get(t, s, b.ID)
	ahead, err := s.PendingAhead(ctx, "shared", bt.CreatedAt)
	require.NoError(t, err)
	require.Equal(t, 1, ahead)
}
