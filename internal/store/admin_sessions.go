package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"
)

// AdminSession is an admin session. Only the SHA-256 of its token is stored. Its timeout is
// idle and sliding: TouchAdminSession moves ExpiresAt.
type AdminSession struct {
	IDHash     []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time
	RevokedAt  *time.Time
	LastSeenAt time.Time
	UserAgent  string
	ClientIP   string
	// Expired is whether ExpiresAt has passed by the database's clock when the row was read.
	Expired bool
}

const adminSessionColumns = `id_hash, created_at, expires_at, revoked_at, last_seen_at, user_agent, client_ip,
	expires_at <= now()`

// CreateAdminSession records an admin session whose token hashes to idHash, idle for at most
// idle.
func (s *Store) CreateAdminSession(ctx context.Context, idHash []byte, idle time.Duration, userAgent, clientIP string) (*AdminSession, error) {
	if len(idHash) != sha256.Size || idle <= 0 {
		return nil, fmt.Errorf("store: create admin session: %w: a 32-byte hash and a positive idle timeout are required", ErrInvalid)
	}
	sess, err := scanAdminSession(s.pool.QueryRow(ctx, `insert into admin_sessions (id_hash, expires_at, user_agent, client_ip)
			values ($1, now() + $2 * interval '1 microsecond', $3, $4)
		returning `+adminSessionColumns, idHash, idle.Microseconds(), userAgent, clientIP))
	if err != nil {
		return nil, fmt.Errorf("store: create admin session: %w", translate(err))
	}
	return sess, nil
}

// GetAdminSession returns the admin session whose token hashes to idHash (revoked and expired
// ones included), or ErrNotFound.
func (s *Store) GetAdminSession(ctx context.Context, idHash []byte) (*AdminSession, error) {
	sess, err := scanAdminSession(s.pool.QueryRow(ctx, `select `+adminSessionColumns+` from admin_sessions where id_hash = $1`, idHash))
	if err != nil {
		return nil, fmt.Errorf("store: get admin session: %w", translate(err))
	}
	return sess, nil
}

// TouchAdminSession slides a live session's expiry to now() + idle and records the use, when
// the last one is older than every (a session in use is written at most once per every). It
// returns the new expiry, or ok false when nothing was written.
func (s *Store) TouchAdminSession(ctx context.Context, idHash []byte, idle, every time.Duration) (expiresAt time.Time, ok bool, err error) {
	err = s.pool.QueryRow(ctx, `update admin_sessions
		set last_seen_at = now(), expires_at = now() + $2 * interval '1 microsecond'
		where id_hash = $1 and revoked_at is null and expires_at > now()
		  and last_seen_at < now() - $3 * interval '1 microsecond'
		returning expires_at`, idHash, idle.Microseconds(), every.Microseconds()).Scan(&expiresAt)
	switch err = translate(err); {
	case err == nil:
		return expiresAt, true, nil
	case errors.Is(err, ErrNotFound):
		return time.Time{}, false, nil
	}
	return time.Time{}, false, fmt.Errorf("store: touch admin session: %w", err)
}

// RevokeAdminSession marks the session revoked (keeping the first revocation time), or returns
// ErrNotFound.
func (s *Store) RevokeAdminSession(ctx context.Context, idHash []byte) error {
	tag, err := s.pool.Exec(ctx, `update admin_sessions set revoked_at = coalesce(revoked_at, now()) where id_hash = $1`, idHash)
	if err != nil {
		return fmt.Errorf("store: revoke admin session: %w", translate(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: revoke admin session: %w", ErrNotFound)
	}
	return nil
}

// PurgeAdminSessions deletes admin sessions that expired more than olderThan ago.
func (s *Store) PurgeAdminSessions(ctx context.Context, olderThan time.Duration) (int64, error) {
	tag, err := s.pool.Exec(ctx, `delete from admin_sessions where expires_at < now() - $1 * interval '1 microsecond'`,
		olderThan.Microseconds())
	if err != nil {
		return 0, fmt.Errorf("store: purge admin sessions: %w", translate(err))
	}
	return tag.RowsAffected(), nil
}

func scanAdminSession(row interface{ Scan(...any) error }) (*AdminSession, error) {
	var sess AdminSession
	if err := row.Scan(&sess.IDHash, &sess.CreatedAt, &sess.ExpiresAt, &sess.RevokedAt, &sess.LastSeenAt,
		&sess.UserAgent, &sess.ClientIP, &sess.Expired); err != nil {
		return nil, err
	}
	return &sess, nil
}
