package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/settings"
)

// The worker side of GPU worker accounts: a GPU worker started with GOONI_WORKER_TOKEN
// registers (POST /workers/register) and reports liveness, usage and failures (POST
// /workers/heartbeat), the token in the X-Worker-Token header. The answers say which lanes it
// may serve and whether it may take new work: not when its account is disabled, failed or at
// 90% of its monthly limit. A deleted account's token is refused (401 invalid_worker_token).

// workerHeartbeatEvery is how often a worker is asked to send a heartbeat.
const workerHeartbeatEvery = 5 * time.Second

// registerRequest is the body of POST /workers/register.
type registerRequest struct {
	Host           string            `json:"host"`
	GPUName        string            `json:"gpu_name"`
	GPUMemoryMB    int               `json:"gpu_memory_mb"`
	Lanes          []string          `json:"lanes"`
	RunnerVersions map[string]string `json:"runner_versions"`
}

// heartbeatRequest is the body of POST /workers/heartbeat.
type heartbeatRequest struct {
	// GPUSeconds is the GPU time used since the previous heartbeat.
	GPUSeconds float64 `json:"gpu_seconds"`
	// Failure reports an error of the account: permanent ones (auth, quota) disable it at
	// once, others count towards AccountMaxFailures and start a cooldown.
	Failure *struct {
		Permanent bool   `json:"permanent"`
		Reason    string `json:"reason"`
	} `json:"failure,omitempty"`
}

// workerAnswer tells a worker what it may do.
type workerAnswer struct {
	AccountID    string   `json:"account_id"`
	Status       string   `json:"status"`
	StatusReason string   `json:"status_reason"`
	Lanes        []string `json:"lanes"`
	// TakeWork is false when the worker must stop taking new work (finishing what it holds).
	TakeWork         bool    `json:"take_work"`
	UsageGPUSeconds  float64 `json:"usage_gpu_seconds"`
	HeartbeatSeconds int     `json:"heartbeat_seconds"`
}

func (s *Server) workerAnswer(a *store.Account, lanes []string) workerAnswer {
	stopped := a.MonthlyLimitGPUSeconds > 0 && a.UsageGPUSeconds >= usageStopFraction*a.MonthlyLimitGPUSeconds
	reason := a.StatusReason
	if stopped && a.Status == store.AccountReady {
		reason = "monthly limit 90% used: no new work until an admin resets the usage or the month ends"
	}
	return workerAnswer{AccountID: a.ID, Status: a.Status, StatusReason: reason, Lanes: lanes,
		TakeWork: a.Status == store.AccountReady && !stopped, UsageGPUSeconds: a.UsageGPUSeconds,
		HeartbeatSeconds: int(workerHeartbeatEvery / time.Second)}
}

// requireWorker checks X-Worker-Token and leaves the account in c.Locals.
func (s *Server) requireWorker(c *fiber.Ctx) error {
	if s.accountKeys == nil {
		return newError(http.StatusServiceUnavailable, "accounts_misconfigured",
			"GPU worker accounts are unavailable on this API: ACCOUNTS_ENCRYPT_KEY is unset or unreadable.",
			"An operator must set ACCOUNTS_ENCRYPT_KEY on the API; the worker retries.")
	}
	acc, ok, err := s.verifyWorkerToken(c, c.Get("X-Worker-Token"))
	if err != nil {
		return err
	}
	if !ok {
		return newError(http.StatusUnauthorized, "invalid_worker_token", "The worker token is missing, wrong, or its account was deleted.",
			"Set GOONI_WORKER_TOKEN to the token an admin got from POST /admin/accounts.")
	}
	c.Locals("gooni.worker_account", acc)
	return c.Next()
}

// decodeStrict decodes a JSON object body into v, refusing unknown fields.
func decodeStrict(body []byte, v any) error {
	if err := checkJSONObject(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return validationError(&settings.ValidationError{Fields: []settings.FieldError{{Field: "body", Message: "has an unknown field or a field of the wrong type"}}})
	}
	return nil
}

// registerWorker is POST /workers/register: the account becomes ready (from pending, or failed
// past its cooldown) and the answer lists the lanes the worker may serve: those it offers that
// its account allows (all the account's when it offers none).
func (s *Server) registerWorker(c *fiber.Ctx) error {
	acc := c.Locals("gooni.worker_account").(*store.Account)
	var req registerRequest
	if err := decodeStrict(c.Body(), &req); err != nil {
		return err
	}
	lanes := acc.Lanes
	if len(req.Lanes) > 0 {
		lanes = nil
		for _, l := range req.Lanes {
			if slices.Contains(acc.Lanes, l) && !slices.Contains(lanes, l) {
				lanes = append(lanes, l)
			}
		}
	}
	info := map[string]any{"host": trimTo(req.Host, 200), "gpu_name": trimTo(req.GPUName, 200), "gpu_memory_mb": req.GPUMemoryMB,
		"lanes": req.Lanes, "runner_versions": req.RunnerVersions, "registered_at": time.Now().UTC()}
	got, err := s.deps.Store.MarkAccountReady(c.UserContext(), acc.ID, info, "worker")
	if errors.Is(err, store.ErrConflict) {
		return s.refuseRegistration(c, acc.ID)
	}
	if err != nil {
		return accountErr(err)
	}
	return c.JSON(s.workerAnswer(got, lanes))
}

// refuseRegistration answers why an account cannot take a registration now.
func (s *Server) refuseRegistration(c *fiber.Ctx, id string) error {
	acc, err := s.deps.Store.GetAccount(c.UserContext(), id)
	if err != nil {
		return accountErr(err)
	}
	if acc.Status == store.AccountFailed && acc.CooldownUntil != nil {
		secs := max(1, int(math.Ceil(time.Until(*acc.CooldownUntil).Seconds())))
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
		return newError(http.StatusServiceUnavailable, "account_cooling_down", "The account failed recently and is cooling down: "+acc.StatusReason,
			"The worker registers again after Retry-After seconds.").withMetadata(map[string]any{"retry_after_seconds": secs})
	}
	return newError(http.StatusForbidden, "account_disabled", "The account is disabled: "+acc.StatusReason,
		"Ask an admin to enable the account (POST /admin/accounts/{id}/enable).")
}

// workerHeartbeat is POST /workers/heartbeat: records liveness, usage and a reported failure,
// and answers whether the worker may take new work.
func (s *Server) workerHeartbeat(c *fiber.Ctx) error {
	acc := c.Locals("gooni.worker_account").(*store.Account)
	var req heartbeatRequest
	if len(bytes.TrimSpace(c.Body())) > 0 {
		if err := decodeStrict(c.Body(), &req); err != nil {
			return err
		}
	}
	if req.GPUSeconds < 0 || math.IsNaN(req.GPUSeconds) || math.IsInf(req.GPUSeconds, 0) || req.GPUSeconds > 86400 {
		return validationError(&settings.ValidationError{Fields: []settings.FieldError{{Field: "gpu_seconds", Message: "must be from 0 to 86400"}}})
	}
	ctx := c.UserContext()
	if _, err := s.deps.Store.AddAccountUsage(ctx, acc.ID, req.GPUSeconds); err != nil {
		return accountErr(err)
	}
	if f := req.Failure; f != nil {
		reason := trimTo(strings.TrimSpace(f.Reason), 500)
		if reason == "" {
			reason = "worker reported a failure"
		}
		if _, err := s.deps.Store.RecordAccountFailure(ctx, acc.ID, store.AccountFailure{
			Permanent: f.Permanent, Reason: reason, Cooldown: s.cfg.AccountCooldown, MaxFailures: s.cfg.AccountMaxFailures,
		}, "worker"); err != nil {
			return accountErr(err)
		}
	}
	got, err := s.deps.Store.GetAccount(ctx, acc.ID)
	if err != nil {
		return accountErr(err)
	}
	if got.Status == store.AccountFailed && req.Failure == nil && got.CooldownUntil != nil && time.Now().After(*got.CooldownUntil) {
		// Cooled down and alive again: serve again.
		if got, err = s.deps.Store.MarkAccountReady(ctx, acc.ID, got.WorkerInfo, "worker"); err != nil {
			return accountErr(err)
		}
	}
	return c.JSON(s.workerAnswer(got, got.Lanes))
}

func trimTo(s string, n int) string {
	if len(s) > n {
		return strings.ToValidUTF8(s[:n], "")
	}
	return s
}
