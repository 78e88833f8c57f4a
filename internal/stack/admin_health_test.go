package stack_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gooni/gooni/activities/maintenance"
	"github.com/gooni/gooni/api"
	"github.com/gooni/gooni/internal/artifact"
	"github.com/gooni/gooni/internal/stack"
	"github.com/gooni/gooni/workflows"
)

// getAccount reads GET /admin/accounts/{id} with its events.
func (e *env) getAccount(cookie, id string) account {
	e.t.Helper()
	code, body, _ := e.admin("GET", "/admin/accounts/"+id, nil, cookie)
	require.Equal(e.t, http.StatusOK, code, string(body))
	return decodeAccount(e.t, body)
}

// accountFailures reads the failures counter straight from the table.
func (e *env) accountFailures(id string) int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.store.Pool().QueryRow(context.Background(), `select failures from worker_accounts where id = $1`, id).Scan(&n))
	return n
}

// TestHealthSweepFailsSilentWorkersOnceAndRecoversThoseHeartbeatingAfterTheCooldown registers
// two accounts' workers, lets one go silent past GOONI_ACCOUNT_SILENT_AFTER (its last heartbeat
// moved back a minute), and runs health-sweep through the API: the silent account is failed
// with "worker silent since …" by the health-sweep actor, the live one stays ready, a pending
// one is left alone, a second sweep adds no failure, a heartbeat during the cooldown does not
// recover it, and once the cooldown has passed the sweep turns it ready again.
func TestHealthSweepFailsSilentWorkersOnceAndRecoversThoseHeartbeatingAfterTheCooldown(t *testing.T) {
	e, cookie := maintenanceSetup(t, envOptions{noGPUWorker: true, accountsKey: newKey(t),
		maintenance: func(m *maintenance.Config) { m.AccountCooldown = time.Hour }})
	ctx := context.Background()
	lanes := []string{e.lane("pony")}
	silent, alive, pending := e.createAccount(cookie, "silent", lanes, 0), e.createAccount(cookie, "alive", lanes, 0), e.createAccount(cookie, "pending", lanes, 0)
	for _, a := range []account{silent, alive} {
		code, ans, body := e.worker("/workers/register", a.WorkerToken, map[string]any{"host": a.Label})
		require.Equal(t, http.StatusOK, code, string(body))
		require.Equal(t, "ready", ans.Status)
	}
	_, err := e.store.Pool().Exec(ctx, `update worker_accounts set last_seen_at = now() - interval '1 minute' where id = $1`, silent.ID)
	require.NoError(t, err)

	var res workflows.HealthSweepResult
	e.runMaintenance(cookie, workflows.MaintenanceHealthSweep, nil, &res)
	require.Equal(t, 3, res.Checked)
	require.Equal(t, []string{silent.ID}, res.Silent)
	require.Empty(t, res.Recovered)
	got := e.getAccount(cookie, silent.ID)
	require.Equal(t, "failed", got.Status)
	require.True(t, strings.HasPrefix(got.StatusReason, "worker silent since "), got.StatusReason)
	last := got.Events[len(got.Events)-1]
	require.Equal(t, "health-sweep", last.Actor)
	require.Equal(t, "ready", last.From)
	require.Equal(t, "failed", last.To)
	require.Equal(t, "ready", e.getAccount(cookie, alive.ID).Status)
	require.Equal(t, "pending", e.getAccount(cookie, pending.ID).Status)

	e.runMaintenance(cookie, workflows.MaintenanceHealthSweep, nil, &res)
	require.Empty(t, res.Silent, "a failed account is not failed again")
	require.Equal(t, 1, e.accountFailures(silent.ID))

	// The worker comes back while the account cools down: it may not work, and the sweep waits.
	code, ans, body := e.worker("/workers/heartbeat", silent.WorkerToken, nil)
	require.Equal(t, http.StatusOK, code, string(body))
	require.False(t, ans.TakeWork)
	e.runMaintenance(cookie, workflows.MaintenanceHealthSweep, nil, &res)
	require.Empty(t, res.Recovered, "still cooling down")
	require.Equal(t, "failed", e.getAccount(cookie, silent.ID).Status)

	// The cooldown passes; the worker's recent heartbeat makes the sweep recover it.
	_, err = e.store.Pool().Exec(ctx, `update worker_accounts set cooldown_until = now() - interval '1 second' where id = $1`, silent.ID)
	require.NoError(t, err)
	e.runMaintenance(cookie, workflows.MaintenanceHealthSweep, nil, &res)
	require.Equal(t, []string{silent.ID}, res.Recovered)
	got = e.getAccount(cookie, silent.ID)
	require.Equal(t, "ready", got.Status)
	require.Equal(t, "worker heartbeating again after the cooldown", got.StatusReason)
	require.Equal(t, "health-sweep", got.Events[len(got.Events)-1].Actor)
}

// TestHealthSweepLeavesAFailedAccountWhoseWorkerStaysSilent: past its cooldown, a failed
// account is recovered only when its worker heartbeat since it failed.
func TestHealthSweepLeavesAFailedAccountWhoseWorkerStaysSilent(t *testing.T) {
	e, cookie := maintenanceSetup(t, envOptions{noGPUWorker: true, accountsKey: newKey(t),
		maintenance: func(m *maintenance.Config) { m.AccountCooldown = time.Millisecond }})
	a := e.createAccount(cookie, "gone", []string{e.lane("pony")}, 0)
	code, _, body := e.worker("/workers/register", a.WorkerToken, map[string]any{})
	require.Equal(t, http.StatusOK, code, string(body))
	var res workflows.HealthSweepResult
	// silent_after_seconds overrides the control worker's threshold for this run.
	_, err := e.store.Pool().Exec(context.Background(), `update worker_accounts set last_seen_at = now() - interval '3 seconds' where id = $1`, a.ID)
	require.NoError(t, err)
	e.runMaintenance(cookie, workflows.MaintenanceHealthSweep, map[string]any{"silent_after_seconds": 2}, &res)
	require.Equal(t, []string{a.ID}, res.Silent)
	e.runMaintenance(cookie, workflows.MaintenanceHealthSweep, nil, &res)
	require.Empty(t, res.Recovered, "no heartbeat since the failure")
	require.Equal(t, "failed", e.getAccount(cookie, a.ID).Status)

	code, body, _ = e.admin("POST", "/admin/maintenance/"+workflows.MaintenanceReconcile, map[string]any{"silent_after_seconds": 2}, cookie)
	require.Equal(t, http.StatusUnprocessableEntity, code, string(body))
	require.Contains(t, string(body), "only health-sweep takes silent_after_seconds")
}

func TestHealthSweepRunsOnAScheduleEveryMinute(t *testing.T) {
	t.Parallel()
	for _, s := range stack.MaintenanceSchedules() {
		if s.Name == workflows.MaintenanceHealthSweep {
			require.Equal(t, time.Minute, s.Every)
			require.Equal(t, workflows.HealthSweepInput{}, s.Input, "the control worker's GOONI_ACCOUNT_SILENT_AFTER applies")
			return
		}
	}
	t.Fatal("health-sweep has no schedule")
}

// adminHealth is the subset of GET /admin/health the tests read.
type adminHealth struct {
	Status  string `json:"status"`
	Storage struct {
		Postgres  struct{ Status string } `json:"postgres"`
		Artifacts struct{ Status string } `json:"artifacts"`
	} `json:"storage"`
	Temporal struct {
		Frontend  struct{ Status string } `json:"frontend"`
		Namespace struct{ Status string } `json:"namespace"`
	} `json:"temporal"`
	Accounts struct {
		Total    int            `json:"total"`
		ByStatus map[string]int `json:"by_status"`
	} `json:"accounts"`
	Lanes []struct {
		Lane     string `json:"lane"`
		Status   string `json:"status"`
		Pollers  int    `json:"pollers"`
		Pending  int    `json:"pending"`
		Accounts int    `json:"accounts"`
	} `json:"lanes"`
	Problems []string `json:"problems"`
}

func (e *env) adminHealth(cookie string) adminHealth {
	e.t.Helper()
	code, body, _ := e.admin("GET", "/admin/health", nil, cookie)
	require.Equal(e.t, http.StatusOK, code, string(body))
	var h adminHealth
	require.NoError(e.t, json.Unmarshal(body, &h), string(body))
	return h
}

// TestAdminHealthSummarisesStorageTemporalAccountsAndLanes: all well is ok with the account
// counts and the lanes; a task waiting on a lane no worker polls makes it degraded and says so;
// GET /admin/queues lists the ready account serving the lane.
func TestAdminHealthSummarisesStorageTemporalAccountsAndLanes(t *testing.T) {
	e, cookie := maintenanceSetup(t, envOptions{noGPUWorker: true, accountsKey: newKey(t)})
	pony := e.lane("pony")
	a := e.createAccount(cookie, "rig", []string{pony}, 0)
	e.createAccount(cookie, "spare", []string{pony}, 0)
	code, _, body := e.worker("/workers/register", a.WorkerToken, map[string]any{})
	require.Equal(t, http.StatusOK, code, string(body))

	h := e.adminHealth(cookie)
	require.Equal(t, "ok", h.Status, "%+v", h)
	require.Empty(t, h.Problems)
	require.Equal(t, "ok", h.Storage.Postgres.Status)
	require.Equal(t, "ok", h.Storage.Artifacts.Status)
	require.Equal(t, "ok", h.Temporal.Frontend.Status)
	require.Equal(t, "ok", h.Temporal.Namespace.Status)
	require.Equal(t, 2, h.Accounts.Total)
	require.Equal(t, map[string]int{"pending": 1, "ready": 1, "failed": 0, "disabled": 0}, h.Accounts.ByStatus)
	found := false
	for _, l := range h.Lanes {
		if l.Lane == pony {
			found = true
			require.Equal(t, 1, l.Accounts, "only the ready account serves")
		}
	}
	require.True(t, found, "lane %s listed: %+v", pony, h.Lanes)

	e.submitPony("nobody polls this lane")
	h = e.adminHealth(cookie)
	require.Equal(t, "degraded", h.Status)
	require.Contains(t, strings.Join(h.Problems, "\n"), "wait on lane "+pony+" but no worker polls it")
	for _, l := range h.Lanes {
		if l.Lane == pony {
			require.Equal(t, "no_worker", l.Status)
			require.Equal(t, 1, l.Pending)
		}
	}

	code, body, _ = e.admin("GET", "/admin/queues", nil, cookie)
	require.Equal(t, http.StatusOK, code, string(body))
	var q struct {
		Lanes []struct {
			Lane     string `json:"lane"`
			Accounts []struct {
				ID      string `json:"id"`
				Label   string `json:"label"`
				Stopped bool   `json:"stopped"`
			} `json:"accounts"`
		} `json:"lanes"`
	}
	require.NoError(t, json.Unmarshal(body, &q))
	for _, l := range q.Lanes {
		if l.Lane == pony {
			require.Len(t, l.Accounts, 1)
			require.Equal(t, a.ID, l.Accounts[0].ID)
			require.Equal(t, "rig", l.Accounts[0].Label)
		} else {
			require.Empty(t, l.Accounts, l.Lane)
		}
	}
}

// readOnlyArtifacts refuses every write.
type readOnlyArtifacts struct{ artifact.Store }

func (readOnlyArtifacts) Put(context.Context, string, io.Reader) (artifact.Info, error) {
	return artifact.Info{}, errors.New("read-only file system /secret/path")
}

// TestAdminHealthIsDegradedWhenTheArtifactStoreCannotBeWritten: still 200, the failing check
// named, its error text only in the log.
func TestAdminHealthIsDegradedWhenTheArtifactStoreCannotBeWritten(t *testing.T) {
	e, cookie := maintenanceSetup(t, envOptions{noGPUWorker: true})
	deps := e.apiDeps
	deps.Artifacts = readOnlyArtifacts{deps.Artifacts}
	srv, err := api.New(e.apiCfg, deps)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.App().Shutdown() })
	r := *e
	r.baseURL = "http://" + ln.Addr().String()

	code, body, _ := r.admin("GET", "/admin/health", nil, cookie)
	require.Equal(t, http.StatusOK, code, string(body))
	require.NotContains(t, string(body), "/secret/path")
	h := r.adminHealth(cookie)
	require.Equal(t, "degraded", h.Status)
	require.Equal(t, "failing", h.Storage.Artifacts.Status)
	require.Equal(t, "ok", h.Storage.Postgres.Status)
	require.Equal(t, []string{"The artifact store cannot be written."}, h.Problems)
	require.Contains(t, e.logs.String(), "/secret/path")
}
