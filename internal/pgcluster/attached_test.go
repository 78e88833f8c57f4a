package pgcluster_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/pgcluster"
)

// helperDirEnv makes this test binary act as a process that starts an
// attached cluster and then hangs, waiting to be killed.
const helperDirEnv = "PGCLUSTER_TEST_HELPER_DIR"

func TestAttachedServerDiesWithItsProcess(t *testing.T) {
	if dir := os.Getenv(helperDirEnv); dir != "" {
		port, _ := strconv.Atoi(os.Getenv("PGCLUSTER_TEST_HELPER_PORT"))
		_, err := pgcluster.Start(context.Background(), pgcluster.Config{Dir: dir, Port: port, Fast: true, Attached: true})
		if err != nil {
			t.Fatal(err)
		}
		os.Stdout.WriteString("READY\n")
		select {} // killed by the parent test
	}
	t.Parallel()
	cfg := testConfig(t)
	helper := exec.Command(os.Args[0], "-test.run=^TestAttachedServerDiesWithItsProcess$")
	helper.Env = append(os.Environ(), helperDirEnv+"="+cfg.Dir, "PGCLUSTER_TEST_HELPER_PORT="+strconv.Itoa(cfg.Port))
	out, err := helper.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, helper.Start())
	t.Cleanup(func() { _ = helper.Process.Kill(); _ = helper.Wait() })

	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "READY\n", line)
	pid := postmasterPID(t, cfg.Dir)

	// SIGKILL: the helper runs no deferred code, like a test binary that
	// panics or times out.
	require.NoError(t, helper.Process.Kill())
	_ = helper.Wait()
	require.Eventually(t, func() bool { return !processLives(pid) }, 30*time.Second, 20*time.Millisecond,
		"postmaster %d outlived the process that started it", pid)
}

// processLives reports whether pid exists and is not a zombie (orphans are
// not always reaped in containers).
func processLives(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
