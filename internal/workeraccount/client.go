// Package workeraccount is the GPU worker's side of worker accounts: it registers the worker
// with the API using its account's token, sends heartbeats with the GPU time used, and learns
// which lanes it may serve and whether it may take new work.
package workeraccount

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Registration describes the worker to the API.
type Registration struct {
	Host           string            `json:"host"`
	GPUName        string            `json:"gpu_name"`
	GPUMemoryMB    int               `json:"gpu_memory_mb"`
	Lanes          []string          `json:"lanes"`
	RunnerVersions map[string]string `json:"runner_versions"`
}

// Answer is what the API tells a worker after a registration or heartbeat.
type Answer struct {
	AccountID        string   `json:"account_id"`
	Status           string   `json:"status"`
	StatusReason     string   `json:"status_reason"`
	Lanes            []string `json:"lanes"`
	TakeWork         bool     `json:"take_work"`
	UsageGPUSeconds  float64  `json:"usage_gpu_seconds"`
	HeartbeatSeconds int      `json:"heartbeat_seconds"`
}

// Error is an error envelope from the API.
type Error struct {
	Status     int
	Code       string `json:"code"`
	Detail     string `json:"detail"`
	UserAction string `json:"user_action"`
	RetryAfter time.Duration
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("%s (%d): %s", e.Code, e.Status, e.Detail) }

// Permanent reports whether retrying with this token cannot help (the token is wrong or its
// account was deleted).
func (e *Error) Permanent() bool { return e.Status == http.StatusUnauthorized }

// Client calls the API's worker routes. The token travels only in the X-Worker-Token header.
type Client struct {
	baseURL string
	token   string
	http    *http.Client
}

// NewClient returns a client for the API at baseURL (e.g. http://api:8080).
func NewClient(baseURL, token string) *Client {
	return &Client{baseURL: strings.TrimRight(baseURL, "/"), token: token, http: &http.Client{Timeout: 15 * time.Second}}
}

// Register registers the worker; the answer's lanes are those it may serve.
func (c *Client) Register(ctx context.Context, r Registration) (Answer, error) {
	return c.post(ctx, "/workers/register", r)
}

// Heartbeat reports liveness and the GPU seconds used since the previous heartbeat.
func (c *Client) Heartbeat(ctx context.Context, gpuSeconds float64) (Answer, error) {
	return c.post(ctx, "/workers/heartbeat", map[string]any{"gpu_seconds": gpuSeconds})
}

func (c *Client) post(ctx context.Context, path string, body any) (Answer, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return Answer{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.baseURL+path, bytes.NewReader(raw))
	if err != nil {
		return Answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Worker-Token", c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return Answer{}, fmt.Errorf("%s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Answer{}, fmt.Errorf("%s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		apiErr := &Error{Status: resp.StatusCode}
		if json.Unmarshal(data, apiErr) != nil || apiErr.Code == "" {
			apiErr.Code, apiErr.Detail = "http_error", http.StatusText(resp.StatusCode)
		}
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			apiErr.RetryAfter = time.Duration(secs) * time.Second
		}
		return Answer{}, apiErr
	}
	var a Answer
	if err := json.Unmarshal(data, &a); err != nil {
		return Answer{}, fmt.Errorf("%s: answer is not JSON: %w", path, err)
	}
	return a, nil
}

// IsPermanent reports whether err says the token can never work.
func IsPermanent(err error) bool {
	var apiErr *Error
	return errors.As(err, &apiErr) && apiErr.Permanent()
}
