package pgtest

import (
	"net/url"
	"strings"
	"testing"
)

func TestWithSearchPathAppendsToExistingOptions(t *testing.T) {
	got, err := withSearchPath("postgres://u:p@h:5/db?sslmode=disable&options=-c%20statement_timeout%3D5s", "t_x")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if opts := u.Query().Get("options"); opts != "-c statement_timeout=5s -c search_path=t_x" {
		t.Fatalf("options = %q", opts)
	}
	if u.Query().Get("sslmode") != "disable" || strings.Contains(u.RawQuery, "+") {
		t.Fatalf("query = %q", u.RawQuery)
	}
	if _, err := withSearchPath("host=h dbname=db", "t_x"); err == nil {
		t.Fatal("a key=value DSN cannot carry a per-test search_path: want an error")
	}
}

func TestSchemaNameIsAValidUniqueIdentifier(t *testing.T) {
	long := strings.Repeat("VeryLong/Name-", 10)
	a, b := schemaName(long), schemaName(long)
	if a == b {
		t.Fatalf("names repeat: %s", a)
	}
	if len(a) > 63 {
		t.Fatalf("%s is longer than 63 bytes", a)
	}
	for _, r := range a {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			t.Fatalf("%s needs quoting", a)
		}
	}
}
