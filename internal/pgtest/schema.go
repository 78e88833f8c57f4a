package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gooni/gooni/internal/store"
)

// NewSchema creates a schema of its own for the test and returns a DSN whose
// search_path is that schema only, so whatever the test creates lands there.
// The schema and everything in it is dropped when the test ends.
func NewSchema(t testing.TB) string {
	t.Helper()
	base := URL(t)
	name := schemaName(t.Name())
	dsn, err := withSearchPath(base, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if err := exec(base, "create schema "+name); err != nil {
		t.Fatalf("pgtest: create schema %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := exec(base, "drop schema if exists "+name+" cascade"); err != nil {
			t.Errorf("pgtest: drop schema %s: %v", name, err)
		}
	})
	return dsn
}

// NewStore returns a store on a fresh schema ([NewSchema]) with every
// migration applied, closed when the test ends (before the schema is
// dropped).
func NewStore(t testing.TB) *store.Store {
	t.Helper()
	dsn := NewSchema(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return s
}

// exec runs one statement on its own short-lived connection.
func exec(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, sql)
	return err
}

// schemaName derives a unique, readable identifier (no quoting needed, at
// most 63 bytes) from a test name.
func schemaName(testName string) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= 42 {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:]) // never fails (crypto/rand)
	return b.String() + "_" + hex.EncodeToString(suffix[:])
}

// withSearchPath adds `-c search_path=schema` to the options of a
// postgres:// URL, keeping any options already there.
func withSearchPath(dsn, schema string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", fmt.Errorf("DATABASE_URL must be a postgres:// URL to isolate tests in schemas")
	}
	q := u.Query()
	opts := "-c search_path=" + schema
	if prev := q.Get("options"); prev != "" {
		opts = prev + " " + opts
	}
	q.Set("options", opts)
	// Encode spaces as %20, not +: libpq does not read + as a space.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String(), nil
}
