package store_test

import (
	"os"
	"testing"

	"github.com/gooni/gooni/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
