package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// versionTable records the applied migration version. It is unqualified, so
// it lives in the first schema of the search_path, next to the tables.
const versionTable = "schema_version"

// Migrate applies the embedded migrations (migrations/NNN_name.sql) that the
// database has not seen yet, each in its own transaction; with none pending
// it changes nothing.
//
// Tables are created in the first schema of the connection's search_path, so
// tests isolate themselves with a per-test schema. Concurrent migrators (API
// replicas starting together) are serialised by tern's session advisory lock:
// the second waits, then finds nothing to do.
func (s *Store) Migrate(ctx context.Context) error {
	// A dedicated connection: migrating must not leave cached statements that
	// refer to old table shapes in pooled connections.
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig)
	if err != nil {
		return fmt.Errorf("store: migrate: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	m, err := migrate.NewMigrator(ctx, conn, versionTable)
	if err != nil {
		return fmt.Errorf("store: migrate: version table: %w", err)
	}
	dir, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if err := m.LoadMigrations(dir); err != nil {
		return fmt.Errorf("store: migrate: load: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}
