// Package cli is the client side of the gooni binary: `gooni generate`, `gooni status`,
// `gooni gallery` and `gooni cancel` talk to a Gooni API (GOONI_URL, API_KEY) through
// internal/client. Each command reads its flags, makes its calls and writes to the Env it is
// given, so tests run the commands as a person would without a process.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gooni/gooni/internal/client"
)

// Env is what a command reads and writes besides its arguments.
type Env struct {
	Stdout, Stderr io.Writer
	// Getenv reads GOONI_URL and API_KEY.
	Getenv func(string) string
	// Terminal says Stdout is a terminal: progress is a live bar, else plain lines.
	Terminal bool
	// Dir is where results are saved when --out is not given ("" is the working directory).
	Dir string
	// HTTP, when set, sends the requests (tests); default a plain http.Client.
	HTTP *http.Client
}

// newClient builds the API client from GOONI_URL and API_KEY.
func (e Env) newClient() (*client.Client, error) {
	return client.New(client.Config{BaseURL: e.Getenv("GOONI_URL"), APIKey: e.Getenv("API_KEY"), HTTP: e.HTTP})
}

// APIError is an error envelope, formatted for a person: what went wrong, the failing fields
// of a validation error and what to do about it.
type APIError struct{ Env *client.Error }

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s [%s, HTTP %d]", e.Env.Detail, e.Env.Code, e.Env.Status)
	for _, f := range e.Env.Fields() {
		if f != e.Env.Detail { // the detail already says the first field's problem
			fmt.Fprintf(&b, "\n  - %s", f)
		}
	}
	if e.Env.UserAction != "" {
		fmt.Fprintf(&b, "\n  what to do: %s", e.Env.UserAction)
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.Env }

// explain turns an envelope into an APIError and leaves other errors as they are.
func explain(err error) error {
	var env *client.Error
	if errors.As(err, &env) {
		return &APIError{Env: env}
	}
	return err
}

// parseFlags parses flags that may come before or after the positional arguments
// (`gooni status <id> --json`), returning the positional ones. -h prints the usage and
// returns flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// newFlagSet returns a flag set that reports its errors to stderr with the usage line.
func newFlagSet(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("gooni "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: gooni %s %s\n\nenvironment: GOONI_URL (default %s), API_KEY\n\nflags:\n", name, usage, client.DefaultURL)
		fs.PrintDefaults()
	}
	return fs
}

// oneTaskID returns the single positional task id.
func oneTaskID(fs *flag.FlagSet, pos []string) (string, error) {
	if len(pos) != 1 || pos[0] == "" {
		fs.Usage()
		return "", errors.New("want exactly one task id")
	}
	return pos[0], nil
}

// quietHelp makes -h a success after the usage was printed.
func quietHelp(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}
