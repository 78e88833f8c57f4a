package api

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/settings"
)

// GPU worker accounts (admin routes behind requireAdmin and requireAccounts). Creating one
// answers its worker token once: "<account id>.<secret>", the secret 256 random bits in
// base64url. PostgreSQL holds the secret only encrypted with Fernet under the newest
// ACCOUNTS_ENCRYPT_KEY key (internal/secret); a worker's token is checked by decrypting it and
// comparing in constant time.

// usageStopFraction is the share of the monthly limit at which an account's workers stop
// taking new work.
const usageStopFraction = 0.9

// accountRequest is the body of POST /admin/accounts.
type accountRequest struct {
	Label string   `json:"label"`
	Lanes []string `json:"lanes"`
	// MonthlyLimitGPUSeconds is the account's GPU-seconds per calendar month (UTC); 0: no limit.
	MonthlyLimitGPUSeconds float64 `json:"monthly_limit_gpu_seconds"`
}

// accountResponse is an account with its usage; it never carries the secret.
type accountResponse struct {
	*store.Account
	Usage accountUsage `json:"usage"`
}

// accountUsage is an account's usage this month.
type accountUsage struct {
	GPUSeconds    float64 `json:"gpu_seconds"`
	EstimatedCost float64 `json:"estimated_cost"`
	// LimitGPUSeconds is the monthly limit (0: none); Fraction the share of it used.
	LimitGPUSeconds float64 `json:"limit_gpu_seconds"`
	Fraction        float64 `json:"fraction"`
	// Stopped is true from 90% of the limit: the account's workers take no new work.
	Stopped bool `json:"stopped"`
}

func (s *Server) accountResponse(a *store.Account) accountResponse {
	u := accountUsage{GPUSeconds: a.UsageGPUSeconds, EstimatedCost: a.UsageGPUSeconds * s.cfg.GPUSecondCost,
		LimitGPUSeconds: a.MonthlyLimitGPUSeconds}
	if a.MonthlyLimitGPUSeconds > 0 {
		u.Fraction = a.UsageGPUSeconds / a.MonthlyLimitGPUSeconds
		u.Stopped = u.Fraction >= usageStopFraction
	}
	return accountResponse{Account: a, Usage: u}
}

// requireAccounts answers 503 accounts_misconfigured when ACCOUNTS_ENCRYPT_KEY is unset or
// unreadable: no secret can be created or checked.
func (s *Server) requireAccounts(c *fiber.Ctx) error {
	if s.accountKeys == nil {
		return newError(http.StatusServiceUnavailable, "accounts_misconfigured",
			"GPU worker accounts are unavailable: ACCOUNTS_ENCRYPT_KEY is unset or not a list of Fernet keys.",
			"An operator must set ACCOUNTS_ENCRYPT_KEY to one or more Fernet keys, comma-separated, newest first (generate one with: openssl rand -base64 32 | tr '+/' '-_'), and restart the API.")
	}
	return c.Next()
}

// catalogueLanes returns every lane of the catalogue, the shared lane included.
func (s *Server) catalogueLanes() []string {
	var lanes []string
	for _, m := range s.deps.Catalogue.Models() {
		if !slices.Contains(lanes, m.Runtime.Lane) {
			lanes = append(lanes, m.Runtime.Lane)
		}
	}
	if sl := s.deps.Catalogue.SharedLane().TaskQueue; sl != "" && !slices.Contains(lanes, sl) {
		lanes = append(lanes, sl)
	}
	return lanes
}

// createAccount is POST /admin/accounts.
func (s *Server) createAccount(c *fiber.Ctx) error {
	s.audit(c, "accounts.create", "", nil)
	body := c.Body()
	if err := checkJSONObject(body); err != nil {
		return err
	}
	var req accountRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var fields []settings.FieldError
	bad := func(field, msg string) { fields = append(fields, settings.FieldError{Field: field, Message: msg}) }
	if err := dec.Decode(&req); err != nil {
		bad("body", "use {label, lanes, monthly_limit_gpu_seconds} with those types and no other fields")
		return validationError(&settings.ValidationError{Fields: fields})
	}
	req.Label = strings.TrimSpace(req.Label)
	if req.Label == "" || len(req.Label) > 200 {
		bad("label", "must be 1 to 200 characters")
	}
	known := s.catalogueLanes()
	if len(req.Lanes) == 0 {
		bad("lanes", fmt.Sprintf("name at least one lane: %s", strings.Join(known, ", ")))
	}
	var lanes []string
	for _, l := range req.Lanes {
		switch {
		case !slices.Contains(known, l):
			bad("lanes", fmt.Sprintf("%q is not a lane of the catalogue (known: %s)", l, strings.Join(known, ", ")))
		case !slices.Contains(lanes, l):
			lanes = append(lanes, l)
		}
	}
	if req.MonthlyLimitGPUSeconds < 0 {
		bad("monthly_limit_gpu_seconds", "must be 0 (no limit) or positive")
	}
	if len(fields) > 0 {
		return validationError(&settings.ValidationError{Fields: fields})
	}

	id := uuid.NewString()
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return fmt.Errorf("account secret: %w", err)
	}
	secretText := base64.RawURLEncoding.EncodeToString(raw[:])
	enc, err := s.accountKeys.Encrypt([]byte(secretText))
	if err != nil {
		return err
	}
	acc, err := s.deps.Store.CreateAccount(c.UserContext(), &store.Account{
		ID: id, Label: req.Label, Lanes: lanes, MonthlyLimitGPUSeconds: req.MonthlyLimitGPUSeconds, SecretEnc: enc,
	}, "admin")
	if err != nil {
		return err
	}
	s.audit(c, "", id, map[string]any{"label": req.Label, "lanes": lanes, "monthly_limit_gpu_seconds": req.MonthlyLimitGPUSeconds})
	return c.Status(http.StatusCreated).JSON(struct {
		accountResponse
		// WorkerToken is shown once: give it to the account's GPU workers as GOONI_WORKER_TOKEN.
		WorkerToken string `json:"worker_token"`
	}{s.accountResponse(acc), id + "." + secretText})
}

// listAccounts is GET /admin/accounts.
func (s *Server) listAccounts(c *fiber.Ctx) error {
	s.audit(c, "accounts.list", "", nil)
	accs, err := s.deps.Store.ListAccounts(c.UserContext())
	if err != nil {
		return err
	}
	items := make([]accountResponse, 0, len(accs))
	for _, a := range accs {
		items = append(items, s.accountResponse(a))
	}
	return c.JSON(fiber.Map{"items": items})
}

// accountID reads and audits the :id parameter (copied: Fiber reuses its buffers).
func (s *Server) accountID(c *fiber.Ctx, action string) (string, error) {
	id := strings.Clone(c.Params("id"))
	s.audit(c, action, id, nil)
	if _, err := uuid.Parse(id); err != nil {
		return "", errAccountNotFound()
	}
	return id, nil
}

// getAccount is GET /admin/accounts/{id}: the account, its usage and its status history.
func (s *Server) getAccount(c *fiber.Ctx) error {
	id, err := s.accountID(c, "accounts.get")
	if err != nil {
		return err
	}
	acc, err := s.deps.Store.GetAccount(c.UserContext(), id)
	if err != nil {
		return accountErr(err)
	}
	events, err := s.deps.Store.AccountEvents(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(struct {
		accountResponse
		Events []store.AccountEvent `json:"events"`
	}{s.accountResponse(acc), events})
}

// deleteAccount is DELETE /admin/accounts/{id}: its workers are refused from their next
// heartbeat.
func (s *Server) deleteAccount(c *fiber.Ctx) error {
	id, err := s.accountID(c, "accounts.delete")
	if err != nil {
		return err
	}
	if err := s.deps.Store.DeleteAccount(c.UserContext(), id, "deleted by an admin", "admin"); err != nil {
		return accountErr(err)
	}
	return c.SendStatus(http.StatusNoContent)
}

// statusRequest is the optional body of disable and enable: why.
type statusRequest struct {
	Reason string `json:"reason"`
}

// readReason reads the optional {reason} body, defaulting to def.
func readReason(c *fiber.Ctx, def string) (string, error) {
	var req statusRequest
	if len(bytes.TrimSpace(c.Body())) > 0 {
		if err := checkJSONObject(c.Body()); err != nil {
			return "", err
		}
		if err := json.Unmarshal(c.Body(), &req); err != nil {
			return "", validationError(&settings.ValidationError{Fields: []settings.FieldError{{Field: "reason", Message: "must be a string"}}})
		}
	}
	r := strings.TrimSpace(req.Reason)
	if len(r) > 500 {
		return "", validationError(&settings.ValidationError{Fields: []settings.FieldError{{Field: "reason", Message: "must be at most 500 characters"}}})
	}
	if r == "" {
		return def, nil
	}
	return def + ": " + r, nil
}

// disableAccount is POST /admin/accounts/{id}/disable ({reason} optional).
func (s *Server) disableAccount(c *fiber.Ctx) error {
	id, err := s.accountID(c, "accounts.disable")
	if err != nil {
		return err
	}
	reason, err := readReason(c, "disabled by an admin")
	if err != nil {
		return err
	}
	s.auditDetail(c, "reason", reason)
	acc, err := s.deps.Store.DisableAccount(c.UserContext(), id, reason, "admin")
	if err != nil {
		return accountErr(err)
	}
	return c.JSON(s.accountResponse(acc))
}

// enableAccount is POST /admin/accounts/{id}/enable: back to pending (ready at the next
// registration), failures cleared.
func (s *Server) enableAccount(c *fiber.Ctx) error {
	id, err := s.accountID(c, "accounts.enable")
	if err != nil {
		return err
	}
	reason, err := readReason(c, "enabled by an admin")
	if err != nil {
		return err
	}
	s.auditDetail(c, "reason", reason)
	acc, err := s.deps.Store.EnableAccount(c.UserContext(), id, reason, "admin")
	if err != nil {
		return accountErr(err)
	}
	return c.JSON(s.accountResponse(acc))
}

// resetAccountUsage is POST /admin/accounts/{id}/reset-usage: this month's usage back to 0.
func (s *Server) resetAccountUsage(c *fiber.Ctx) error {
	id, err := s.accountID(c, "accounts.reset_usage")
	if err != nil {
		return err
	}
	if err := s.deps.Store.ResetAccountUsage(c.UserContext(), id); err != nil {
		return accountErr(err)
	}
	acc, err := s.deps.Store.GetAccount(c.UserContext(), id)
	if err != nil {
		return accountErr(err)
	}
	return c.JSON(s.accountResponse(acc))
}

// verifyWorkerToken returns the account of a worker token "<id>.<secret>": ok false when the
// token is malformed, the account unknown, or the secret wrong. Errors are the store's.
func (s *Server) verifyWorkerToken(c *fiber.Ctx, token string) (*store.Account, bool, error) {
	id, presented, found := strings.Cut(token, ".")
	if !found || presented == "" {
		return nil, false, nil
	}
	if _, err := uuid.Parse(id); err != nil {
		return nil, false, nil
	}
	acc, err := s.deps.Store.GetAccount(c.UserContext(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	want, err := s.accountKeys.Decrypt(acc.SecretEnc)
	if err != nil {
		// Under a key no longer listed: the operator dropped a key before rotating.
		s.cfg.Logger.Error("worker account secret does not decrypt under ACCOUNTS_ENCRYPT_KEY (rotate before dropping a key)", "account_id", id)
		return nil, false, nil
	}
	if subtle.ConstantTimeCompare(want, []byte(presented)) != 1 {
		return nil, false, nil
	}
	return acc, true, nil
}

func errAccountNotFound() *Error {
	return newError(http.StatusNotFound, "account_not_found", "No GPU worker account has this id.",
		"List the accounts with GET /admin/accounts.")
}

// accountErr maps the store's not-found to account_not_found.
func accountErr(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return errAccountNotFound()
	}
	return err
}
