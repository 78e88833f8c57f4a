package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"
)

// Session is a browser session. Only the SHA-256 of its token is stored.
type Session struct {
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

// sessionColumns is the select list that scanSession reads.
const sessionColumns = `id_hash, created_at, expires_at, revoked_at, last_seen_at, user_agent, client_ip,
	expires_at <= now()`

// sessionTable is one of the tables of sessions (browser or admin): they share their columns
// and their create/get/revoke/purge logic, and differ in how their expiry moves (a fixed ttl
// for browser sessions, a sliding idle timeout for admin ones; see the Touch methods).
type sessionTable struct {
	// name is the table's name.
	name string
	// kind names the session in error messages ("session", "admin session").
	kind string
	// lifetime names the create duration in error messages ("ttl", "idle timeout").
	lifetime string
}

var (
	browserSessions = sessionTable{name: "sessions", kind: "session", lifetime: "ttl"}
	adminSessions   = sessionTable{name: "admin_sessions", kind: "admin session", lifetime: "idle timeout"}
)

// create records a session whose token hashes to idHash, expiring life from now.
func (t sessionTable) create(ctx context.Context, s *Store, idHash []byte, life time.Duration, userAgent, clientIP string) (*Session, error) {
	if len(idHash) != sha256.Size || life <= 0 {
		return nil, fmt.Errorf("store: create %s: %w: a 32-byte hash and a positive %s are required", t.kind, ErrInvalid, t.lifetime)
	}
	sess, err := scanSession(s.pool.QueryRow(ctx, `insert into `+t.name+` (id_hash, expires_at, user_agent, client_ip)
			values ($1, now() + $2 * interval '1 microsecond', $3, $4)
		returning `+sessionColumns, idHash, life.Microseconds(), userAgent, clientIP))
	if err != nil {
		return nil, fmt.Errorf("store: create %s: %w", t.kind, translate(err))
	}
	return sess, nil
}

// get returns the session whose token hashes to idHash (revoked and expired ones included),
// or ErrNotFound.
func (t sessionTable) get(ctx context.Context, s *Store, idHash []byte) (*Session, error) {
	sess, err := scanSession(s.pool.QueryRow(ctx, `select `+sessionColumns+` from `+t.name+` where id_hash = $1`, idHash))
	if err != nil {
		return nil, fmt.Errorf("store: get %s: %w", t.kind, translate(err))
	}
	return sess, nil
}

// revoke marks the session revoked (keeping the first revocation time), or returns
// ErrNotFound.
func (t sessionTable) revoke(ctx context.Context, s *Store, idHash []byte) error {
	tag, err := s.pool.Exec(ctx, `update `+t.name+` set revoked_at = coalesce(revoked_at, now()) where id_hash = $1`, idHash)
	if err != nil {
		return fmt.Errorf("store: revoke %s: %w", t.kind, translate(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("store: revoke %s: %w", t.kind, ErrNotFound)
	}
	return nil
}

// purge deletes sessions that expired more than olderThan ago.
func (t sessionTable) purge(ctx context.Context, s *Store, olderThan time.Duration) (int64, error) {
	tag, err := s.pool.Exec(ctx, `delete from `+t.name+` where expires_at < now() - $1 * interval '1 microsecond'`,
		olderThan.Microseconds())
	if err != nil {
		return 0, fmt.Errorf("store: purge %ss: %w", t.kind, translate(err))
	}
	return tag.RowsAffected(), nil
}

// CreateSession records a session whose token hashes to idHash, valid for ttl from now.
func (s *Store) CreateSession(ctx context.Context, idHash []byte, ttl time.Duration, userAgent, clientIP string) (*Session, error) {
	return browserSessions.create(ctx, s, idHash, ttl, userAgent, clientIP)
}

// GetSession returns the session whose token hashes to idHash (revoked and expired ones
// included: the caller tells them apart), or ErrNotFound.
func (s *Store) GetSession(ctx context.Context, idHash []byte) (*Session, error) {
	return browserSessions.get(ctx, s, idHash)
}

// TouchSession sets last_seen_at to now when it is older than every: a session in use is
// written at most once per every, not on each request.
func (s *Store) TouchSession(ctx context.Context, idHash []byte, every time.Duration) error {
	_, err := s.pool.Exec(ctx, `update sessions set last_seen_at = now()
		where id_hash = $1 and last_seen_at < now() - $2 * interval '1 microsecond'`, idHash, every.Microseconds())
	if err != nil {
		return fmt.Errorf("store: touch session: %w", translate(err))
	}
	return nil
}

// RevokeSession marks the session revoked (keeping the first revocation time), or returns
// ErrNotFound.
func (s *Store) RevokeSession(ctx context.Context, idHash []byte) error {
	return browserSessions.revoke(ctx, s, idHash)
}

// PurgeSessions deletes sessions that expired more than olderThan ago. Until then an expired
// session's cookie is answered session_expired rather than session_invalid.
func (s *Store) PurgeSessions(ctx context.Context, olderThan time.Duration) (int64, error) {
	return browserSessions.purge(ctx, s, olderThan)
}

func scanSession(row interface{ Scan(...any) error }) (*Session, error) {
	var sess Session
	if err := row.Scan(&sess.IDHash, &sess.CreatedAt, &sess.ExpiresAt, &sess.RevokedAt, &sess.LastSeenAt,
		&sess.UserAgent, &sess.ClientIP, &sess.Expired); err != nil {
		return nil, err
	}
	return &sess, nil
}
