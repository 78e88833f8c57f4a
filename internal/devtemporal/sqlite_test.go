package devtemporal

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/metrics"
	persistencesql "go.temporal.io/server/common/persistence/sql"
	"go.temporal.io/server/common/persistence/sql/sqlplugin"
	"go.temporal.io/server/common/resolver"
	sqliteschema "go.temporal.io/server/schema/sqlite"
)

func openAdmin(t *testing.T, cfg *config.SQL) sqlplugin.AdminDB {
	t.Helper()
	db, err := persistencesql.NewSQLAdminDB(sqlplugin.DbKindUnknown, cfg, resolver.NewNoopResolver(), log.NewNoopLogger(), metrics.NoopMetricsHandler)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestEnsureSchemaCreatesOnceThenUpgradesAndRefusesWhatItCannotUse(t *testing.T) {
	t.Parallel()
	newDB := func(t *testing.T) (*config.SQL, sqlplugin.AdminDB) {
		cfg := sqlConfig(filepath.Join(t.TempDir(), dbFileName))
		require.NoError(t, ensureSchema(cfg, log.NewNoopLogger()))
		return cfg, openAdmin(t, cfg)
	}

	t.Run("a new file gets the schema and its version, a second call changes nothing", func(t *testing.T) {
		cfg, db := newDB(t)
		version, err := db.ReadSchemaVersion(schemaVersionKey)
		require.NoError(t, err)
		require.Equal(t, sqliteschema.Version, version)
		require.NoError(t, ensureSchema(cfg, log.NewNoopLogger()))
	})

	t.Run("an older schema is upgraded with the embedded steps", func(t *testing.T) {
		cfg, db := newDB(t)
		// Roll the database back to 0.10: v0.11 added current_chasm_executions.
		require.NoError(t, db.DropTable("current_chasm_executions"))
		require.NoError(t, db.UpdateSchemaVersion(schemaVersionKey, "0.10", "0.1"))

		require.NoError(t, ensureSchema(cfg, log.NewNoopLogger()))
		version, err := db.ReadSchemaVersion(schemaVersionKey)
		require.NoError(t, err)
		require.Equal(t, sqliteschema.Version, version)
		tables, err := db.ListTables(cfg.DatabaseName)
		require.NoError(t, err)
		require.Contains(t, tables, "current_chasm_executions")
	})

	t.Run("a newer schema is refused", func(t *testing.T) {
		cfg, db := newDB(t)
		require.NoError(t, db.UpdateSchemaVersion(schemaVersionKey, "99.0", "99.0"))
		require.ErrorContains(t, ensureSchema(cfg, log.NewNoopLogger()), "newer than this build's")
	})

	t.Run("a schema without a version (interrupted set-up) is refused", func(t *testing.T) {
		cfg, db := newDB(t)
		require.NoError(t, db.Exec("DELETE FROM schema_version"))
		require.ErrorContains(t, ensureSchema(cfg, log.NewNoopLogger()), "no schema version recorded")
	})
}

func TestCompareVersionsIsNumeric(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"0.11", "0.11", 0},
		{"0.11", "0.9", 1},
		{"0.2", "0.10", -1},
		{"1.0", "1", 0},
	} {
		got, err := compareVersions(tc.a, tc.b)
		require.NoError(t, err)
		require.Equal(t, tc.want, got, "%s vs %s", tc.a, tc.b)
	}
	_, err := compareVersions("0.x", "0.1")
	require.Error(t, err)
}
