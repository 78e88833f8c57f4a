package devtemporal

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	persistencesql "go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/resolver"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	toolschema "go.temporal.io/server/tools/common/schema"
	"google.golang.org/protobuf/types/known/durationpb"
)

const (
	// dbFileName is the SQLite database inside Config.DataDir.
	dbFileName = "temporal.db"
	// schemaVersionKey is the db_name under which the schema version is recorded. It is fixed
	// rather than the file path, so moving the data dir keeps the record valid.
	schemaVersionKey = "temporal"
	// embeddedSchemaName is the directory of SQLite schema upgrades in go.temporal.io/server/schema.
	embeddedSchemaName = "sqlite/v3/temporal"
)

// sqlConfig is the persistence configuration of the SQLite file at path.
//
// The server's SQLite plugin keeps one connection pool per DSN for the life of the process (it
// never closes it), and everything here (schema set-up, namespace creation, the server) shares it.
// With the plugin's default of one connection, statements never contend for SQLite's lock.
func sqlConfig(path string) *config.SQL {
	return &config.SQL{
		PluginName:   sqliteplugin.PluginName,
		DatabaseName: path,
		ConnectAttributes: map[string]string{
			"mode": "rwc",
			// WAL: measured 57 workflows/s against 35 with the default rollback journal.
			"journal_mode": "wal",
			// NORMAL is safe with WAL (no corruption on a crash; a power cut may lose the last
			// transactions), and spares an fsync per commit. Dev data only.
			"synchronous": "NORMAL",
			// Wait for a lock instead of failing when another process (an sqlite3 shell) reads.
			"busy_timeout": "5000",
		},
	}
}

// ensureSchema creates the Temporal schema in a new database, upgrades one created by an older
// server, and refuses one it cannot use. It never goes through the server's SQL tool, which calls
// os.Exit on errors.
func ensureSchema(cfg *config.SQL, logger log.Logger) error {
	db, err := persistencesql.NewSQLAdminDB(sqlplugin.DbKindUnknown, cfg, resolver.NewNoopResolver(), logger, metrics.NoopMetricsHandler)
	if err != nil {
		return fmt.Errorf("open %s: %w", cfg.DatabaseName, err)
	}
	defer func() { _ = db.Close() }()

	tables, err := db.ListTables(cfg.DatabaseName)
	if err != nil {
		return fmt.Errorf("list tables of %s: %w", cfg.DatabaseName, err)
	}
	if len(tables) == 0 {
		// The version is written last: a set-up cut short is recognised below.
		if err := db.CreateSchemaVersionTables(); err != nil {
			return fmt.Errorf("create schema version tables in %s: %w", cfg.DatabaseName, err)
		}
		if err := sqliteschema.SetupSchemaOnDB(db); err != nil {
			return fmt.Errorf("create Temporal schema in %s: %w", cfg.DatabaseName, err)
		}
		if err := db.UpdateSchemaVersion(schemaVersionKey, sqliteschema.Version, sqliteschema.Version); err != nil {
			return fmt.Errorf("record schema version in %s: %w", cfg.DatabaseName, err)
		}
		return nil
	}

	unusable := func(why string) error {
		return fmt.Errorf("%s %s; it holds only dev data: delete it to start afresh", cfg.DatabaseName, why)
	}
	if !slices.Contains(tables, "schema_version") {
		return unusable("has tables but no schema version (not created by gooni dev?)")
	}
	version, err := db.ReadSchemaVersion(schemaVersionKey)
	if errors.Is(err, sql.ErrNoRows) {
		return unusable("has no schema version recorded (its first start was interrupted?)")
	}
	if err != nil {
		return fmt.Errorf("read schema version of %s: %w", cfg.DatabaseName, err)
	}
	cmp, err := compareVersions(version, sqliteschema.Version)
	if err != nil {
		return unusable(err.Error())
	}
	switch {
	case cmp == 0:
		return nil
	case cmp > 0:
		return unusable(fmt.Sprintf("has schema version %s, newer than this build's %s (made by a newer Temporal server)", version, sqliteschema.Version))
	}
	task := toolschema.NewUpdateSchemaTask(schemaDB{db: db}, &toolschema.UpdateConfig{
		DBName:        schemaVersionKey,
		TargetVersion: sqliteschema.Version,
		SchemaName:    embeddedSchemaName,
	}, logger)
	if err := task.Run(); err != nil {
		return fmt.Errorf("upgrade schema of %s from %s to %s: %w", cfg.DatabaseName, version, sqliteschema.Version, err)
	}
	return nil
}

// createNamespace registers namespace directly in the database before the server starts, so the
// server finds it at once (registering through the API would wait for namespace cache refreshes).
// The search attributes are allocated with it. An existing namespace is left as it is.
func createNamespace(cfg *config.SQL, cluster string, c Config) error {
	ns, err := sqliteschema.NewNamespaceConfig(cluster, c.Namespace, false, c.SearchAttributes)
	if err != nil {
		return fmt.Errorf("namespace %s: %w", c.Namespace, err)
	}
	ns.Detail.Config.Retention = durationpb.New(c.Retention)
	if err := sqliteschema.CreateNamespaces(cfg, ns); err != nil {
		return fmt.Errorf("create namespace %s: %w", c.Namespace, err)
	}
	return nil
}

// compareVersions compares dotted numeric versions ("0.11" > "0.9").
func compareVersions(a, b string) (int, error) {
	pa, err := parseVersion(a)
	if err != nil {
		return 0, err
	}
	pb, err := parseVersion(b)
	if err != nil {
		return 0, err
	}
	return slices.Compare(pa, pb), nil
}

func parseVersion(v string) ([]int, error) {
	parts := strings.Split(v, ".")
	out := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, fmt.Errorf("schema version %q is not a dotted number", v)
		}
		out[i] = n
	}
	// "0.11" and "0.11.0" are the same version.
	for len(out) > 1 && out[len(out)-1] == 0 {
		out = out[:len(out)-1]
	}
	return out, nil
}

// schemaDB adapts the SQLite admin database to the interface of the server's schema update task,
// recording versions under schemaVersionKey.
type schemaDB struct {
	db sqlplugin.AdminDB
}

var _ toolschema.DB = schemaDB{}

func (s schemaDB) Exec(stmt string, args ...any) error { return s.db.Exec(stmt, args...) }
func (s schemaDB) CreateSchemaVersionTables() error    { return s.db.CreateSchemaVersionTables() }
func (s schemaDB) ReadSchemaVersion() (string, error) {
	return s.db.ReadSchemaVersion(schemaVersionKey)
}
func (s schemaDB) UpdateSchemaVersion(newVersion, minCompatibleVersion string) error {
	return s.db.UpdateSchemaVersion(schemaVersionKey, newVersion, minCompatibleVersion)
}
func (s schemaDB) WriteSchemaUpdateLog(oldVersion, newVersion, manifestMD5, desc string) error {
	return s.db.WriteSchemaUpdateLog(oldVersion, newVersion, manifestMD5, desc)
}

// DropAllTables is only called by the task's dry-run mode, which is never used here; it refuses
// rather than wipe the dev database.
func (s schemaDB) DropAllTables() error {
	return errors.New("dropping tables is not allowed on the dev database")
}

// Close does nothing: ensureSchema closes the database it opened.
func (s schemaDB) Close() {}

func (s schemaDB) Type() string { return "sql" }
