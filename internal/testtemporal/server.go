// Package testtemporal starts a real, in-process Temporal server for the tests of a package that
// need one, with Gooni's search attributes registered. Start one per test binary, from TestMain,
// and share it: each server costs about a second to start and the link of a test binary that
// imports this package costs several more.
//
//	var temporalServer *testtemporal.Server
//
//	func TestMain(m *testing.M) {
//		srv, err := testtemporal.Start()
//		if err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//		temporalServer = srv
//		code := m.Run()
//		srv.Stop()
//		os.Exit(code)
//	}
//
// Tests sharing the server stay independent by using their own workflow ids and task queues.
package testtemporal

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/gooni/gooni/internal/devtemporal"
	"github.com/gooni/gooni/internal/temporalsetup"
)

// startTimeout bounds Start.
const startTimeout = time.Minute

// Server is a Temporal server for one test binary.
type Server struct {
	dev *devtemporal.Server
	dir string
}

// Start starts a server on a fresh temporary directory and free loopback ports, with the namespace
// "default" and Gooni's search attributes (temporalsetup.SearchAttributes). The server logs errors
// only, to stderr. Call Stop when the tests are done: it also removes the directory.
//
// It uses devtemporal rather than go.temporal.io/server/temporaltest: the latter needs a
// *testing.T (so it cannot serve TestMain) and cannot declare search attributes up front.
func Start() (*Server, error) {
	dir, err := os.MkdirTemp("", "gooni-temporal-")
	if err != nil {
		return nil, fmt.Errorf("testtemporal: %w", err)
	}
	ports, err := devtemporal.FreePorts(devtemporal.DefaultHost, 1)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("testtemporal: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	dev, err := devtemporal.Start(ctx, devtemporal.Config{
		DataDir:          dir,
		Port:             ports[0],
		SearchAttributes: temporalsetup.SearchAttributes(),
		Logger:           slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("testtemporal: %w", err)
	}
	return &Server{dev: dev, dir: dir}, nil
}

// Address is the frontend's host:port for client.Options.HostPort.
func (s *Server) Address() string { return s.dev.FrontendAddress() }

// Namespace is the namespace that has Gooni's search attributes.
func (s *Server) Namespace() string { return s.dev.Namespace() }

// NewClient dials the server in Namespace with a client that logs warnings and errors to stderr.
// The caller closes it.
func (s *Server) NewClient() (client.Client, error) {
	c, err := client.Dial(client.Options{
		HostPort:  s.Address(),
		Namespace: s.Namespace(),
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	})
	if err != nil {
		return nil, fmt.Errorf("testtemporal: dial %s: %w", s.Address(), err)
	}
	return c, nil
}

// Stop stops the server and removes its directory. Safe to call more than once.
func (s *Server) Stop() {
	s.dev.Stop()
	_ = os.RemoveAll(s.dir)
}
