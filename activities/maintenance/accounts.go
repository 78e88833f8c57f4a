package maintenance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/workflows"
)

// Defaults of the account maintenance.
const (
	// DefaultAccountSilentAfter is three missed worker heartbeats (the API asks for one every 5 s).
	DefaultAccountSilentAfter = 15 * time.Second
	DefaultAccountCooldown    = 300 * time.Second
	DefaultAccountMaxFailures = 6
)

// sweepActor is the actor of the account events the health sweep records.
const sweepActor = "health-sweep"

// RotateKeysBatch re-encrypts up to in.Limit account secrets after in.After under the newest
// key. Each new ciphertext is decrypted again and compared with the old plaintext before it is
// swapped in, and the swap is a compare and swap: a secret changed meanwhile (a concurrent run)
// is re-read, never overwritten. A secret no configured key decrypts is counted failed and left.
func (a *Activities) RotateKeysBatch(ctx context.Context, in workflows.RotateKeysBatchInput) (workflows.RotateKeysBatchOutput, error) {
	if in.Limit <= 0 {
		return workflows.RotateKeysBatchOutput{}, temporal.NewNonRetryableApplicationError("limit must be positive", "invalid_input", nil)
	}
	keys := a.cfg.Keys
	if keys == nil {
		return workflows.RotateKeysBatchOutput{}, temporal.NewNonRetryableApplicationError(
			"the control worker has no ACCOUNTS_ENCRYPT_KEY: set it (newest key first) and restart it", "accounts_misconfigured", nil)
	}
	page, err := a.store.AccountSecretsAfter(ctx, in.After, in.Limit)
	if err != nil {
		return workflows.RotateKeysBatchOutput{}, err
	}
	var out workflows.RotateKeysBatchOutput
	for _, s := range page {
		outcome, err := a.rotate(ctx, s)
		if err != nil {
			return workflows.RotateKeysBatchOutput{}, err
		}
		switch outcome {
		case rotated:
			out.Rotated++
		case alreadyNewest:
			out.AlreadyNewest++
		case rotateFailed:
			out.Failed++
			if len(out.FailedAccounts) < workflows.MaxFailedAccounts {
				out.FailedAccounts = append(out.FailedAccounts, s.ID)
			}
		}
		out.Next = s.ID
		activity.RecordHeartbeat(ctx, s.ID)
	}
	out.More = len(page) == in.Limit
	if out.Rotated > 0 || out.Failed > 0 {
		a.cfg.Logger.Info("account secrets rotated", "rotated", out.Rotated, "already_newest", out.AlreadyNewest, "failed", out.Failed)
	}
	return out, nil
}

type rotateOutcome int

const (
	gone rotateOutcome = iota // the account was deleted meanwhile
	rotated
	alreadyNewest
	rotateFailed
)

// rotate moves one secret under the newest key. Errors are the store's (retried); what the keys
// refuse is an outcome.
func (a *Activities) rotate(ctx context.Context, s store.AccountSecret) (rotateOutcome, error) {
	keys := a.cfg.Keys
	log := a.cfg.Logger.With("account_id", s.ID)
	for attempt := 0; attempt < 3; attempt++ {
		if keys.UnderNewest(s.SecretEnc) {
			return alreadyNewest, nil
		}
		plain, err := keys.Decrypt(s.SecretEnc)
		if err != nil {
			log.Error("rotate keys: the account secret decrypts under no configured key; left as it is (was its key dropped before rotating?)")
			return rotateFailed, nil
		}
		next, err := keys.Encrypt(plain)
		if err != nil {
			return 0, fmt.Errorf("rotate account %s: %w", s.ID, err)
		}
		check, err := keys.Decrypt(next)
		if err != nil || !bytes.Equal(check, plain) || !keys.UnderNewest(next) {
			log.Error("rotate keys: the re-encrypted secret did not verify; left as it is")
			return rotateFailed, nil
		}
		err = a.store.ReplaceAccountSecret(ctx, s.ID, s.SecretEnc, next)
		if err == nil {
			return rotated, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return 0, err
		}
		// Changed meanwhile (a concurrent rotation won, or the account was deleted): read it again.
		acc, err := a.store.GetAccount(ctx, s.ID)
		if errors.Is(err, store.ErrNotFound) {
			return gone, nil
		}
		if err != nil {
			return 0, err
		}
		s.SecretEnc = acc.SecretEnc
	}
	return 0, fmt.Errorf("rotate account %s: its secret kept changing during rotation", s.ID)
}

// HealthSweep fails each ready account whose worker sent no heartbeat for SilentAfter (reason
// "worker silent since …", a transient failure with the cooldown) and turns ready each failed
// account whose cooldown passed and whose worker heartbeats again. Times are the database's.
// Each change re-checks the account under its row lock, so a heartbeat racing the sweep, or a
// second sweep at once, never adds a failure.
func (a *Activities) HealthSweep(ctx context.Context, in workflows.HealthSweepInput) (workflows.HealthSweepResult, error) {
	silentAfter := in.SilentAfter
	if silentAfter <= 0 {
		silentAfter = a.cfg.AccountSilentAfter
	}
	now, err := a.store.Now(ctx)
	if err != nil {
		return workflows.HealthSweepResult{}, err
	}
	accs, err := a.store.ListAccounts(ctx)
	if err != nil {
		return workflows.HealthSweepResult{}, err
	}
	cutoff := now.Add(-silentAfter)
	res := workflows.HealthSweepResult{Silent: []string{}, Recovered: []string{}}
	for _, acc := range accs {
		res.Checked++
		activity.RecordHeartbeat(ctx, acc.ID)
		switch acc.Status {
		case store.AccountReady:
			if acc.LastSeenAt != nil && !acc.LastSeenAt.Before(cutoff) {
				continue
			}
			since := acc.StatusChangedAt
			if acc.LastSeenAt != nil {
				since = *acc.LastSeenAt
			}
			reason := fmt.Sprintf("worker silent since %s (no heartbeat for %s)", since.UTC().Format(time.RFC3339), silentAfter)
			_, changed, err := a.store.MarkAccountSilent(ctx, acc.ID, cutoff, store.AccountFailure{
				Reason: reason, Cooldown: a.cfg.AccountCooldown, MaxFailures: a.cfg.AccountMaxFailures,
			}, sweepActor)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return res, err
			}
			if changed {
				a.cfg.Logger.Warn("account worker silent: account failed", "account_id", acc.ID, "last_seen_at", since)
				res.Silent = append(res.Silent, acc.ID)
			}
		case store.AccountFailed:
			_, changed, err := a.store.RecoverAccount(ctx, acc.ID, now, cutoff, "worker heartbeating again after the cooldown", sweepActor)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return res, err
			}
			if changed {
				a.cfg.Logger.Info("account recovered: its worker heartbeats again", "account_id", acc.ID)
				res.Recovered = append(res.Recovered, acc.ID)
			}
		}
	}
	return res, nil
}
