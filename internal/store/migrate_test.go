package store_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/pgtest"
	"github.com/gooni/gooni/internal/store"
)

// version returns the applied migration version of the store's schema.
func version(t *testing.T, s *store.Store) int {
	t.Helper()
	var v int
	require.NoError(t, s.Pool().QueryRow(t.Context(), "select version from schema_version").Scan(&v))
	return v
}

func TestMigrateTwiceIsNoOp(t *testing.T) {
	s := setup(t)
	task := newTask(t, s, "")
	v := version(t, s)
	require.Positive(t, v)

	require.NoError(t, s.Migrate(t.Context()))
	require.Equal(t, v, version(t, s))
	require.Equal(t, task.ID, get(t, s, task.ID).ID, "data survives")
}

func TestConcurrentMigrateAppliesOnce(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewSchema(t)
	stores := make([]*store.Store, 4)
	for i := range stores {
		s, err := store.Open(t.Context(), dsn)
		require.NoError(t, err)
		t.Cleanup(s.Close)
		stores[i] = s
	}

	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(t.Context()) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Positive(t, version(t, stores[0]))
	newTask(t, stores[1], "")
}

func TestMigrateCreatesTablesInTheSearchPathSchema(t *testing.T) {
	s := setup(t)
	var schema string
	require.NoError(t, s.Pool().QueryRow(t.Context(),
		"select table_schema from information_schema.tables where table_name = 'tasks' and table_schema = current_schema()").Scan(&schema))
	require.True(t, strings.HasPrefix(schema, "t_"), schema)
}

func TestOpenHidesPasswordOfMalformedURL(t *testing.T) {
	t.Parallel()
	_, err := store.Open(t.Context(), "postgres://user:s3cret@host:notaport/db")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cret")
}
