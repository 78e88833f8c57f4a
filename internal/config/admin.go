package config

import (
	"fmt"
	"strconv"
	"time"
)

// Admin is the admin API's and GPU worker accounts' settings (ADMIN_KEY and
// ACCOUNTS_ENCRYPT_KEY are Config.AdminKey and Config.AccountsEncryptKey).
type Admin struct {
	// IdleTimeout (GOONI_ADMIN_IDLE_TIMEOUT), default 12h: an admin session ends after this
	// long without a request (sliding).
	IdleTimeout time.Duration
	// AuthPerMinute, ReadPerMinute, WritePerMinute (GOONI_ADMIN_RATE_AUTH_PER_MIN, _READ_,
	// _WRITE_), defaults 20, 60, 30: admin requests per client IP and minute (bootstraps, GET,
	// other methods). A failed bootstrap counts twice.
	AuthPerMinute, ReadPerMinute, WritePerMinute int
	// GPUSecondCost (GOONI_GPU_SECOND_COST), default 0: the estimated cost of one GPU-second,
	// for account usage.
	GPUSecondCost float64
	// AccountCooldown (GOONI_ACCOUNT_COOLDOWN), default 300s: how long a failed account waits
	// before it may serve again.
	AccountCooldown time.Duration
	// AccountMaxFailures (GOONI_ACCOUNT_MAX_FAILURES), default 6: the failure that disables an
	// account.
	AccountMaxFailures int
	// AccountSilentAfter (GOONI_ACCOUNT_SILENT_AFTER), default 15s (three missed 5 s
	// heartbeats): the control worker's health sweep fails a ready account whose worker sent no
	// heartbeat for this long.
	AccountSilentAfter time.Duration
}

// Admin defaults.
const (
	DefaultAdminIdleTimeout    = 12 * time.Hour
	DefaultAdminAuthPerMinute  = 20
	DefaultAdminReadPerMinute  = 60
	DefaultAdminWritePerMinute = 30
	DefaultAccountCooldown     = 300 * time.Second
	DefaultAccountMaxFailures  = 6
	DefaultAccountSilentAfter  = 15 * time.Second
)

// readAdmin reads the admin settings, appending every problem to errs.
func readAdmin(getenv func(string) string, errs *[]error) Admin {
	a := Admin{
		IdleTimeout:        duration(getenv, "GOONI_ADMIN_IDLE_TIMEOUT", DefaultAdminIdleTimeout, errs),
		AuthPerMinute:      positive(getenv, "GOONI_ADMIN_RATE_AUTH_PER_MIN", DefaultAdminAuthPerMinute, errs),
		ReadPerMinute:      positive(getenv, "GOONI_ADMIN_RATE_READ_PER_MIN", DefaultAdminReadPerMinute, errs),
		WritePerMinute:     positive(getenv, "GOONI_ADMIN_RATE_WRITE_PER_MIN", DefaultAdminWritePerMinute, errs),
		AccountCooldown:    duration(getenv, "GOONI_ACCOUNT_COOLDOWN", DefaultAccountCooldown, errs),
		AccountMaxFailures: positive(getenv, "GOONI_ACCOUNT_MAX_FAILURES", DefaultAccountMaxFailures, errs),
		AccountSilentAfter: duration(getenv, "GOONI_ACCOUNT_SILENT_AFTER", DefaultAccountSilentAfter, errs),
	}
	if v := getenv("GOONI_GPU_SECOND_COST"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 {
			*errs = append(*errs, fmt.Errorf("GOONI_GPU_SECOND_COST=%q is not a non-negative number (for example 0.00025)", v))
		} else {
			a.GPUSecondCost = f
		}
	}
	return a
}
