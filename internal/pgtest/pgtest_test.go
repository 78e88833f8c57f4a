package pgtest_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestNewSchemaIsolatesTablesAndIsDroppedAfterTheTest(t *testing.T) {
	t.Parallel()
	var schemas []string
	for _, name := range []string{"first", "second"} {
		t.Run(name, func(t *testing.T) {
			conn := connect(t, pgtest.NewSchema(t))
			var schema string
			require.NoError(t, conn.QueryRow(t.Context(), "select current_schema()").Scan(&schema))
			require.NotEqual(t, "public", schema)
			// Same table name in both schemas: no clash.
			_, err := conn.Exec(t.Context(), "create table things (v int); insert into things values (1)")
			require.NoError(t, err)
			schemas = append(schemas, schema)
		})
	}
	require.Len(t, schemas, 2)
	require.NotEqual(t, schemas[0], schemas[1])

	var left int
	require.NoError(t, connect(t, pgtest.URL(t)).QueryRow(t.Context(),
		"select count(*) from pg_namespace where nspname = any($1)", schemas).Scan(&left))
	require.Zero(t, left, "schemas are dropped when their test ends")
}

func TestNewSchemaDSNAcceptsMoreParameters(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewSchema(t)
	conn := connect(t, dsn+"&application_name=pgtest")
	var path string
	require.NoError(t, conn.QueryRow(t.Context(), "show search_path").Scan(&path))
	require.Contains(t, path, "t_testnewschemadsnacceptsmoreparameters_")
}

func TestNewStoreIsMigrated(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	var n int
	require.NoError(t, s.Pool().QueryRow(t.Context(), "select count(*) from tasks").Scan(&n))
	require.Zero(t, n)
}
