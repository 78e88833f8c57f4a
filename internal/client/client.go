// Package client is a typed Go client of the Gooni HTTP API, used by the gooni CLI. Every call
// takes a context; an answer in the API's error envelope comes back as *Error.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultURL is the API address when GOONI_URL is not set.
const DefaultURL = "http://127.0.0.1:8080"

// Config configures a Client.
type Config struct {
	// BaseURL is the API's address, such as http://127.0.0.1:8080. Default DefaultURL.
	BaseURL string
	// APIKey is sent in X-API-Key, never in a URL (so it never shows in an error message).
	APIKey string
	// HTTP sends the requests. Default: an http.Client without an overall timeout (event
	// streams and downloads last); calls other than those are bounded by CallTimeout.
	HTTP *http.Client
	// CallTimeout bounds each call that is not a stream or a download. Default 30s.
	CallTimeout time.Duration
	// SubmitAttempts is how often Generate sends the request when the network fails or the
	// API is briefly unavailable; the Idempotency-Key makes the retries safe. Default 3.
	SubmitAttempts int
	// RetryDelay is the wait before the first retry, doubled each time. Default 500ms.
	RetryDelay time.Duration
	// PollInterval is how often Wait polls GET /status when the event stream is unavailable.
	// Default 1s.
	PollInterval time.Duration
}

func (c Config) withDefaults() Config {
	if c.BaseURL == "" {
		c.BaseURL = DefaultURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.HTTP == nil {
		c.HTTP = &http.Client{}
	}
	if c.CallTimeout <= 0 {
		c.CallTimeout = 30 * time.Second
	}
	if c.SubmitAttempts <= 0 {
		c.SubmitAttempts = 3
	}
	if c.RetryDelay <= 0 {
		c.RetryDelay = 500 * time.Millisecond
	}
	if c.PollInterval <= 0 {
		c.PollInterval = time.Second
	}
	return c
}

// Client calls one Gooni API.
type Client struct {
	cfg Config
}

// New returns a client; it fails when BaseURL is not an http(s) URL.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("GOONI_URL %q is not an http(s) URL such as %s", cfg.BaseURL, DefaultURL)
	}
	return &Client{cfg: cfg}, nil
}

// Error is the API's error envelope, with the HTTP status it came with.
type Error struct {
	Status     int            `json:"-"`
	Code       string         `json:"code"`
	Detail     string         `json:"detail"`
	UserAction string         `json:"user_action"`
	Metadata   map[string]any `json:"metadata,omitempty"`
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("%s (%s, HTTP %d)", e.Detail, e.Code, e.Status) }

// Fields returns the failing fields of a validation_error as "field: message" lines.
func (e *Error) Fields() []string {
	list, _ := e.Metadata["fields"].([]any)
	var out []string
	for _, f := range list {
		m, _ := f.(map[string]any)
		field, _ := m["field"].(string)
		msg, _ := m["message"].(string)
		if field != "" || msg != "" {
			out = append(out, field+": "+msg)
		}
	}
	return out
}

// Status is the answer of GET /status/{task_id} and each event of the task's stream.
type Status struct {
	TaskID      string    `json:"task_id"`
	Status      string    `json:"status"`
	Progress    float64   `json:"progress"`
	Stage       string    `json:"stage"`
	StageDetail string    `json:"stage_detail"`
	LaneMode    string    `json:"lane_mode"`
	ErrorCode   string    `json:"error_code"`
	ErrorMsg    string    `json:"error_msg"`
	ResultURL   string    `json:"result_url"`
	PreviewURL  string    `json:"preview_url"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Model       string    `json:"model"`
	Type        string    `json:"type"`
	Mode        string    `json:"mode"`
	Width       int       `json:"width"`
	Height      int       `json:"height"`
	Seed        int64     `json:"seed"`
	Attempt     int       `json:"attempt"`
}

// Terminal reports whether the task has ended (done, failed or cancelled).
func (s *Status) Terminal() bool {
	switch s.Status {
	case "done", "failed", "cancelled":
		return true
	}
	return false
}

// Accepted is the answer of POST /generate.
type Accepted struct {
	TaskID string `json:"task_id"`
	Status string `json:"status"`
	// Replayed is true when the API answered from an earlier request with the same key.
	Replayed bool `json:"-"`
}

// Cancelled is the answer of a cancel: status "cancelling" or "cancelled".
type Cancelled struct {
	TaskID string `json:"task_id"`
	Status string `json:"status"`
}

// GalleryQuery filters and pages GET /gallery; zero values are left to the server's defaults.
type GalleryQuery struct {
	Page, PerPage     int
	Sort, Model, Type string
}

// GalleryPage is the answer of GET /gallery. Items are kept as the server sends them.
type GalleryPage struct {
	Items   []map[string]any `json:"items"`
	Total   int              `json:"total"`
	Page    int              `json:"page"`
	PerPage int              `json:"per_page"`
	HasMore bool             `json:"has_more"`
}

// Status returns a task's state.
func (c *Client) Status(ctx context.Context, taskID string) (*Status, error) {
	var st Status
	if err := c.call(ctx, http.MethodGet, "/status/"+url.PathEscape(taskID), nil, nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Cancel asks the API to cancel a task.
func (c *Client) Cancel(ctx context.Context, taskID string) (*Cancelled, error) {
	var out Cancelled
	if err := c.call(ctx, http.MethodPost, "/tasks/"+url.PathEscape(taskID)+"/cancel", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Gallery returns a page of finished items.
func (c *Client) Gallery(ctx context.Context, q GalleryQuery) (*GalleryPage, error) {
	v := url.Values{}
	if q.Page > 0 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if q.PerPage > 0 {
		v.Set("per_page", strconv.Itoa(q.PerPage))
	}
	for k, s := range map[string]string{"sort": q.Sort, "model": q.Model, "type": q.Type} {
		if s != "" {
			v.Set(k, s)
		}
	}
	path := "/gallery"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var page GalleryPage
	if err := c.call(ctx, http.MethodGet, path, nil, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// Generate submits a generation with the given Idempotency-Key (required: it is what makes a
// retry after a network failure safe). The request is sent again, with the same key and body,
// when the network fails or the API answers 502, 504 or 503 orchestrator_unavailable.
func (c *Client) Generate(ctx context.Context, body map[string]any, idempotencyKey string) (*Accepted, error) {
	if idempotencyKey == "" {
		return nil, errors.New("generate: an idempotency key is required")
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("generate: encode request: %w", err)
	}
	header := http.Header{"Idempotency-Key": {idempotencyKey}}
	delay := c.cfg.RetryDelay
	for attempt := 1; ; attempt++ {
		var out Accepted
		var hdr http.Header
		err = c.callHeader(ctx, http.MethodPost, "/generate", header, raw, &out, &hdr)
		if err == nil {
			out.Replayed = hdr.Get("Idempotent-Replayed") == "true"
			return &out, nil
		}
		if attempt >= c.cfg.SubmitAttempts || !retryable(err) || ctx.Err() != nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// retryable reports whether a submission may be sent again: the network failed, or the API
// said it could not reach its orchestrator or a proxy in front of it failed.
func retryable(err error) bool {
	var env *Error
	if errors.As(err, &env) {
		switch {
		case env.Status == http.StatusBadGateway, env.Status == http.StatusGatewayTimeout:
			return true
		case env.Status == http.StatusServiceUnavailable && env.Code == "orchestrator_unavailable":
			return true
		}
		return false
	}
	var netErr *transportError
	return errors.As(err, &netErr)
}

// transportError is a request that got no HTTP answer.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// call sends a JSON request and decodes a JSON answer into out (when not nil).
func (c *Client) call(ctx context.Context, method, path string, header http.Header, body []byte, out any) error {
	return c.callHeader(ctx, method, path, header, body, out, nil)
}

func (c *Client) callHeader(ctx context.Context, method, path string, header http.Header, body []byte, out any, gotHeader *http.Header) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	defer cancel()
	resp, err := c.do(ctx, method, path, header, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if gotHeader != nil {
		*gotHeader = resp.Header
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return &transportError{fmt.Errorf("%s %s: read answer: %w", method, path, err)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: the answer is not the expected JSON: %w", method, path, err)
	}
	return nil
}

// do sends a request and returns a 2xx answer; any other answer comes back as *Error.
func (c *Client) do(ctx context.Context, method, path string, header http.Header, body []byte) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.BaseURL+path, r)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cfg.APIKey != "" {
		req.Header.Set("X-API-Key", c.cfg.APIKey)
	}
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &transportError{fmt.Errorf("%s %s: %w", method, path, err)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, decodeError(resp)
}

// decodeError reads an error answer: the envelope when the API sent one, else an envelope
// made from the status (a proxy's page, an older server).
func decodeError(resp *http.Response) *Error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	env := &Error{}
	if err := json.Unmarshal(raw, env); err != nil || env.Code == "" {
		env = &Error{Code: "http_" + strconv.Itoa(resp.StatusCode), Detail: "The server answered " + resp.Status + " without an error envelope.",
			UserAction: "Check GOONI_URL points at a Gooni API."}
	}
	env.Status = resp.StatusCode
	return env
}
