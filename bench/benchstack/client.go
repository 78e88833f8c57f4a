package benchstack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Client calls the stack's HTTP API as a client would.
type Client struct {
	base string
	key  string
	hc   *http.Client
}

// NewClient returns a client of the API at base (e.g. "http://127.0.0.1:1234") with key. It
// keeps enough idle connections for hundreds of concurrent requests.
func NewClient(base, key string) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 512
	tr.MaxIdleConnsPerHost = 512
	return &Client{base: base, key: key, hc: &http.Client{Transport: tr, Timeout: time.Minute}}
}

// Status is the part of GET /status the benchmarks read.
type Status struct {
	TaskID      string  `json:"task_id"`
	Status      string  `json:"status"`
	Progress    float64 `json:"progress"`
	Stage       string  `json:"stage"`
	StageDetail string  `json:"stage_detail"`
	ErrorCode   string  `json:"error_code"`
	ErrorMsg    string  `json:"error_msg"`
}

// Terminal reports whether the task ended.
func (s Status) Terminal() bool {
	return s.Status == "done" || s.Status == "failed" || s.Status == "cancelled"
}

// Submit POSTs a generation and returns its task id.
func (c *Client) Submit(ctx context.Context, body any) (string, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	var out struct {
		TaskID string `json:"task_id"`
	}
	if err := c.do(ctx, http.MethodPost, "/generate", raw, http.StatusAccepted, &out); err != nil {
		return "", err
	}
	return out.TaskID, nil
}

// Status GETs a task's status.
func (c *Client) Status(ctx context.Context, taskID string) (Status, error) {
	var s Status
	err := c.do(ctx, http.MethodGet, "/status/"+taskID, nil, http.StatusOK, &s)
	return s, err
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, want int, out any) error {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}
