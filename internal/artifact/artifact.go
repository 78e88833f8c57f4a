// Package artifact stores generation artifacts (results, previews, uploaded references) behind
// one small interface, so the API and GPU workers can later live on different hosts.
package artifact

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned when no artifact exists under a key.
var ErrNotFound = errors.New("artifact not found")

// Info describes a stored artifact.
type Info struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Object is an open artifact: readable, seekable (for HTTP Range requests) and closable.
type Object interface {
	io.ReadSeekCloser
}

// Store keeps artifacts under slash-separated keys such as "results/<task>/result.png".
type Store interface {
	// Put stores the content of r under key, replacing any earlier artifact atomically.
	Put(ctx context.Context, key string, r io.Reader) (Info, error)
	// PutFile stores the file at path under key (moved when possible, copied otherwise).
	PutFile(ctx context.Context, key, path string) (Info, error)
	// Open opens the artifact under key; ErrNotFound when absent.
	Open(ctx context.Context, key string) (Object, Info, error)
	// Stat describes the artifact under key; ErrNotFound when absent.
	Stat(ctx context.Context, key string) (Info, error)
	// LocalPath returns a path on this host where the artifact can be read by a child process,
	// or ErrNotFound.
	LocalPath(ctx context.Context, key string) (string, error)
	// Delete removes the artifact; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
}
