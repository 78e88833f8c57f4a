// Package runnertrace runs the CPU runner (runners/cpu) unchanged inside a tap that timestamps
// every protocol line crossing its stdin and stdout, so the benchmark can tell when the runner
// really received a request, reported a step and sent its result — on the same machine and the
// same wall clock as the benchmark's own observations.
//
// The tap costs a few microseconds per line (one decode and one unbuffered append to a file);
// it never changes what crosses the pipe.
package runnertrace

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gooni/gooni/internal/runner"
	"github.com/gooni/gooni/runners/cpu"
)

// Environment of a traced runner process.
const (
	// EnvRunner, set to "1", makes the benchmark binary act as a traced CPU runner.
	EnvRunner = "GOONI_BENCH_RUNNER"
	// EnvTraceDir is the directory the runner writes its trace file into (one per process).
	EnvTraceDir = "GOONI_BENCH_TRACE_DIR"
)

// Directions of a traced line.
const (
	In  = "in"  // worker → runner (stdin)
	Out = "out" // runner → worker (stdout)
)

// Event is one protocol line as the runner saw it.
type Event struct {
	// T is when the line crossed the pipe, in Unix nanoseconds (wall clock).
	T int64 `json:"t"`
	// PID is the runner process.
	PID int `json:"pid"`
	// Dir is In or Out.
	Dir   string `json:"dir"`
	Type  string `json:"type"`
	ID    string `json:"id,omitempty"`
	Stage string `json:"stage,omitempty"`
	Step  int    `json:"step,omitempty"`
	Total int    `json:"total,omitempty"`
	// CPU is the process's user+system CPU time so far, in nanoseconds.
	CPU int64 `json:"cpu"`
}

// Time returns T as a time.Time.
func (e Event) Time() time.Time { return time.Unix(0, e.T) }

// Enabled reports whether this process was started as a traced runner.
func Enabled() bool { return os.Getenv(EnvRunner) == "1" }

// Env returns the environment that makes the benchmark binary a traced runner writing to dir.
func Env(dir string) []string {
	return []string{EnvRunner + "=1", EnvTraceDir + "=" + dir}
}

// Main runs the CPU runner (configured from the environment, as `gooni runner cpu` is) with
// its stdin and stdout tapped, until the worker shuts it down.
func Main(ctx context.Context) error {
	cfg, err := cpu.ConfigFromEnv()
	if err != nil {
		return err
	}
	dir := os.Getenv(EnvTraceDir)
	if dir == "" {
		return fmt.Errorf("%s is not set", EnvTraceDir)
	}
	rec, err := newRecorder(dir)
	if err != nil {
		return err
	}
	defer rec.close()
	in := &readTap{r: os.Stdin, rec: rec}
	out := &writeTap{w: os.Stdout, rec: rec}
	return cpu.Main(ctx, in, out, os.Stderr, cfg)
}

// recorder appends events to this process's trace file, one JSON object per line, unbuffered,
// so nothing is lost when the worker kills the process.
type recorder struct {
	mu  sync.Mutex
	f   *os.File
	pid int
}

func newRecorder(dir string) (*recorder, error) {
	pid := os.Getpid()
	f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("runner-%d.jsonl", pid)), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open trace: %w", err)
	}
	return &recorder{f: f, pid: pid}, nil
}

// line records one protocol line seen at t.
func (r *recorder) line(t time.Time, dir string, line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return
	}
	var m runner.Message
	if err := json.Unmarshal(line, &m); err != nil {
		return // the runner itself reports bad lines; the trace only keeps protocol messages
	}
	e := Event{T: t.UnixNano(), PID: r.pid, Dir: dir, Type: m.Type, ID: m.ID, Stage: m.Stage, Step: m.Step, Total: m.Total, CPU: cpuTime()}
	b, _ := json.Marshal(e)
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = r.f.Write(append(b, '\n'))
}

func (r *recorder) close() { _ = r.f.Close() }

// cpuTime is this process's user+system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// readTap passes stdin through, recording each complete line when the read that completes it
// returns.
type readTap struct {
	r       io.Reader
	rec     *recorder
	partial []byte
}

func (t *readTap) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		now := time.Now()
		data := p[:n]
		for {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				t.partial = append(t.partial, data...)
				break
			}
			line := data[:i]
			if len(t.partial) > 0 {
				line = append(t.partial, line...)
				t.partial = t.partial[:0]
			}
			t.rec.line(now, In, line)
			data = data[i+1:]
		}
	}
	return n, err
}

// writeTap passes stdout through, recording each line just before it is written (the runner's
// encoder writes one whole message per Write).
type writeTap struct {
	w   io.Writer
	rec *recorder
}

func (t *writeTap) Write(p []byte) (int, error) {
	now := time.Now()
	for _, line := range bytes.Split(p, []byte{'\n'}) {
		t.rec.line(now, Out, line)
	}
	return t.w.Write(p)
}

// Read returns every event traced in dir, oldest first.
func Read(dir string) ([]Event, error) {
	files, err := filepath.Glob(filepath.Join(dir, "runner-*.jsonl"))
	if err != nil {
		return nil, err
	}
	var events []Event
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var e Event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				// A process killed mid-write leaves a cut last line.
				continue
			}
			events = append(events, e)
		}
		err = errors.Join(sc.Err(), f.Close())
		if err != nil {
			return nil, fmt.Errorf("read trace %s: %w", name, err)
		}
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].T < events[j].T })
	return events, nil
}

// Job is one request as its runner saw it.
type Job struct {
	ID  string
	PID int
	// Received is when the generate line reached the runner; Finished when its result (or
	// error) left it. Finished is zero when no final line was traced.
	Received, Finished time.Time
	// CPU is the runner process's CPU time between Received and Finished.
	CPU time.Duration
	// Steps holds when each inference step k (1-based) was reported: Steps[k].
	Steps map[int]time.Time
	// Total is the number of inference steps announced.
	Total int
	// Failed is set when the runner answered with an error.
	Failed bool
}

// Own is the runner's own time for the job: from receiving the request to sending the answer.
func (j Job) Own() time.Duration {
	if j.Finished.IsZero() {
		return 0
	}
	return j.Finished.Sub(j.Received)
}

// Jobs groups events by request id.
func Jobs(events []Event) map[string]*Job {
	jobs := map[string]*Job{}
	var startCPU = map[string]int64{}
	for _, e := range events {
		if e.ID == "" {
			continue
		}
		j := jobs[e.ID]
		switch {
		case e.Dir == In && e.Type == runner.TypeGenerate:
			j = &Job{ID: e.ID, PID: e.PID, Received: e.Time(), Steps: map[int]time.Time{}}
			jobs[e.ID] = j
			startCPU[e.ID] = e.CPU
		case j == nil:
		case e.Dir == Out && e.Type == runner.TypeProgress && strings.EqualFold(e.Stage, runner.StageInference):
			if _, seen := j.Steps[e.Step]; !seen {
				j.Steps[e.Step] = e.Time()
			}
			j.Total = e.Total
		case e.Dir == Out && (e.Type == runner.TypeResult || e.Type == runner.TypeError || e.Type == runner.TypeCancelled):
			j.Finished = e.Time()
			j.CPU = time.Duration(e.CPU - startCPU[e.ID])
			j.Failed = e.Type != runner.TypeResult
		}
	}
	return jobs
}
