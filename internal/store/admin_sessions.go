package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// AdminSession is an admin session. Only the SHA-256 of its token is stored. Its timeout is
// idle and sliding: TouchAdminSession moves ExpiresAt. It has the columns of a Session, in
// the admin_sessions table.
type AdminSession = Session

// CreateAdminSession records an admin session whose token hashes to idHash, idle for at most
// idle.
func (s *Store) CreateAdminSession(ctx context.Context, idHash []byte, idle time.Duration, userAgent, clientIP string) (*AdminSession, error) {
	return adminSessions.create(ctx, s, idHash, idle, userAgent, clientIP)
}

// GetAdminSession returns the admin session whose token hashes to idHash (revoked and expired
// ones included), or ErrNotFound.
func (s *Store) GetAdminSession(ctx context.Context, idHash []byte) (*AdminSession, error) {
	return adminSessions.get(ctx, s, idHash)
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
	return adminSessions.revoke(ctx, s, idHash)
}

// PurgeAdminSessions deletes admin sessions that expired more than olderThan ago.
func (s *Store) PurgeAdminSessions(ctx context.Context, olderThan time.Duration) (int64, error) {
	return adminSessions.purge(ctx, s, olderThan)
}
