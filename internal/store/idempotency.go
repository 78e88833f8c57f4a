package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// IdempotencyKey records that a submission carrying Key, whose canonical body hashed to
// RequestHash, created TaskID.
type IdempotencyKey struct {
	Key         string
	RequestHash string
	TaskID      string
	CreatedAt   time.Time
}

// claimAttempts bounds CreateTaskWithKey's loop: a key can change hands between the failed
// insert and the read that follows it (its task deleted, or the key expired), and each such
// change needs one more round.
const claimAttempts = 3

// GetIdempotencyKey returns the record of key when it is younger than ttl. An unknown or expired
// key is ErrNotFound.
func (s *Store) GetIdempotencyKey(ctx context.Context, key string, ttl time.Duration) (*IdempotencyKey, error) {
	var k IdempotencyKey
	err := s.pool.QueryRow(ctx, `select key, request_hash, task_id, created_at from idempotency_keys
		where key = $1 and created_at > now() - $2 * interval '1 microsecond'`, key, ttl.Microseconds()).
		Scan(&k.Key, &k.RequestHash, &k.TaskID, &k.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("store: get idempotency key: %w", translate(err))
	}
	return &k, nil
}

// CreateTaskWithKey inserts t (as CreateTask does) and records key → t.ID with requestHash, in
// one transaction, so a crash never leaves a task without its key or a key without its task.
//
// When a record of key younger than ttl exists, nothing is written and that record is returned:
// the caller compares its RequestHash. An expired record is replaced by the new one. Concurrent
// calls with one key create exactly one task: PostgreSQL makes the second insert of the key wait
// for the first transaction, then the second call finds the first one's record.
func (s *Store) CreateTaskWithKey(ctx context.Context, t *Task, key, requestHash string, ttl time.Duration) (held *IdempotencyKey, err error) {
	if key == "" || requestHash == "" {
		return nil, fmt.Errorf("store: create task with key: %w: key and request hash are required", ErrInvalid)
	}
	for range claimAttempts {
		created, err := s.claim(ctx, t, key, requestHash, ttl)
		if err != nil || created {
			return nil, err
		}
		held, err = s.GetIdempotencyKey(ctx, key, ttl)
		if errors.Is(err, ErrNotFound) {
			continue // the holder's task was deleted or the key just expired: claim again
		}
		if err != nil {
			return nil, err
		}
		return held, nil
	}
	return nil, fmt.Errorf("store: create task with key: the key kept changing hands: %w", ErrConflict)
}

// claim inserts t and its key in one transaction; created is false, and nothing is written, when
// an unexpired record of key exists.
func (s *Store) claim(ctx context.Context, t *Task, key, requestHash string, ttl time.Duration) (created bool, err error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("store: create task with key: %w", translate(err))
	}
	defer tx.Rollback(ctx) //nolint:errcheck // rollback after commit is a no-op
	if err := createTask(ctx, tx, t); err != nil {
		return false, err
	}
	var got string
	err = tx.QueryRow(ctx, `insert into idempotency_keys (key, request_hash, task_id) values ($1, $2, $3)
		on conflict (key) do update
			set request_hash = excluded.request_hash, task_id = excluded.task_id, created_at = now()
			where idempotency_keys.created_at <= now() - $4 * interval '1 microsecond'
		returning task_id`, key, requestHash, t.ID, ttl.Microseconds()).Scan(&got)
	if err != nil {
		err = translate(err)
		if errors.Is(err, ErrNotFound) {
			return false, nil // held by an unexpired record; the rollback undoes the task
		}
		return false, fmt.Errorf("store: create task %s with key: %w", t.ID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("store: create task %s with key: commit: %w", t.ID, translate(err))
	}
	return true, nil
}
