package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/blang/semver/v4"
	"github.com/jackc/pgx/v5"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	postgresql "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	pgschema "go.temporal.io/server/schema/postgresql/v12"
	toolschema "go.temporal.io/server/tools/common/schema"
	toolsql "go.temporal.io/server/tools/sql"
)

// Embedded schema directories (go.temporal.io/server/schema) of the two databases.
const (
	schemaTemporal   = "postgresql/v12/temporal"
	schemaVisibility = "postgresql/v12/visibility"
)

// sqlConfig is the server's persistence configuration for database on the cluster at dbURL.
func sqlConfig(dbURL, database string) (*config.SQL, error) {
	u, err := url.Parse(dbURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return nil, fmt.Errorf("TEMPORAL_DB_URL is not a postgres:// URL with a host (postgres://user:pass@host:5432/?sslmode=disable)")
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "5432"
	}
	password, _ := u.User.Password()
	attrs := map[string]string{}
	for k, v := range u.Query() {
		if len(v) > 0 {
			attrs[k] = v[0]
		}
	}
	return &config.SQL{
		PluginName:        postgresql.PluginName,
		DatabaseName:      database,
		ConnectAddr:       net.JoinHostPort(host, port),
		ConnectProtocol:   "tcp",
		User:              u.User.Username(),
		Password:          password,
		ConnectAttributes: attrs,
		// Per service and store: four services share this process, so a cluster with the
		// default max_connections (100) also has room for the Gooni processes.
		MaxConns:     10,
		MaxIdleConns: 10,
	}, nil
}

// ensureDatabases creates the databases that are missing, through the cluster's postgres
// database.
func ensureDatabases(ctx context.Context, dbURL string, names ...string) error {
	u, err := url.Parse(dbURL)
	if err != nil {
		return fmt.Errorf("TEMPORAL_DB_URL: %w", err)
	}
	u.Path = "/postgres"
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL at %s to create databases: %w", u.Host, err)
	}
	defer func() { _ = conn.Close(ctx) }()
	for _, name := range names {
		var exists bool
		if err := conn.QueryRow(ctx, `select exists(select 1 from pg_database where datname = $1)`, name).Scan(&exists); err != nil {
			return fmt.Errorf("look up database %s: %w", name, err)
		}
		if exists {
			continue
		}
		if _, err := conn.Exec(ctx, "create database "+pgx.Identifier{name}.Sanitize()); err != nil {
			return fmt.Errorf("create database %s (the user needs CREATEDB, or create it and set TEMPORAL_CREATE_DATABASES=false): %w", name, err)
		}
	}
	return nil
}

// ensureSchema sets up the schema of a new database (schemaDir's schema.sql at version) or
// upgrades an older one through the versioned upgrades. It drives the server's schema tasks
// directly: the SQL tool's command-line entry point calls os.Exit on errors.
func ensureSchema(cfg *config.SQL, schemaDir, version string, logger log.Logger) error {
	conn, err := toolsql.NewConnection(cfg, logger)
	if err != nil {
		return fmt.Errorf("connect to database %s: %w", cfg.DatabaseName, err)
	}
	defer conn.Close()
	tables, err := conn.ListTables()
	if err != nil {
		return fmt.Errorf("list tables of %s: %w", cfg.DatabaseName, err)
	}
	if len(tables) == 0 {
		task := toolschema.NewSetupSchemaTask(conn, &toolschema.SetupConfig{SchemaName: schemaDir, InitialVersion: version}, logger)
		if err := task.Run(); err != nil {
			return fmt.Errorf("set up schema of %s: %w", cfg.DatabaseName, err)
		}
		return nil
	}
	current, err := conn.ReadSchemaVersion()
	if errors.Is(err, sql.ErrNoRows) || (err == nil && current == "") {
		return fmt.Errorf("database %s has tables but no Temporal schema version: give Temporal its own empty database", cfg.DatabaseName)
	}
	if err != nil {
		return fmt.Errorf("read schema version of %s (is it a Temporal database?): %w", cfg.DatabaseName, err)
	}
	cur, err1 := semver.ParseTolerant(current)
	want, err2 := semver.ParseTolerant(version)
	if err := errors.Join(err1, err2); err != nil {
		return fmt.Errorf("schema version of %s: %w", cfg.DatabaseName, err)
	}
	switch {
	case cur.EQ(want):
		return nil
	case cur.GT(want):
		return fmt.Errorf("database %s has schema %s, newer than this server's %s: run a newer gooni-temporal", cfg.DatabaseName, current, version)
	}
	task := toolschema.NewUpdateSchemaTask(conn, &toolschema.UpdateConfig{
		DBName: cfg.DatabaseName, TargetVersion: version, SchemaName: schemaDir,
	}, logger)
	if err := task.Run(); err != nil {
		return fmt.Errorf("upgrade schema of %s from %s to %s: %w", cfg.DatabaseName, current, version, err)
	}
	return nil
}

// setupDatabases creates the databases when asked and brings both schemas to this server's
// versions.
func setupDatabases(ctx context.Context, c Config, logger log.Logger) (persistence, visibility *config.SQL, err error) {
	if c.CreateDatabases {
		if err := ensureDatabases(ctx, c.DatabaseURL, c.Database, c.VisibilityDatabase); err != nil {
			return nil, nil, err
		}
	}
	if persistence, err = sqlConfig(c.DatabaseURL, c.Database); err != nil {
		return nil, nil, err
	}
	if visibility, err = sqlConfig(c.DatabaseURL, c.VisibilityDatabase); err != nil {
		return nil, nil, err
	}
	if err := ensureSchema(persistence, schemaTemporal, pgschema.Version, logger); err != nil {
		return nil, nil, err
	}
	if err := ensureSchema(visibility, schemaVisibility, pgschema.VisibilityVersion, logger); err != nil {
		return nil, nil, err
	}
	return persistence, visibility, nil
}
