package store

import (
	"context"
	"fmt"
	"time"
)

// TaskVersion returns what tells a watcher that a task changed: its status and updated_at (every
// write to a task sets updated_at). It reads two columns of one row, so a live progress stream
// can ask several times a second and load the whole task (GetTask) only when one of them moved.
// An unknown id is ErrNotFound.
func (s *Store) TaskVersion(ctx context.Context, id string) (status string, updatedAt time.Time, err error) {
	err = s.pool.QueryRow(ctx, `select status, updated_at from tasks where id = $1`, id).Scan(&status, &updatedAt)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("store: task version %s: %w", id, translate(err))
	}
	return status, updatedAt, nil
}
