package client

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
)

// resultExts maps the result types the API serves to file extensions.
var resultExts = map[string]string{"image/png": "png", "image/jpeg": "jpg", "video/mp4": "mp4", "video/webm": "webm"}

// Extension returns the file extension (without a dot) for a result's Content-Type.
func Extension(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "bin"
	}
	if ext, ok := resultExts[mt]; ok {
		return ext
	}
	if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
		return exts[0][1:]
	}
	return "bin"
}

// Download saves a finished task's result. When path is "", the file is <task_id>.<ext> in dir
// (the extension from the served type). The file appears whole or not at all. It returns the
// path written and the result's Content-Type.
func (c *Client) Download(ctx context.Context, taskID, path, dir string) (string, string, error) {
	resp, err := c.do(ctx, http.MethodGet, "/results/"+url.PathEscape(taskID), nil, nil)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	ct := resp.Header.Get("Content-Type")
	if path == "" {
		path = filepath.Join(dir, taskID+"."+Extension(ct))
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".gooni-download-*")
	if err != nil {
		return "", "", fmt.Errorf("save result: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	n, err := io.Copy(tmp, resp.Body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", "", fmt.Errorf("save result: %w", err)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return "", "", fmt.Errorf("save result: got %d of %d bytes", n, resp.ContentLength)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", "", fmt.Errorf("save result: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", "", fmt.Errorf("save result: %w", err)
	}
	return path, ct, nil
}
