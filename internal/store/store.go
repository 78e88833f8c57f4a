// Package store is the application database: tasks and their lifecycle in
// PostgreSQL, through a pgx connection pool. Every pgx error is translated
// once, here, into the domain errors of errors.go.
package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is the application database. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

// Open connects to databaseURL (a postgres:// URL or key=value DSN) and
// checks that the database answers. Tables live in the first schema of the
// connection's search_path; see [Store.Migrate].
func Open(ctx context.Context, databaseURL string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// The parse error may quote the URL, password included.
		return nil, errors.New("store: database URL is not a valid PostgreSQL URL or DSN")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: create pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: connect to %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	return &Store{pool: pool}, nil
}

// Close closes every connection, waiting for those in use to be released.
func (s *Store) Close() { s.pool.Close() }

// Pool returns the underlying pool, for queries this package does not offer
// yet and for health checks.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }
