package runner_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gooni/gooni/internal/runner"
	"github.com/gooni/gooni/runners/cpu"
)

// The supervisor tests start this test binary again as the runner: TestMain
// sees helperEnv and plays the runner selected by its value instead of
// running the tests (the os/exec helper-process pattern).
const (
	helperEnv = "GOONI_RUNNER_TEST_HELPER"
	// markerEnv names a file: the crash-once helper crashes when it is
	// missing (creating it) and is the real CPU runner when it exists.
	markerEnv = "GOONI_RUNNER_TEST_MARKER"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helperMain(mode))
	}
	os.Exit(m.Run())
}

// helperMain plays the runner named by mode and returns the exit code.
func helperMain(mode string) int {
	switch mode {
	case "cpu":
		return runCPU()
	case "crash-once":
		marker := os.Getenv(markerEnv)
		if _, err := os.Stat(marker); err == nil {
			return runCPU()
		}
		if err := os.WriteFile(marker, nil, 0o600); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		return fake(runner.ProtocolVersion, crash)
	case "stall":
		return fake(runner.ProtocolVersion, func(runner.Message) {})
	case "garbage":
		return fake(runner.ProtocolVersion, func(runner.Message) { fmt.Println("this is not json") })
	case "oom":
		return fake(runner.ProtocolVersion, func(m runner.Message) {
			emit(runner.Message{Type: runner.TypeError, ID: m.ID, Code: runner.CodeGPUMemoryExceeded, Text: "CUDA out of memory"})
		})
	case "escape":
		return fake(runner.ProtocolVersion, func(m runner.Message) {
			emit(runner.Message{Type: runner.TypeResult, ID: m.ID, Path: "/etc/passwd", MIME: "image/png", Width: 1, Height: 1})
		})
	case "poster-escape":
		return fake(runner.ProtocolVersion, func(m runner.Message) {
			path := filepath.Join(m.OutputDir, "result.mp4")
			if err := os.WriteFile(path, []byte("not really a video"), 0o600); err != nil {
				emit(runner.Message{Type: runner.TypeError, ID: m.ID, Code: runner.CodeInternal, Text: err.Error()})
				return
			}
			emit(runner.Message{Type: runner.TypeResult, ID: m.ID, Path: path, MIME: "video/mp4", Width: 2, Height: 2, Poster: "/etc/passwd"})
		})
	case "ignore-cancel":
		return fake(runner.ProtocolVersion, slowResult)
	case "protocol-2":
		return fake(2, func(runner.Message) {})
	case "exit-before-ready":
		fmt.Fprintln(os.Stderr, "cannot find CUDA")
		return 1
	default:
		fmt.Fprintf(os.Stderr, "unknown helper mode %q\n", mode)
		return 2
	}
}

// runCPU is the real CPU runner on this process's stdio.
func runCPU() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg, err := cpu.ConfigFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := cpu.Main(ctx, os.Stdin, os.Stdout, os.Stderr, cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// fake is a scripted runner: it announces protocol, answers load and
// shutdown like a real runner, and hands every generate to onGenerate. It
// ignores cancel.
func fake(protocol int, onGenerate func(runner.Message)) int {
	emit(runner.Message{Type: runner.TypeReady, Protocol: protocol, Runner: "fake", Version: "test", Device: "cpu"})
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		var m runner.Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			fmt.Fprintln(os.Stderr, "bad line:", err)
			return 2
		}
		switch m.Type {
		case runner.TypeLoad:
			emit(runner.Message{Type: runner.TypeLoaded, Model: m.Model, ElapsedMS: 1})
		case runner.TypeGenerate:
			onGenerate(m)
		case runner.TypeShutdown:
			return 0
		}
	}
	return 0
}

// crash reports one step of progress and dies.
func crash(m runner.Message) {
	emit(runner.Message{Type: runner.TypeProgress, ID: m.ID, Step: 1, Total: 10, Stage: runner.StageInference})
	fmt.Fprintln(os.Stderr, "segmentation fault (simulated)")
	os.Exit(3)
}

// slowResult works through 10 steps of 30ms, whatever it is told, and then
// writes a result.
func slowResult(m runner.Message) {
	for i := 1; i <= 10; i++ {
		time.Sleep(30 * time.Millisecond)
		emit(runner.Message{Type: runner.TypeProgress, ID: m.ID, Step: i, Total: 10, Stage: runner.StageInference})
	}
	path := filepath.Join(m.OutputDir, "result.png")
	if err := os.WriteFile(path, []byte("not really a png"), 0o600); err != nil {
		emit(runner.Message{Type: runner.TypeError, ID: m.ID, Code: runner.CodeInternal, Text: err.Error()})
		return
	}
	emit(runner.Message{Type: runner.TypeResult, ID: m.ID, Path: path, MIME: "image/png", Width: 1, Height: 1})
}

// emit writes one message to stdout.
func emit(m runner.Message) {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
}
