package stack_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/gooni/gooni/internal/pgtest"
	"github.com/gooni/gooni/internal/testtemporal"
	"github.com/gooni/gooni/runners/cpu"
)

// runnerEnv makes the test binary act as the CPU runner process when a GPU worker starts it:
// the runner is a real child process speaking the real protocol.
const runnerEnv = "GOONI_STACK_TEST_RUNNER"

// temporalServer is the in-process Temporal server this package's tests share.
var temporalServer *testtemporal.Server

func TestMain(m *testing.M) {
	if os.Getenv(runnerEnv) == "1" {
		cfg, err := cpu.ConfigFromEnv()
		if err == nil {
			err = cpu.Main(context.Background(), os.Stdin, os.Stdout, os.Stderr, cfg)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv(gpuWorkerEnv) == "1" { // a GPU worker process of a fault test (faults_proc_test.go)
		os.Exit(gpuWorkerMain())
	}
	srv, err := testtemporal.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	temporalServer = srv
	code := pgtest.Main(m)
	srv.Stop()
	os.Exit(code)
}
