package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// GPU worker accounts: hosts or cloud GPU accounts that run the GPU worker. Each has a worker
// token whose secret is stored here only encrypted (SecretEnc, Fernet: see internal/secret).
//
// Status: pending (created, no worker registered yet) → ready (a worker registered) → failed
// (liveness lost or a transient error; may serve again after its cooldown; disabled at the
// MaxFailures-th failure since it was created or last enabled) → disabled (by an admin, or at
// once on an auth or quota error). Every change is a row in account_events with its reason and
// actor.

// Account statuses.
const (
	AccountPending  = "pending"
	AccountReady    = "ready"
	AccountFailed   = "failed"
	AccountDisabled = "disabled"
	// accountDeleted is the to_status of the event a deletion leaves.
	accountDeleted = "deleted"
)

// Account is a GPU worker account with its usage this month (UTC).
type Account struct {
	ID                     string         `json:"id"`
	Label                  string         `json:"label"`
	Lanes                  []string       `json:"lanes"`
	MonthlyLimitGPUSeconds float64        `json:"monthly_limit_gpu_seconds"`
	Status                 string         `json:"status"`
	StatusReason           string         `json:"status_reason"`
	StatusChangedAt        time.Time      `json:"status_changed_at"`
	Failures               int            `json:"failures"`
	CooldownUntil          *time.Time     `json:"cooldown_until,omitempty"`
	CreatedAt              time.Time      `json:"created_at"`
	UpdatedAt              time.Time      `json:"updated_at"`
	LastSeenAt             *time.Time     `json:"last_seen_at,omitempty"`
	WorkerInfo             map[string]any `json:"worker_info"`
	// UsageGPUSeconds is this calendar month's GPU-seconds (UTC).
	UsageGPUSeconds float64 `json:"usage_gpu_seconds"`
	// SecretEnc is the worker secret encrypted with Fernet. Never serialised.
	SecretEnc string `json:"-"`
}

// AccountEvent is one status change of an account.
type AccountEvent struct {
	ID         int64     `json:"id"`
	AccountID  string    `json:"account_id"`
	At         time.Time `json:"at"`
	FromStatus string    `json:"from_status"`
	ToStatus   string    `json:"to_status"`
	Reason     string    `json:"reason"`
	Actor      string    `json:"actor"`
}

// thisMonth is the SQL of the current UTC month's first day.
const thisMonth = `(date_trunc('month', now() at time zone 'utc'))::date`

const accountColumns = `a.id::text, a.label, a.lanes, a.monthly_limit_gpu_seconds, a.status, a.status_reason,
	a.status_changed_at, a.failures, a.cooldown_until, a.created_at, a.updated_at, a.last_seen_at, a.worker_info,
	coalesce((select u.gpu_seconds from account_usage u where u.account_id = a.id and u.month = ` + thisMonth + `), 0),
	a.secret_enc`

func scanAccount(row pgx.Row) (*Account, error) {
	var a Account
	var info []byte
	if err := row.Scan(&a.ID, &a.Label, &a.Lanes, &a.MonthlyLimitGPUSeconds, &a.Status, &a.StatusReason,
		&a.StatusChangedAt, &a.Failures, &a.CooldownUntil, &a.CreatedAt, &a.UpdatedAt, &a.LastSeenAt, &info,
		&a.UsageGPUSeconds, &a.SecretEnc); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(info, &a.WorkerInfo); err != nil {
		return nil, fmt.Errorf("worker_info: %w", err)
	}
	return &a, nil
}

// CreateAccount records a pending account (ID, Label, Lanes, MonthlyLimitGPUSeconds and
// SecretEnc set by the caller) and its "created" event.
func (s *Store) CreateAccount(ctx context.Context, a *Account, actor string) (*Account, error) {
	if a.SecretEnc == "" || len(a.Lanes) == 0 {
		return nil, fmt.Errorf("store: create account: %w: lanes and an encrypted secret are required", ErrInvalid)
	}
	var out *Account
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `insert into worker_accounts (id, label, lanes, monthly_limit_gpu_seconds, secret_enc, status_reason)
			values ($1, $2, $3, $4, $5, 'created')`, a.ID, a.Label, a.Lanes, a.MonthlyLimitGPUSeconds, a.SecretEnc); err != nil {
			return err
		}
		if err := addAccountEvent(ctx, tx, a.ID, "", AccountPending, "created", actor); err != nil {
			return err
		}
		var err error
		out, err = scanAccount(tx.QueryRow(ctx, `select `+accountColumns+` from worker_accounts a where a.id = $1`, a.ID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: create account: %w", translate(err))
	}
	return out, nil
}

// GetAccount returns the account, or ErrNotFound.
func (s *Store) GetAccount(ctx context.Context, id string) (*Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx, `select `+accountColumns+` from worker_accounts a where a.id::text = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: get account %s: %w", id, translate(err))
	}
	return a, nil
}

// ListAccounts returns every account, oldest first.
func (s *Store) ListAccounts(ctx context.Context) ([]*Account, error) {
	rows, err := s.pool.Query(ctx, `select `+accountColumns+` from worker_accounts a order by a.created_at, a.id`)
	if err != nil {
		return nil, fmt.Errorf("store: list accounts: %w", translate(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Account, error) { return scanAccount(r) })
	if err != nil {
		return nil, fmt.Errorf("store: list accounts: %w", translate(err))
	}
	return out, nil
}

// DeleteAccount deletes the account and its usage, leaving a "deleted" event, or returns
// ErrNotFound.
func (s *Store) DeleteAccount(ctx context.Context, id, reason, actor string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var from string
		if err := tx.QueryRow(ctx, `delete from worker_accounts where id::text = $1 returning status`, id).Scan(&from); err != nil {
			return err
		}
		return addAccountEvent(ctx, tx, id, from, accountDeleted, reason, actor)
	})
	if err != nil {
		return fmt.Errorf("store: delete account %s: %w", id, translate(err))
	}
	return nil
}

// DisableAccount disables the account at once (an admin's act, or an auth or quota error).
// Disabling a disabled account changes nothing and records nothing.
func (s *Store) DisableAccount(ctx context.Context, id, reason, actor string) (*Account, error) {
	return s.changeAccount(ctx, id, actor, func(a *Account) (string, string, error) {
		if a.Status == AccountDisabled {
			return a.Status, "", nil
		}
		return AccountDisabled, reason, nil
	})
}

// EnableAccount turns a disabled (or failed) account back to pending, clearing its failures
// and cooldown: it becomes ready when a worker next registers. Enabling a pending or ready
// account changes nothing.
func (s *Store) EnableAccount(ctx context.Context, id, reason, actor string) (*Account, error) {
	return s.changeAccount(ctx, id, actor, func(a *Account) (string, string, error) {
		if a.Status == AccountPending || a.Status == AccountReady {
			return a.Status, "", nil
		}
		return AccountPending, reason, nil
	})
}

// MarkAccountReady records a worker registration: pending, or failed past its cooldown, becomes
// ready, and the worker's description is kept. A disabled account, or a failed one still
// cooling down, is refused with ErrConflict (the caller reads the account for why).
func (s *Store) MarkAccountReady(ctx context.Context, id string, workerInfo map[string]any, actor string) (*Account, error) {
	raw, err := json.Marshal(workerInfo)
	if err != nil {
		return nil, fmt.Errorf("store: mark account ready: worker info: %w", err)
	}
	return s.changeAccount(ctx, id, actor, func(a *Account) (string, string, error) {
		switch {
		case a.Status == AccountDisabled:
			return "", "", ErrConflict
		case a.Status == AccountFailed && a.CooldownUntil != nil && time.Now().Before(*a.CooldownUntil):
			return "", "", ErrConflict
		}
		return AccountReady, "worker registered", nil
	}, `worker_info = $2::jsonb, last_seen_at = now()`, raw)
}

// AccountFailure is what went wrong with an account's worker.
type AccountFailure struct {
	// Permanent failures (auth, quota) disable the account at once; others count towards
	// MaxFailures (since creation or the last enable) and set a cooldown.
	Permanent bool
	Reason    string
	// Cooldown is how long a failed account waits before it may serve again.
	Cooldown time.Duration
	// MaxFailures is the count of failures that disables the account.
	MaxFailures int
}

// RecordAccountFailure records a failure of the account: disabled at once when permanent or the
// MaxFailures-th in a row, else failed until the cooldown passes.
func (s *Store) RecordAccountFailure(ctx context.Context, id string, f AccountFailure, actor string) (*Account, error) {
	return s.changeAccount(ctx, id, actor, func(a *Account) (string, string, error) {
		if a.Status == AccountDisabled {
			return a.Status, "", nil
		}
		if f.Permanent {
			return AccountDisabled, f.Reason, nil
		}
		if f.MaxFailures > 0 && a.Failures+1 >= f.MaxFailures {
			return AccountDisabled, fmt.Sprintf("%s (failure %d; disabled after %d)", f.Reason, a.Failures+1, f.MaxFailures), nil
		}
		return AccountFailed, f.Reason, nil
	}, `failures = failures + 1, cooldown_until = now() + $2 * interval '1 microsecond'`, f.Cooldown.Microseconds())
}

// changeAccount locks the account, asks decide for its new status and reason, applies it with
// the extra assignments (whose arguments start at $2) and records the event. decide returning
// the current status with no reason changes nothing.
func (s *Store) changeAccount(ctx context.Context, id, actor string, decide func(*Account) (string, string, error), extra ...any) (*Account, error) {
	var out *Account
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		a, err := scanAccount(tx.QueryRow(ctx, `select `+accountColumns+` from worker_accounts a where a.id::text = $1 for update`, id))
		if err != nil {
			return err
		}
		to, reason, err := decide(a)
		if err != nil {
			return err
		}
		if to == a.Status && reason == "" {
			out = a
			return nil
		}
		set := `updated_at = now()`
		args := []any{a.ID}
		if len(extra) > 0 {
			set += ", " + extra[0].(string)
			args = append(args, extra[1:]...)
		}
		args = append(args, to, reason)
		n := len(args)
		set += fmt.Sprintf(`, status = $%d, status_reason = $%d`, n-1, n)
		if to != a.Status {
			set += `, status_changed_at = now()`
		}
		switch to {
		case AccountPending: // enabled by an admin: a fresh start
			set += `, failures = 0, cooldown_until = null`
		case AccountReady:
			set += `, cooldown_until = null`
		}
		// Every change with a reason is an event: status changes, and repeated failures or
		// registrations that keep the status.
		if err := addAccountEvent(ctx, tx, a.ID, a.Status, to, reason, actor); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `update worker_accounts set `+set+` where id = $1`, args...); err != nil {
			return err
		}
		out, err = scanAccount(tx.QueryRow(ctx, `select `+accountColumns+` from worker_accounts a where a.id = $1`, a.ID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: change account %s: %w", id, translate(err))
	}
	return out, nil
}

// AccountEvents returns the account's status changes, oldest first.
func (s *Store) AccountEvents(ctx context.Context, id string) ([]AccountEvent, error) {
	rows, err := s.pool.Query(ctx, `select id, account_id::text, at, from_status, to_status, reason, actor
		from account_events where account_id::text = $1 order by id`, id)
	if err != nil {
		return nil, fmt.Errorf("store: account events %s: %w", id, translate(err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[AccountEvent])
	if err != nil {
		return nil, fmt.Errorf("store: account events %s: %w", id, translate(err))
	}
	return out, nil
}

// AddAccountUsage adds GPU-seconds to the account's usage this month and records that its
// worker was seen; it returns the month's total.
func (s *Store) AddAccountUsage(ctx context.Context, id string, gpuSeconds float64) (float64, error) {
	if gpuSeconds < 0 {
		return 0, fmt.Errorf("store: add account usage: %w: negative GPU-seconds", ErrInvalid)
	}
	var total float64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `update worker_accounts set last_seen_at = now() where id::text = $1`, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return tx.QueryRow(ctx, `insert into account_usage (account_id, month, gpu_seconds) values ($1::uuid, `+thisMonth+`, $2)
			on conflict (account_id, month) do update set gpu_seconds = account_usage.gpu_seconds + excluded.gpu_seconds
			returning gpu_seconds`, id, gpuSeconds).Scan(&total)
	})
	if err != nil {
		return 0, fmt.Errorf("store: add account usage %s: %w", id, translate(err))
	}
	return total, nil
}

// ResetAccountUsage sets the account's usage this month to zero, or returns ErrNotFound.
func (s *Store) ResetAccountUsage(ctx context.Context, id string) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var found bool
		if err := tx.QueryRow(ctx, `select true from worker_accounts where id::text = $1 for update`, id).Scan(&found); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `delete from account_usage where account_id::text = $1 and month = `+thisMonth, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: reset account usage %s: %w", id, translate(err))
	}
	return nil
}

// AccountSecret is an account's encrypted secret, for key rotation.
type AccountSecret struct {
	ID        string
	SecretEnc string
}

// ListAccountSecrets returns every account's encrypted secret (for re-encryption under a new
// key).
func (s *Store) ListAccountSecrets(ctx context.Context) ([]AccountSecret, error) {
	rows, err := s.pool.Query(ctx, `select id::text, secret_enc from worker_accounts order by id`)
	if err != nil {
		return nil, fmt.Errorf("store: list account secrets: %w", translate(err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[AccountSecret])
	if err != nil {
		return nil, fmt.Errorf("store: list account secrets: %w", translate(err))
	}
	return out, nil
}

// ReplaceAccountSecret swaps the account's encrypted secret from old to new (compare and swap,
// so two rotations at once never lose a write); ErrConflict when it no longer holds old.
func (s *Store) ReplaceAccountSecret(ctx context.Context, id, old, new string) error {
	tag, err := s.pool.Exec(ctx, `update worker_accounts set secret_enc = $3, updated_at = now()
		where id::text = $1 and secret_enc = $2`, id, old, new)
	if err != nil {
		return fmt.Errorf("store: replace account secret %s: %w", id, translate(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: replace account secret %s: %w", id, ErrConflict)
	}
	return nil
}

func addAccountEvent(ctx context.Context, tx pgx.Tx, id, from, to, reason, actor string) error {
	_, err := tx.Exec(ctx, `insert into account_events (account_id, from_status, to_status, reason, actor)
		values ($1::uuid, $2, $3, $4, $5)`, id, from, to, reason, actor)
	return err
}

// inTx runs fn in a transaction, committing when it returns nil.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // rollback after commit is a no-op
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
