package store_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/store"
)

func newAccount(t *testing.T, s *store.Store) *store.Account {
	t.Helper()
	a, err := s.CreateAccount(t.Context(), &store.Account{
		ID: uuid.NewString(), Label: "rig", Lanes: []string{"gpu-pony"}, MonthlyLimitGPUSeconds: 100, SecretEnc: "ciphertext",
	}, "admin")
	require.NoError(t, err)
	require.Equal(t, store.AccountPending, a.Status)
	return a
}

func TestAccountBecomesReadyOnRegistrationAndFailsThenDisablesAfterMaxFailures(t *testing.T) {
	s := setup(t)
	ctx := t.Context()
	a := newAccount(t, s)

	got, err := s.MarkAccountReady(ctx, a.ID, map[string]any{"host": "gpu-1"}, "worker")
	require.NoError(t, err)
	require.Equal(t, store.AccountReady, got.Status)
	require.Equal(t, "gpu-1", got.WorkerInfo["host"])
	require.NotNil(t, got.LastSeenAt)

	transient := store.AccountFailure{Reason: "liveness lost", Cooldown: time.Hour, MaxFailures: 3}
	got, err = s.RecordAccountFailure(ctx, a.ID, transient, "system")
	require.NoError(t, err)
	require.Equal(t, store.AccountFailed, got.Status)
	require.Equal(t, 1, got.Failures)
	require.NotNil(t, got.CooldownUntil)
	require.WithinDuration(t, time.Now().Add(time.Hour), *got.CooldownUntil, time.Minute)

	_, err = s.MarkAccountReady(ctx, a.ID, nil, "worker")
	require.ErrorIs(t, err, store.ErrConflict, "no recovery while cooling down")

	got, err = s.RecordAccountFailure(ctx, a.ID, transient, "system")
	require.NoError(t, err)
	require.Equal(t, store.AccountFailed, got.Status)
	got, err = s.RecordAccountFailure(ctx, a.ID, transient, "system")
	require.NoError(t, err)
	require.Equal(t, store.AccountDisabled, got.Status, "the third failure disables")
	require.Contains(t, got.StatusReason, "liveness lost")

	_, err = s.MarkAccountReady(ctx, a.ID, nil, "worker")
	require.ErrorIs(t, err, store.ErrConflict, "a disabled account's worker cannot register")

	events, err := s.AccountEvents(ctx, a.ID)
	require.NoError(t, err)
	var path []string
	for _, e := range events {
		path = append(path, e.ToStatus)
		require.NotEmpty(t, e.Reason)
	}
	require.Equal(t, []string{"pending", "ready", "failed", "failed", "disabled"}, path)

	got, err = s.EnableAccount(ctx, a.ID, "enabled by an admin", "admin")
	require.NoError(t, err)
	require.Equal(t, store.AccountPending, got.Status)
	require.Zero(t, got.Failures)
	require.Nil(t, got.CooldownUntil)
}

func TestAccountRecoversAfterItsCooldownAndIsDisabledAtOnceOnAPermanentFailure(t *testing.T) {
	s := setup(t)
	ctx := t.Context()
	a := newAccount(t, s)
	_, err := s.RecordAccountFailure(ctx, a.ID, store.AccountFailure{Reason: "runner crashed", Cooldown: time.Millisecond, MaxFailures: 6}, "worker")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		got, err := s.MarkAccountReady(ctx, a.ID, nil, "worker")
		return err == nil && got.Status == store.AccountReady
	}, 5*time.Second, 10*time.Millisecond, "a cooled-down account serves again")

	got, err := s.RecordAccountFailure(ctx, a.ID, store.AccountFailure{Permanent: true, Reason: "quota exhausted", Cooldown: time.Hour, MaxFailures: 6}, "worker")
	require.NoError(t, err)
	require.Equal(t, store.AccountDisabled, got.Status)
	require.Equal(t, "quota exhausted", got.StatusReason)

	got, err = s.DisableAccount(ctx, a.ID, "again", "admin")
	require.NoError(t, err)
	require.Equal(t, "quota exhausted", got.StatusReason, "disabling a disabled account changes nothing")
}

func TestAccountUsageAddsUpPerMonthAndResets(t *testing.T) {
	s := setup(t)
	ctx := t.Context()
	a := newAccount(t, s)
	total, err := s.AddAccountUsage(ctx, a.ID, 30)
	require.NoError(t, err)
	require.InDelta(t, 30, total, 1e-9)
	total, err = s.AddAccountUsage(ctx, a.ID, 12.5)
	require.NoError(t, err)
	require.InDelta(t, 42.5, total, 1e-9)
	got, err := s.GetAccount(ctx, a.ID)
	require.NoError(t, err)
	require.InDelta(t, 42.5, got.UsageGPUSeconds, 1e-9)
	require.NoError(t, s.ResetAccountUsage(ctx, a.ID))
	got, err = s.GetAccount(ctx, a.ID)
	require.NoError(t, err)
	require.Zero(t, got.UsageGPUSeconds)
	_, err = s.AddAccountUsage(ctx, uuid.NewString(), 1)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.AddAccountUsage(ctx, a.ID, -1)
	require.ErrorIs(t, err, store.ErrInvalid)
}
