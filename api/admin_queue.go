package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/converter"

	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/workflows"
)

// Queue diagnostics: GET /admin/queues (per lane: the workers polling it, per Temporal, and the
// tasks waiting on it, per PostgreSQL) and GET /admin/tasks/{task_id}/why (a live task's lane,
// its pending activity and a plain-language explanation of why it is still waiting).

// poller is one worker polling a lane.
type poller struct {
	Identity       string     `json:"identity"`
	LastAccessTime *time.Time `json:"last_access_time,omitempty"`
	RatePerSecond  float64    `json:"rate_per_second"`
}

// laneReport is one lane of GET /admin/queues.
type laneReport struct {
	Lane string `json:"lane"`
	// Kind is dedicated (a model's own lane), shared (the degraded lane) or unknown (tasks
	// name a lane the catalogue no longer has).
	Kind    string   `json:"kind"`
	Models  []string `json:"models"`
	Pollers []poller `json:"pollers"`
	// PollersError says Temporal could not be asked (pollers is then empty, not known empty).
	PollersError string `json:"pollers_error,omitempty"`
	Pending      int    `json:"pending"`
	Processing   int    `json:"processing"`
	// OldestPendingAgeSeconds is how long the oldest pending task has waited (0: none waits).
	OldestPendingAgeSeconds float64 `json:"oldest_pending_age_seconds"`
	// Depth and MaxDepth (shared lane only): tasks admitted and waiting, and the admission limit.
	Depth    *int `json:"depth,omitempty"`
	MaxDepth *int `json:"max_depth,omitempty"`
	// Accounts are the ready GPU worker accounts whose lanes include this one.
	Accounts []laneAccount `json:"accounts"`
}

// queuesResponse is GET /admin/queues.
type queuesResponse struct {
	Lanes []laneReport `json:"lanes"`
	At    time.Time    `json:"at"`
}

// queues is GET /admin/queues.
func (s *Server) queues(c *fiber.Ctx) error {
	s.audit(c, "queues.get", "", nil)
	lanes, now, err := s.laneReports(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(queuesResponse{Lanes: lanes, At: now.UTC()})
}

// laneReports describes every lane: the catalogue's, the shared one and any a live task names.
func (s *Server) laneReports(ctx context.Context) ([]laneReport, time.Time, error) {
	backlogs, err := s.deps.Store.LaneBacklogs(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	serving, err := s.servingAccounts(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	now := time.Now()
	var lanes []laneReport
	index := map[string]int{}
	add := func(lane, kind string) *laneReport {
		if i, ok := index[lane]; ok {
			return &lanes[i]
		}
		index[lane] = len(lanes)
		lanes = append(lanes, laneReport{Lane: lane, Kind: kind, Models: []string{}, Pollers: []poller{}, Accounts: []laneAccount{}})
		return &lanes[len(lanes)-1]
	}
	for _, m := range s.deps.Catalogue.Models() {
		r := add(m.Runtime.Lane, "dedicated")
		r.Models = append(r.Models, m.ID)
	}
	shared := s.deps.Catalogue.SharedLane()
	if shared.TaskQueue != "" {
		add(shared.TaskQueue, "shared")
		depth, err := s.deps.Store.SharedDepth(ctx)
		if err != nil {
			return nil, time.Time{}, err
		}
		r := &lanes[index[shared.TaskQueue]]
		r.Depth, r.MaxDepth = &depth, &shared.MaxDepth
	}
	for _, b := range backlogs {
		r := add(b.Lane, "unknown")
		r.Pending, r.Processing = b.Pending, b.Processing
		if b.OldestPending != nil {
			r.OldestPendingAgeSeconds = math.Round(now.Sub(*b.OldestPending).Seconds()*10) / 10
		}
	}
	for i := range lanes {
		if accs := serving[lanes[i].Lane]; accs != nil {
			lanes[i].Accounts = accs
		}
		ps, err := s.lanePollers(ctx, lanes[i].Lane)
		if err != nil {
			s.cfg.Logger.Warn("describe lane", "lane", lanes[i].Lane, "err", err)
			lanes[i].PollersError = "Temporal could not be asked about this lane."
			continue
		}
		lanes[i].Pollers = ps
	}
	return lanes, now, nil
}

// lanePollers asks Temporal which workers poll lane's activity task queue.
func (s *Server) lanePollers(ctx context.Context, lane string) ([]poller, error) {
	resp, err := s.deps.Temporal.DescribeTaskQueue(ctx, lane, enumspb.TASK_QUEUE_TYPE_ACTIVITY)
	if err != nil {
		return nil, err
	}
	out := make([]poller, 0, len(resp.GetPollers()))
	for _, p := range resp.GetPollers() {
		pl := poller{Identity: p.GetIdentity(), RatePerSecond: p.GetRatePerSecond()}
		if t := p.GetLastAccessTime(); t != nil {
			at := t.AsTime()
			pl.LastAccessTime = &at
		}
		out = append(out, pl)
	}
	return out, nil
}

// pendingActivity is the activity a live task's workflow waits on.
type pendingActivity struct {
	Type               string              `json:"type"`
	State              string              `json:"state"`
	Attempt            int32               `json:"attempt"`
	MaximumAttempts    int32               `json:"maximum_attempts"`
	ScheduledTime      *time.Time          `json:"scheduled_time,omitempty"`
	LastStartedTime    *time.Time          `json:"last_started_time,omitempty"`
	LastHeartbeatTime  *time.Time          `json:"last_heartbeat_time,omitempty"`
	Heartbeat          *workflows.Progress `json:"heartbeat,omitempty"`
	LastFailure        *lastError          `json:"last_failure,omitempty"`
	LastWorkerIdentity string              `json:"last_worker_identity,omitempty"`
}

// whyResponse is GET /admin/tasks/{task_id}/why.
type whyResponse struct {
	TaskID         string             `json:"task_id"`
	Status         string             `json:"status"`
	Model          string             `json:"model"`
	Lane           string             `json:"lane"`
	LaneMode       string             `json:"lane_mode"`
	WorkflowID     string             `json:"workflow_id"`
	WorkflowStatus string             `json:"workflow_status"`
	UIURL          string             `json:"ui_url"`
	LaneHasWorker  *bool              `json:"lane_has_worker,omitempty"`
	Pollers        []poller           `json:"pollers"`
	PendingAhead   int                `json:"pending_ahead"`
	Accounts       []laneAccountState `json:"accounts"`
	Activity       *pendingActivity   `json:"activity,omitempty"`
	// FallbackAt (dedicated lane, no worker) is when the task leaves for the shared lane;
	// GiveUpAt when it fails worker_start_timeout instead.
	FallbackAt  *time.Time `json:"fallback_at,omitempty"`
	GiveUpAt    *time.Time `json:"give_up_at,omitempty"`
	Explanation string     `json:"explanation"`
}

// whyTask is GET /admin/tasks/{task_id}/why.
func (s *Server) whyTask(c *fiber.Ctx) error {
	s.audit(c, "tasks.why", strings.Clone(c.Params("task_id")), nil)
	t, err := s.task(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	w := whyResponse{TaskID: t.ID, Status: t.Status, Model: t.Model, Lane: t.Lane, LaneMode: t.LaneMode,
		WorkflowID: t.WorkflowID, UIURL: s.runURL(t.WorkflowID, ""), Pollers: []poller{}}
	if store.IsTerminal(t.Status) {
		w.Explanation = fmt.Sprintf("The task is %s: nothing is waiting.", t.Status)
		return c.JSON(w)
	}
	if ps, err := s.lanePollers(ctx, t.Lane); err == nil {
		w.Pollers = ps
		has := len(ps) > 0
		w.LaneHasWorker = &has
	} else {
		s.cfg.Logger.Warn("describe lane", "lane", t.Lane, "err", err)
	}
	if w.PendingAhead, err = s.deps.Store.PendingAhead(ctx, t.Lane, t.CreatedAt); err != nil {
		return err
	}
	if w.Accounts, err = s.laneAccounts(ctx, t.Lane); err != nil {
		return err
	}
	desc, err := s.deps.Temporal.DescribeWorkflowExecution(ctx, t.WorkflowID, "")
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		w.WorkflowStatus = "NotFound"
		w.Explanation = "The task has no workflow: it was never started or was removed, so it can never run. " +
			"The reconcile maintenance (POST /admin/maintenance/reconcile) fails such records."
		return c.JSON(w)
	case err != nil:
		s.cfg.Logger.Error("describe task workflow", "task_id", t.ID, "err", err)
		return errOrchestratorUnavailable("Temporal could not be asked about the task's workflow.")
	}
	info := desc.GetWorkflowExecutionInfo()
	w.WorkflowStatus = statusWord(info.GetStatus())
	w.UIURL = s.runURL(t.WorkflowID, info.GetExecution().GetRunId())
	if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		w.Explanation = fmt.Sprintf("The task's workflow is %s but its record still says %s: the record missed the outcome. "+
			"The reconcile maintenance (POST /admin/maintenance/reconcile) repairs it.", strings.ToLower(w.WorkflowStatus), t.Status)
		return c.JSON(w)
	}
	var pa *workflowpb.PendingActivityInfo
	for _, p := range desc.GetPendingActivities() {
		if pa == nil || p.GetActivityType().GetName() == workflows.RunGenerationActivity {
			pa = p
		}
	}
	if pa == nil {
		w.Explanation = "The workflow is between steps (choosing a lane or recording the task's state); ask again in a moment."
		return c.JSON(w)
	}
	w.Activity = describeActivity(pa)
	w.Explanation = s.explain(t, &w, pa)
	if w.LaneHasWorker != nil && !*w.LaneHasWorker {
		w.Explanation += accountsSentence(t.Lane, w.Accounts)
	}
	return c.JSON(w)
}

// describeActivity shapes Temporal's pending activity for the answer.
func describeActivity(pa *workflowpb.PendingActivityInfo) *pendingActivity {
	a := &pendingActivity{
		Type:               pa.GetActivityType().GetName(),
		State:              strings.ToLower(strings.TrimPrefix(pa.GetState().String(), "PENDING_ACTIVITY_STATE_")),
		Attempt:            pa.GetAttempt(),
		MaximumAttempts:    pa.GetMaximumAttempts(),
		LastWorkerIdentity: pa.GetLastWorkerIdentity(),
	}
	if t := pa.GetScheduledTime(); t != nil {
		at := t.AsTime()
		a.ScheduledTime = &at
	}
	if t := pa.GetLastStartedTime(); t != nil {
		at := t.AsTime()
		a.LastStartedTime = &at
	}
	if t := pa.GetLastHeartbeatTime(); t != nil {
		at := t.AsTime()
		a.LastHeartbeatTime = &at
	}
	if d := pa.GetHeartbeatDetails(); d != nil && len(d.GetPayloads()) > 0 {
		var p workflows.Progress
		if err := converter.GetDefaultDataConverter().FromPayloads(d, &p); err == nil {
			a.Heartbeat = &p
		}
	}
	if f := pa.GetLastFailure(); f != nil {
		code := f.GetApplicationFailureInfo().GetType()
		if code == "" && f.GetTimeoutFailureInfo() != nil {
			code = strings.ToLower(f.GetTimeoutFailureInfo().GetTimeoutType().String())
		}
		a.LastFailure = &lastError{Code: code, Message: f.GetMessage()}
	}
	return a
}

// explain says in plain words why a live task with pending activity pa is where it is.
func (s *Server) explain(t *store.Task, w *whyResponse, pa *workflowpb.PendingActivityInfo) string {
	a := w.Activity
	if a.Type != workflows.RunGenerationActivity {
		return fmt.Sprintf("The generation has ended; the workflow is recording the outcome (%s, attempt %d).", a.Type, a.Attempt)
	}
	retry := ""
	if a.Attempt > 1 && a.LastFailure != nil {
		retry = fmt.Sprintf("Retrying after %s, attempt %d of %s. ", a.LastFailure.Code, a.Attempt, attemptsWord(a.MaximumAttempts))
	}
	if pa.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED {
		who := "A worker"
		if a.LastWorkerIdentity != "" {
			who = "A worker (" + a.LastWorkerIdentity + ")"
		}
		progress := ""
		if hb := a.Heartbeat; hb != nil {
			switch {
			case hb.Total > 0:
				progress = fmt.Sprintf(": %s step %d/%d (%.0f%%)", hb.Stage, hb.Step, hb.Total, hb.Progress)
			case hb.Stage != "":
				progress = fmt.Sprintf(": %s (%.0f%%)", hb.Stage, hb.Progress)
			}
		}
		return retry + who + " is running it" + progress + "."
	}
	lane := t.Lane
	if w.LaneHasWorker == nil {
		return retry + fmt.Sprintf("It waits for a worker of lane %s (Temporal could not say whether any polls it).", lane)
	}
	if *w.LaneHasWorker {
		return retry + fmt.Sprintf("%d worker(s) poll lane %s but none is free yet; %d task(s) wait ahead of it.",
			len(w.Pollers), lane, w.PendingAhead)
	}
	shared := s.deps.Catalogue.SharedLane()
	scheduled := time.Now()
	if a.ScheduledTime != nil {
		scheduled = *a.ScheduledTime
	}
	if t.LaneMode == store.LaneModeShared || (shared.TaskQueue != "" && lane == shared.TaskQueue) {
		at := scheduled.Add(shared.MaxWait).UTC()
		w.GiveUpAt = &at
		return retry + fmt.Sprintf("No worker serves the shared lane %s; the task fails with worker_start_timeout at %s unless one starts.",
			lane, at.Format(time.RFC3339))
	}
	var limit time.Duration
	if m, ok := s.deps.Catalogue.Model(t.Model); ok {
		limit = m.Runtime.ScheduleToStart
	}
	at := scheduled.Add(limit).UTC()
	if shared.TaskQueue != "" {
		w.FallbackAt = &at
		return retry + fmt.Sprintf("No worker serves lane %s; the task will fall back to the shared lane %s at %s.",
			lane, shared.TaskQueue, at.Format(time.RFC3339))
	}
	w.GiveUpAt = &at
	return retry + fmt.Sprintf("No worker serves lane %s; the task fails with worker_start_timeout at %s unless one starts.",
		lane, at.Format(time.RFC3339))
}

// attemptsWord is "3", or "unlimited" for 0.
func attemptsWord(n int32) string {
	if n <= 0 {
		return "unlimited"
	}
	return fmt.Sprint(n)
}

// laneAccountState is a worker account allowed on a lane, whatever its status.
type laneAccountState struct {
	ID           string `json:"id"`
	Label        string `json:"label"`
	Status       string `json:"status"`
	StatusReason string `json:"status_reason"`
	Stopped      bool   `json:"stopped"`
}

// laneAccounts lists the accounts allowed to serve lane (none when accounts are not in use).
func (s *Server) laneAccounts(ctx context.Context, lane string) ([]laneAccountState, error) {
	out := []laneAccountState{}
	accs, err := s.deps.Store.ListAccounts(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range accs {
		if !slices.Contains(a.Lanes, lane) {
			continue
		}
		out = append(out, laneAccountState{ID: a.ID, Label: a.Label, Status: a.Status, StatusReason: a.StatusReason,
			Stopped: s.accountResponse(a).Usage.Stopped})
	}
	return out, nil
}

// accountsSentence explains, for a lane no worker polls, what its accounts are doing.
func accountsSentence(lane string, accs []laneAccountState) string {
	if len(accs) == 0 {
		return ""
	}
	var parts []string
	for _, a := range accs {
		switch {
		case a.Status == store.AccountReady && a.Stopped:
			parts = append(parts, fmt.Sprintf("%s has used 90%% of its monthly limit", a.Label))
		case a.Status == store.AccountReady:
			parts = append(parts, fmt.Sprintf("%s is ready but its worker is not polling", a.Label))
		case a.StatusReason != "":
			parts = append(parts, fmt.Sprintf("%s is %s (%s)", a.Label, a.Status, a.StatusReason))
		default:
			parts = append(parts, fmt.Sprintf("%s is %s", a.Label, a.Status))
		}
	}
	return fmt.Sprintf(" Accounts allowed on lane %s: %s.", lane, strings.Join(parts, "; "))
}
