package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowservice "go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/gooni/gooni/settings"
	"github.com/gooni/gooni/workflows"
)

// DefaultTemporalUIURL is where admin answers link runs when Config.TemporalUIURL is unset: the
// dev server's Web UI.
const DefaultTemporalUIURL = "http://127.0.0.1:8233"

// maintenanceRequest is the optional body of POST /admin/maintenance/{name}.
type maintenanceRequest struct {
	// Models (warmup): the catalogue ids to warm; default every model.
	Models []string `json:"models"`
	// MinAgeSeconds (reconcile): only records unchanged for this long are checked; default 120.
	MinAgeSeconds int `json:"min_age_seconds"`
	// RetentionDays (audit-retention): audit rows older than this are deleted; default 90.
	RetentionDays int `json:"retention_days"`
	// SilentAfterSeconds (health-sweep): a ready account whose worker sent no heartbeat for this
	// long is failed; default the control worker's GOONI_ACCOUNT_SILENT_AFTER (15).
	SilentAfterSeconds int `json:"silent_after_seconds"`
}

// maintenanceRun is a started (or joined) maintenance run and an item of GET /admin/maintenance.
type maintenanceRun struct {
	Name       string     `json:"name"`
	WorkflowID string     `json:"workflow_id"`
	RunID      string     `json:"run_id"`
	UIURL      string     `json:"ui_url"`
	Status     string     `json:"status,omitempty"`
	Joined     bool       `json:"joined,omitempty"`
	StartTime  *time.Time `json:"start_time,omitempty"`
	CloseTime  *time.Time `json:"close_time,omitempty"`
	// Result is the workflow's result (counts, per-model outcomes) once it completed.
	Result json.RawMessage `json:"result,omitempty"`
}

// startMaintenance is POST /admin/maintenance/{name}: it starts the maintenance workflow, or
// joins the run of the same name in flight (one on-demand run per name at a time), and answers
// 202 with its ids and Web UI link.
func (s *Server) startMaintenance(c *fiber.Ctx) error {
	name := strings.Clone(c.Params("name"))
	s.audit(c, "maintenance.start", name, nil)
	wfType := workflows.MaintenanceWorkflow(name)
	if wfType == "" {
		return newError(http.StatusNotFound, "maintenance_not_found", "No maintenance has this name.",
			"Use one of: "+strings.Join(workflows.MaintenanceNames(), ", ")+".").
			withMetadata(map[string]any{"names": workflows.MaintenanceNames()})
	}
	var req maintenanceRequest
	if body := bytes.TrimSpace(c.Body()); len(body) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return newError(http.StatusBadRequest, "invalid_json", "The request body is not a valid maintenance request.",
				"Send an empty body, or {\"models\": [...]} (warmup), {\"min_age_seconds\": n} (reconcile), {\"retention_days\": n} (audit-retention), {\"silent_after_seconds\": n} (health-sweep).")
		}
	}
	input, err := s.maintenanceInput(name, req)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	id := s.cfg.MaintenanceIDPrefix + workflows.MaintenanceWorkflowID(name)
	run, err := s.runningMaintenance(ctx, name, id)
	if err != nil {
		return err
	}
	if run == nil {
		wr, err := s.deps.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID:                       id,
			TaskQueue:                s.cfg.ControlQueue,
			WorkflowRunTimeout:       workflows.MaintenanceRunTimeout(name),
			WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		}, wfType, input)
		if err != nil {
			s.cfg.Logger.Error("start maintenance", "name", name, "err", err)
			return errOrchestratorUnavailable("The maintenance workflow could not be started.")
		}
		run = &maintenanceRun{Name: name, WorkflowID: wr.GetID(), RunID: wr.GetRunID(), Status: "Running"}
	}
	run.UIURL = s.runURL(run.WorkflowID, run.RunID)
	s.audit(c, "", "", map[string]any{"workflow_id": run.WorkflowID, "run_id": run.RunID, "joined": run.Joined})
	return c.Status(http.StatusAccepted).JSON(run)
}

// runningMaintenance returns the on-demand run of name in flight, or nil.
func (s *Server) runningMaintenance(ctx context.Context, name, id string) (*maintenanceRun, error) {
	desc, err := s.deps.Temporal.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil, nil
	}
	if err != nil {
		s.cfg.Logger.Error("describe maintenance", "workflow_id", id, "err", err)
		return nil, errOrchestratorUnavailable("Temporal could not be asked about the maintenance workflow.")
	}
	info := desc.GetWorkflowExecutionInfo()
	if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return nil, nil
	}
	return &maintenanceRun{Name: name, WorkflowID: id, RunID: info.GetExecution().GetRunId(), Status: "Running", Joined: true}, nil
}

// maintenanceInput builds the workflow input of the maintenance called name from req.
func (s *Server) maintenanceInput(name string, req maintenanceRequest) (any, error) {
	var fields []settings.FieldError
	bad := func(field, msg string) { fields = append(fields, settings.FieldError{Field: field, Message: msg}) }
	if len(req.Models) > 0 && name != workflows.MaintenanceWarmup {
		bad("models", "only warmup takes models")
	}
	if req.MinAgeSeconds != 0 && name != workflows.MaintenanceReconcile {
		bad("min_age_seconds", "only reconcile takes min_age_seconds")
	}
	if req.RetentionDays != 0 && name != workflows.MaintenanceAuditRetention {
		bad("retention_days", "only audit-retention takes retention_days")
	}
	if req.SilentAfterSeconds != 0 && name != workflows.MaintenanceHealthSweep {
		bad("silent_after_seconds", "only health-sweep takes silent_after_seconds")
	}
	if req.SilentAfterSeconds < 0 || req.SilentAfterSeconds > 86400 {
		bad("silent_after_seconds", "use a number of seconds from 1 to 86400")
	}
	if req.MinAgeSeconds < 0 {
		bad("min_age_seconds", "use a number of seconds, 0 or more")
	}
	if req.RetentionDays < 0 || req.RetentionDays > 3650 {
		bad("retention_days", "use a number of days from 1 to 3650")
	}
	var input any
	switch name {
	case workflows.MaintenanceCleanup:
		input = workflows.CleanupInput{}
	case workflows.MaintenanceReconcile:
		input = workflows.ReconcileInput{MinAge: time.Duration(req.MinAgeSeconds) * time.Second}
	case workflows.MaintenanceAuditRetention:
		input = workflows.AuditRetentionInput{Retention: time.Duration(req.RetentionDays) * 24 * time.Hour}
	case workflows.MaintenanceRotateKeys:
		input = workflows.RotateKeysInput{}
	case workflows.MaintenanceHealthSweep:
		input = workflows.HealthSweepInput{SilentAfter: time.Duration(req.SilentAfterSeconds) * time.Second}
	case workflows.MaintenanceWarmup:
		targets, problems := s.warmupTargets(req.Models)
		fields = append(fields, problems...)
		input = workflows.WarmupInput{Targets: targets}
	}
	if len(fields) > 0 {
		return nil, validationError(&settings.ValidationError{Fields: fields})
	}
	return input, nil
}

// warmupTargets validates each model's catalogue warm-up request (every model when ids is
// empty) and turns it into a warm-up target.
func (s *Server) warmupTargets(ids []string) ([]workflows.WarmupTarget, []settings.FieldError) {
	cat := s.deps.Catalogue
	if len(ids) == 0 {
		ids = cat.IDs()
	}
	var fields []settings.FieldError
	targets := make([]workflows.WarmupTarget, 0, len(ids))
	for i, id := range ids {
		m, ok := cat.Model(id)
		if !ok {
			fields = append(fields, settings.FieldError{Field: "models[" + strconv.Itoa(i) + "]",
				Message: fmt.Sprintf("unknown model %q (known: %s)", id, strings.Join(cat.IDs(), ", "))})
			continue
		}
		body := maps.Clone(m.Runtime.Warmup)
		if body == nil {
			body = map[string]any{}
		}
		body["model"] = m.ID
		raw, err := json.Marshal(body)
		if err != nil {
			fields = append(fields, settings.FieldError{Field: "models[" + strconv.Itoa(i) + "]", Message: "the warm-up request cannot be encoded"})
			continue
		}
		req, err := cat.Validate(raw, func() int64 { return 0 })
		if err != nil {
			// The catalogue validates warm-ups at load, so this means the file changed meaning.
			fields = append(fields, settings.FieldError{Field: "models[" + strconv.Itoa(i) + "]", Message: "the model's warm-up request is invalid: " + err.Error()})
			continue
		}
		targets = append(targets, workflows.WarmupTarget{
			Model: m.ID, Type: m.Type, Mode: req.Mode, Runtime: workflowRuntime(m.Runtime),
			Request: workflows.Request{Prompt: req.Prompt, NegativePrompt: req.NegativePrompt, Width: req.Width,
				Height: req.Height, Seed: req.Seed, OutputFormat: outputFormat(req), Params: req.Params},
		})
	}
	return targets, fields
}

// workflowRuntime copies a model's runtime rules into the workflow contract.
func workflowRuntime(rt settings.Runtime) workflows.Runtime {
	return workflows.Runtime{
		Lane:            rt.Lane,
		ScheduleToStart: rt.ScheduleToStart,
		StartToClose:    rt.StartToClose,
		Heartbeat:       rt.Heartbeat,
		Retry: workflows.RetryPolicy{
			MaxAttempts:        int32(rt.Retry.MaxAttempts),
			InitialInterval:    rt.Retry.InitialInterval,
			BackoffCoefficient: rt.Retry.BackoffCoefficient,
			MaxInterval:        rt.Retry.MaxInterval,
			NonRetryableCodes:  rt.Retry.NonRetryableCodes,
		},
	}
}

// maintenanceListResponse is GET /admin/maintenance.
type maintenanceListResponse struct {
	Items []maintenanceRun `json:"items"`
}

// maxMaintenanceList bounds GET /admin/maintenance (each completed run's result is one more
// call to Temporal).
const maxMaintenanceList = 50

// listMaintenance is GET /admin/maintenance: the newest maintenance runs, on demand and
// scheduled, with status and (when completed) result; ?name= filters, ?limit= (1..50, default
// 20) bounds.
func (s *Server) listMaintenance(c *fiber.Ctx) error {
	s.audit(c, "maintenance.list", "", nil)
	names := workflows.MaintenanceNames()
	if n := c.Query("name"); n != "" {
		if workflows.MaintenanceWorkflow(n) == "" {
			return validationError(&settings.ValidationError{Fields: []settings.FieldError{{Field: "name",
				Message: "use one of: " + strings.Join(names, ", ")}}})
		}
		names = []string{n}
	}
	limit := 20
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxMaintenanceList {
			return validationError(&settings.ValidationError{Fields: []settings.FieldError{{Field: "limit",
				Message: "use a whole number from 1 to " + strconv.Itoa(maxMaintenanceList)}}})
		}
		limit = n
	}
	types := make([]string, 0, len(names))
	byType := map[string]string{}
	for _, n := range names {
		t := workflows.MaintenanceWorkflow(n)
		types = append(types, "'"+t+"'")
		byType[t] = n
	}
	ctx := c.UserContext()
	resp, err := s.deps.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: s.cfg.Namespace,
		PageSize:  int32(limit),
		Query: fmt.Sprintf("WorkflowType IN (%s) AND WorkflowId STARTS_WITH '%s'",
			strings.Join(types, ", "), s.cfg.MaintenanceIDPrefix+workflows.MaintenanceWorkflowIDPrefix),
	})
	if err != nil {
		s.cfg.Logger.Error("list maintenance", "err", err)
		return errOrchestratorUnavailable("Temporal could not list the maintenance runs.")
	}
	out := maintenanceListResponse{Items: []maintenanceRun{}}
	for _, e := range resp.GetExecutions() {
		if len(out.Items) == limit {
			break
		}
		run := maintenanceRun{
			Name:       byType[e.GetType().GetName()],
			WorkflowID: e.GetExecution().GetWorkflowId(),
			RunID:      e.GetExecution().GetRunId(),
			Status:     statusWord(e.GetStatus()),
		}
		run.UIURL = s.runURL(run.WorkflowID, run.RunID)
		if t := e.GetStartTime(); t != nil {
			st := t.AsTime()
			run.StartTime = &st
		}
		if t := e.GetCloseTime(); t != nil && e.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			ct := t.AsTime()
			run.CloseTime = &ct
		}
		if e.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			var res json.RawMessage
			if err := s.deps.Temporal.GetWorkflow(ctx, run.WorkflowID, run.RunID).Get(ctx, &res); err == nil {
				run.Result = res
			} else {
				s.cfg.Logger.Warn("maintenance result", "workflow_id", run.WorkflowID, "err", err)
			}
		}
		out.Items = append(out.Items, run)
	}
	slices.SortStableFunc(out.Items, func(a, b maintenanceRun) int {
		if a.StartTime == nil || b.StartTime == nil {
			return 0
		}
		return b.StartTime.Compare(*a.StartTime)
	})
	return c.JSON(out)
}

// runURL links a workflow run in the Temporal Web UI.
func (s *Server) runURL(workflowID, runID string) string {
	u := fmt.Sprintf("%s/namespaces/%s/workflows/%s", s.cfg.TemporalUIURL, url.PathEscape(s.cfg.Namespace), url.PathEscape(workflowID))
	if runID != "" {
		u += "/" + url.PathEscape(runID) + "/history"
	}
	return u
}

// statusWord names a workflow status as the Web UI does ("Running", "Completed", …).
func statusWord(st enumspb.WorkflowExecutionStatus) string {
	switch st {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return "Running"
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return "Completed"
	case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:
		return "Failed"
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		return "Canceled"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:
		return "Terminated"
	case enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		return "ContinuedAsNew"
	case enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
		return "TimedOut"
	}
	return "Unknown"
}
