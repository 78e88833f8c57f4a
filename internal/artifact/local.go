package artifact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Local is a Store on a directory of this host.
type Local struct {
	root string
}

// NewLocal returns a Store rooted at dir, creating the directory when missing.
func NewLocal(dir string) (*Local, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("artifact dir %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("create artifact dir %s: %w", abs, err)
	}
	return &Local{root: abs}, nil
}

// Root returns the directory the store writes to.
func (l *Local) Root() string { return l.root }

// path maps a key to a file path, refusing keys that escape the root.
func (l *Local) path(key string) (string, error) {
	clean := path.Clean("/" + key)
	if key == "" || clean == "/" || strings.Contains(key, "\\") || clean[1:] != key {
		return "", fmt.Errorf("invalid artifact key %q", key)
	}
	return filepath.Join(l.root, filepath.FromSlash(clean[1:])), nil
}

// Put implements Store. The content is written to a temporary file and renamed, so a reader
// never sees a partial artifact.
func (l *Local) Put(ctx context.Context, key string, r io.Reader) (Info, error) {
	p, err := l.path(key)
	if err != nil {
		return Info{}, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return Info{}, fmt.Errorf("put %s: %w", key, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return Info{}, fmt.Errorf("put %s: %w", key, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := io.Copy(tmp, readerWithContext{ctx, r}); err != nil {
		tmp.Close()
		return Info{}, fmt.Errorf("put %s: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return Info{}, fmt.Errorf("put %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return Info{}, fmt.Errorf("put %s: %w", key, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return Info{}, fmt.Errorf("put %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return Info{}, fmt.Errorf("put %s: %w", key, err)
	}
	return l.Stat(ctx, key)
}

// PutFile implements Store.
func (l *Local) PutFile(ctx context.Context, key, src string) (Info, error) {
	p, err := l.path(key)
	if err != nil {
		return Info{}, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return Info{}, fmt.Errorf("put %s: %w", key, err)
	}
	if err := os.Rename(src, p); err == nil {
		return l.Stat(ctx, key)
	}
	f, err := os.Open(src)
	if err != nil {
		return Info{}, fmt.Errorf("put %s: %w", key, err)
	}
	defer f.Close()
	return l.Put(ctx, key, f)
}

// Open implements Store.
func (l *Local) Open(_ context.Context, key string) (Object, Info, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, Info{}, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Info{}, ErrNotFound
	}
	if err != nil {
		return nil, Info{}, fmt.Errorf("open %s: %w", key, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Info{}, fmt.Errorf("open %s: %w", key, err)
	}
	return f, Info{Key: key, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// Stat implements Store.
func (l *Local) Stat(_ context.Context, key string) (Info, error) {
	p, err := l.path(key)
	if err != nil {
		return Info{}, err
	}
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Info{}, ErrNotFound
	}
	if err != nil {
		return Info{}, fmt.Errorf("stat %s: %w", key, err)
	}
	return Info{Key: key, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// LocalPath implements Store.
func (l *Local) LocalPath(ctx context.Context, key string) (string, error) {
	if _, err := l.Stat(ctx, key); err != nil {
		return "", err
	}
	return l.path(key)
}

// Delete implements Store.
func (l *Local) Delete(_ context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// readerWithContext stops a copy when its context ends.
type readerWithContext struct {
	ctx context.Context
	r   io.Reader
}

func (r readerWithContext) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
