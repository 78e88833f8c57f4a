package stack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/internal/artifact"
	"github.com/gooni/gooni/internal/stack"
	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/settings"
	"github.com/gooni/gooni/workers"
)

// gpuWorkerEnv makes the test binary a GPU worker process (gpuWorkerMain), configured by the
// JSON in gpuWorkerConfigEnv: the fault tests kill it with SIGKILL. Its runners are the test
// binary again, in runner mode: grandchildren of the test.
const (
	gpuWorkerEnv       = "GOONI_STACK_TEST_GPU_WORKER"
	gpuWorkerConfigEnv = "GOONI_STACK_TEST_GPU_WORKER_CONFIG"
)

// gpuWorkerReady is the line a GPU worker process prints on stdout once its lanes are polled.
const gpuWorkerReady = "gpu worker ready"

// gpuProcConfig configures a GPU worker process.
type gpuProcConfig struct {
	TemporalAddress string   `json:"temporal_address"`
	Namespace       string   `json:"namespace"`
	DSN             string   `json:"dsn"`
	Catalogue       string   `json:"catalogue"` // path of the catalogue file
	Artifacts       string   `json:"artifacts"` // artifact directory shared with the API
	WorkDir         string   `json:"work_dir"`
	Models          []string `json:"models"`
}

// gpuWorkerMain runs a GPU worker until SIGTERM, SIGINT or the end of stdin (the test that
// started it is gone), and returns the exit code.
func gpuWorkerMain() int {
	var cfg gpuProcConfig
	err := json.Unmarshal([]byte(os.Getenv(gpuWorkerConfigEnv)), &cfg)
	// The runners this worker starts inherit its environment: they must be runners, not workers.
	_ = os.Unsetenv(gpuWorkerEnv)
	_ = os.Unsetenv(gpuWorkerConfigEnv)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	fail := func(what string, err error) int {
		logger.Error(what, "err", err)
		return 1
	}
	if err != nil {
		return fail("gpu worker config", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		stop()
	}()
	cat, err := settings.Load(cfg.Catalogue)
	if err != nil {
		return fail("catalogue", err)
	}
	st, err := store.Open(ctx, cfg.DSN)
	if err != nil {
		return fail("database", err)
	}
	defer st.Close()
	tc, err := stack.DialTemporal(ctx, cfg.TemporalAddress, cfg.Namespace, logger, 30*time.Second)
	if err != nil {
		return fail("temporal", err)
	}
	defer tc.Close()
	arts, err := artifact.NewLocal(cfg.Artifacts)
	if err != nil {
		return fail("artifacts", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return fail("executable", err)
	}
	g, err := stack.StartGPUWorker(tc, cat, arts, workers.StoreReporter{Store: st}, stack.GPUWorkerConfig{
		Models:        cfg.Models,
		RunnerName:    "cpu",
		RunnerCommand: []string{exe},
		RunnerEnv:     faultRunnerEnv,
		WorkDir:       cfg.WorkDir,
		Logger:        logger.With("pid", os.Getpid()),
	})
	if err != nil {
		return fail("start gpu worker", err)
	}
	fmt.Println(gpuWorkerReady)
	<-ctx.Done()
	logger.Info("gpu worker stopping")
	g.Stop()
	return 0
}

// workerProc is a GPU worker process started by a test.
type workerProc struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{} // closed when the process was waited for
}

// startGPUProcess starts a GPU worker process serving models' lanes on the test's Temporal
// server, database and artifact directory, and waits until it polls its lanes.
func (e *faultEnv) startGPUProcess(name string, models ...string) *workerProc {
	t := e.t
	t.Helper()
	cfg, err := json.Marshal(gpuProcConfig{
		TemporalAddress: e.temporalAddr,
		Namespace:       e.namespace,
		DSN:             e.dsn,
		Catalogue:       e.catPath,
		Artifacts:       e.artsDir,
		WorkDir:         t.TempDir(),
		Models:          models,
	})
	require.NoError(t, err)
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), gpuWorkerEnv+"=1", gpuWorkerConfigEnv+"="+string(cfg))
	ready := make(chan struct{})
	markReady := sync.OnceFunc(func() { close(ready) })
	cmd.Stdout = &lineWriter{log: e.log, prefix: name + " stdout: ", onLine: func(line string) {
		if line == gpuWorkerReady {
			markReady()
		}
	}}
	cmd.Stderr = &lineWriter{log: e.log, prefix: name + ": "}
	// The worker dies with the test binary; it also stops when its stdin closes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &workerProc{t: t, name: name, cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		e.log.Write([]byte(fmt.Sprintf("%s (pid %d) exited: %v\n", name, cmd.Process.Pid, err)))
		close(p.done)
	}()
	t.Cleanup(p.stop)
	select {
	case <-ready:
	case <-p.done:
		t.Fatalf("%s exited before it was ready", name)
	case <-time.After(60 * time.Second):
		t.Fatalf("%s not ready within 60s", name)
	}
	return p
}

// pid is the worker's process id.
func (p *workerProc) pid() int { return p.cmd.Process.Pid }

// kill9 sends SIGKILL to the worker process (not to its runners) and waits for it to die.
func (p *workerProc) kill9() {
	p.t.Helper()
	require.NoError(p.t, p.cmd.Process.Signal(syscall.SIGKILL))
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Fatalf("%s did not die of SIGKILL within 10s", p.name)
	}
}

// stop asks the worker to stop (SIGTERM), killing it after 20 s.
func (p *workerProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	_ = p.stdin.Close()
}

// childPIDs lists the live children of process ppid (from /proc).
func childPIDs(ppid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		state, parent, ok := procStat(pid)
		if ok && parent == ppid && state != 'Z' && state != 'X' {
			out = append(out, pid)
		}
	}
	return out
}

// alive reports whether pid runs (a zombie is dead: it only waits to be reaped).
func alive(pid int) bool {
	state, _, ok := procStat(pid)
	return ok && state != 'Z' && state != 'X'
}

// procStat reads a process's state and parent from /proc/<pid>/stat.
func procStat(pid int) (state byte, ppid int, ok bool) {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, 0, false
	}
	fields := strings.Fields(string(raw[i+1:]))
	if len(fields) < 2 || len(fields[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(fields[1])
	return fields[0][0], ppid, err == nil
}

// lineWriter writes a process's output to the test log line by line.
type lineWriter struct {
	log    io.Writer
	prefix string
	onLine func(string)
	mu     sync.Mutex
	buf    []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		if w.onLine != nil {
			w.onLine(line)
		}
		_, _ = w.log.Write([]byte(w.prefix + line + "\n"))
	}
	return len(p), nil
}
