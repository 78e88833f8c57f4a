package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Account upkeep for the maintenance workflows: key rotation pages through the encrypted
// secrets, the health sweep marks accounts whose workers went silent and recovers cooled-down
// ones whose workers heartbeat again. last_seen_at is set by every worker registration
// (MarkAccountReady) and heartbeat (AddAccountUsage), so it is the account's last heartbeat.

// AccountSecretsAfter returns up to limit accounts' encrypted secrets with ids after after
// (""), in id order: one page of a key rotation.
func (s *Store) AccountSecretsAfter(ctx context.Context, after string, limit int) ([]AccountSecret, error) {
	rows, err := s.pool.Query(ctx, `select id::text, secret_enc from worker_accounts where id::text > $1 order by id::text limit $2`,
		after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: account secrets after %q: %w", after, translate(err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[AccountSecret])
	if err != nil {
		return nil, fmt.Errorf("store: account secrets after %q: %w", after, translate(err))
	}
	return out, nil
}

// Now returns the database's clock, so that times compared with the store's timestamps
// (last_seen_at, cooldown_until) come from one clock whatever host asks.
func (s *Store) Now(ctx context.Context) (time.Time, error) {
	var now time.Time
	if err := s.pool.QueryRow(ctx, `select now()`).Scan(&now); err != nil {
		return time.Time{}, fmt.Errorf("store: now: %w", translate(err))
	}
	return now, nil
}

// MarkAccountSilent records f for a ready account whose worker was last seen before cutoff (by
// the database clock). It changes nothing and returns false when the account is no longer ready
// or its worker was seen since: a heartbeat that raced the sweep wins, and two sweeps at once
// count one failure.
func (s *Store) MarkAccountSilent(ctx context.Context, id string, cutoff time.Time, f AccountFailure, actor string) (*Account, bool, error) {
	changed := false
	a, err := s.changeAccount(ctx, id, actor, func(a *Account) (string, string, error) {
		if a.Status != AccountReady || (a.LastSeenAt != nil && !a.LastSeenAt.Before(cutoff)) {
			return a.Status, "", nil
		}
		changed = true
		if f.MaxFailures > 0 && a.Failures+1 >= f.MaxFailures {
			return AccountDisabled, fmt.Sprintf("%s (failure %d; disabled after %d)", f.Reason, a.Failures+1, f.MaxFailures), nil
		}
		return AccountFailed, f.Reason, nil
	}, `failures = failures + 1, cooldown_until = now() + $2 * interval '1 microsecond'`, f.Cooldown.Microseconds())
	return a, changed && err == nil, err
}

// RecoverAccount turns a failed account ready again when its cooldown has passed by now and its
// worker was seen at or after seenSince and after the failure (it heartbeats again). It changes
// nothing and returns false otherwise.
func (s *Store) RecoverAccount(ctx context.Context, id string, now, seenSince time.Time, reason, actor string) (*Account, bool, error) {
	changed := false
	a, err := s.changeAccount(ctx, id, actor, func(a *Account) (string, string, error) {
		switch {
		case a.Status != AccountFailed,
			a.CooldownUntil != nil && now.Before(*a.CooldownUntil),
			a.LastSeenAt == nil, a.LastSeenAt.Before(seenSince), !a.LastSeenAt.After(a.StatusChangedAt):
			return a.Status, "", nil
		}
		changed = true
		return AccountReady, reason, nil
	})
	return a, changed && err == nil, err
}

// AccountStatusCounts returns how many accounts have each status (absent statuses: none).
func (s *Store) AccountStatusCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `select status, count(*)::int from worker_accounts group by status`)
	if err != nil {
		return nil, fmt.Errorf("store: account status counts: %w", translate(err))
	}
	out := map[string]int{}
	var status string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&status, &n}, func() error { out[status] = n; return nil }); err != nil {
		return nil, fmt.Errorf("store: account status counts: %w", translate(err))
	}
	return out, nil
}
