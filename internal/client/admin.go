package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// adminCookie is the admin session cookie the API sets.
const adminCookie = "gg_admin_session"

// Admin calls the admin routes under one admin session. The session cookie lives in this value
// only (never on disk); Close revokes it.
type Admin struct {
	c      *Client
	cookie string
}

// AdminSession starts an admin session with the admin key (sent in X-Admin-Key, never in a URL
// or a log) and returns a client holding its cookie.
func (c *Client) AdminSession(ctx context.Context, adminKey string) (*Admin, error) {
	if adminKey == "" {
		return nil, errors.New("ADMIN_KEY is not set: an admin command needs the API's admin key")
	}
	var hdr http.Header
	if err := c.callHeader(ctx, http.MethodPost, "/admin/session", http.Header{"X-Admin-Key": {adminKey}}, nil, nil, &hdr); err != nil {
		return nil, err
	}
	for _, line := range hdr.Values("Set-Cookie") {
		if ck, err := http.ParseSetCookie(line); err == nil && ck.Name == adminCookie && ck.Value != "" {
			return &Admin{c: c, cookie: ck.Value}, nil
		}
	}
	return nil, errors.New("POST /admin/session: the answer set no admin session cookie")
}

// call sends an admin request with the session cookie.
func (a *Admin) call(ctx context.Context, method, path string, body any, out any) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return fmt.Errorf("%s %s: encode request: %w", method, path, err)
		}
	}
	return a.c.call(ctx, method, path, http.Header{"Cookie": {adminCookie + "=" + a.cookie}}, raw, out)
}

// Close revokes the session.
func (a *Admin) Close(ctx context.Context) error {
	return a.call(ctx, http.MethodDelete, "/admin/session", nil, nil)
}

// AccountUsage is an account's usage this month.
type AccountUsage struct {
	GPUSeconds      float64 `json:"gpu_seconds"`
	EstimatedCost   float64 `json:"estimated_cost"`
	LimitGPUSeconds float64 `json:"limit_gpu_seconds"`
	Fraction        float64 `json:"fraction"`
	Stopped         bool    `json:"stopped"`
}

// Account is a GPU worker account as the admin API shows it.
type Account struct {
	ID                     string       `json:"id"`
	Label                  string       `json:"label"`
	Lanes                  []string     `json:"lanes"`
	MonthlyLimitGPUSeconds float64      `json:"monthly_limit_gpu_seconds"`
	Status                 string       `json:"status"`
	StatusReason           string       `json:"status_reason"`
	StatusChangedAt        time.Time    `json:"status_changed_at"`
	Failures               int          `json:"failures"`
	LastSeenAt             *time.Time   `json:"last_seen_at,omitempty"`
	Usage                  AccountUsage `json:"usage"`
}

// NewAccount is the answer of CreateAccount: the account and its worker token, shown once.
type NewAccount struct {
	Account
	WorkerToken string `json:"worker_token"`
}

// AccountRequest is a new account.
type AccountRequest struct {
	Label string   `json:"label"`
	Lanes []string `json:"lanes"`
	// MonthlyLimitGPUSeconds: 0 is no limit.
	MonthlyLimitGPUSeconds float64 `json:"monthly_limit_gpu_seconds"`
}

// CreateAccount adds a GPU worker account.
func (a *Admin) CreateAccount(ctx context.Context, req AccountRequest) (*NewAccount, error) {
	var out NewAccount
	if err := a.call(ctx, http.MethodPost, "/admin/accounts", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Accounts lists the accounts, oldest first.
func (a *Admin) Accounts(ctx context.Context) ([]Account, error) {
	var out struct {
		Items []Account `json:"items"`
	}
	if err := a.call(ctx, http.MethodGet, "/admin/accounts", nil, &out); err != nil {
		return nil, err
	}
	return out.Items, nil
}

// DisableAccount disables an account; reason ("" for none) is recorded with it.
func (a *Admin) DisableAccount(ctx context.Context, id, reason string) (*Account, error) {
	var body any
	if reason != "" {
		body = map[string]string{"reason": reason}
	}
	var out Account
	if err := a.call(ctx, http.MethodPost, "/admin/accounts/"+url.PathEscape(id)+"/disable", body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// MaintenanceRun is a started or listed maintenance run.
type MaintenanceRun struct {
	Name       string          `json:"name"`
	WorkflowID string          `json:"workflow_id"`
	RunID      string          `json:"run_id"`
	UIURL      string          `json:"ui_url"`
	Status     string          `json:"status"`
	Joined     bool            `json:"joined"`
	Result     json.RawMessage `json:"result,omitempty"`
}

// StartMaintenance starts the maintenance called name (or joins its run in flight); body is
// its optional input (nil: the defaults).
func (a *Admin) StartMaintenance(ctx context.Context, name string, body map[string]any) (*MaintenanceRun, error) {
	var out MaintenanceRun
	var b any
	if body != nil {
		b = body
	}
	if err := a.call(ctx, http.MethodPost, "/admin/maintenance/"+url.PathEscape(name), b, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// WaitMaintenance polls the maintenance runs until run has ended and returns it with its
// status and (when completed) result.
func (a *Admin) WaitMaintenance(ctx context.Context, run *MaintenanceRun) (*MaintenanceRun, error) {
	tick := time.NewTicker(a.c.cfg.PollInterval)
	defer tick.Stop()
	for {
		var list struct {
			Items []MaintenanceRun `json:"items"`
		}
		if err := a.call(ctx, http.MethodGet, "/admin/maintenance?name="+url.QueryEscape(run.Name)+"&limit=50", nil, &list); err != nil {
			return nil, err
		}
		for _, it := range list.Items {
			if it.RunID == run.RunID && !strings.EqualFold(it.Status, "Running") {
				return &it, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}
