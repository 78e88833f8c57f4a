package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/settings"
	"github.com/gooni/gooni/workflows"
)

// Search attribute keys set on every generation workflow.
var (
	attrModel = temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrModel)
	attrType  = temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrType)
	attrLane  = temporal.NewSearchAttributeKeyKeyword(workflows.SearchAttrLane)
)

// generateResponse is the answer to POST /generate.
type generateResponse struct {
	TaskID string `json:"task_id"`
	Status string `json:"status"`
}

// generate validates a generation, stores its reference images, records the task and starts
// its workflow. Nothing is left behind when any step fails.
func (s *Server) generate(c *fiber.Ctx) error {
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	body := bytes.Clone(c.Body())
	if err := checkJSONObject(body); err != nil {
		return err
	}
	req, err := s.deps.Catalogue.Validate(body, s.cfg.Seed)
	if err != nil {
		var verr *settings.ValidationError
		if errors.As(err, &verr) {
			return validationError(verr)
		}
		return err
	}
	if key != "" {
		return s.generateOnce(c, key, body, req)
	}
	taskID, _, err := s.submit(c.UserContext(), req, nil)
	if err != nil {
		return err
	}
	return c.Status(http.StatusAccepted).JSON(generateResponse{TaskID: taskID, Status: store.StatusPending})
}

// submit refuses the submission when it could only wait in a full queue (queue_overloaded),
// else stores the inputs, records the task (with its idempotency key, when idem is set) and
// starts its workflow, undoing what it did when a later step fails. When another task holds the
// key, nothing is created and held is the key's record.
func (s *Server) submit(ctx context.Context, req *settings.Request, idem *idempotency) (taskID string, held *store.IdempotencyKey, err error) {
	if err := s.admit(ctx, req.Model); err != nil {
		return "", nil, err
	}
	taskID = uuid.NewString()
	inputs, refs, err := s.storeInputs(ctx, taskID, req)
	if err != nil {
		return "", nil, err
	}
	task := &store.Task{
		ID:             taskID,
		WorkflowID:     workflows.WorkflowID(taskID),
		Status:         store.StatusPending,
		Stage:          "queued",
		Lane:           req.Model.Runtime.Lane,
		Model:          req.Model.ID,
		Type:           req.Model.Type,
		Mode:           req.Mode,
		Prompt:         req.Prompt,
		NegativePrompt: req.NegativePrompt,
		Parameters:     req.Params,
		Inputs:         inputs,
		Width:          req.Width,
		Height:         req.Height,
		Seed:           req.Seed,
		OutputFormat:   outputFormat(req),
		ClientID:       clientFrom(ctx),
		MaxActive:      s.cfg.MaxActiveTasks,
	}
	held, err = s.createTask(ctx, task, idem)
	if err != nil || held != nil {
		s.deleteInputs(refs)
		if err != nil {
			return "", nil, fmt.Errorf("create task: %w", refuseActive(err))
		}
		return "", held, nil
	}
	if err := s.startWorkflow(ctx, task, req, refs); err != nil {
		s.cfg.Logger.Error("start workflow", "task_id", taskID, "err", err)
		// Deleting the task deletes its idempotency key too (on delete cascade), so a retry
		// with the key submits afresh instead of finding a task that is gone.
		if derr := s.deps.Store.DeleteTask(context.WithoutCancel(ctx), taskID); derr != nil {
			s.cfg.Logger.Error("undo task", "task_id", taskID, "err", derr)
		}
		s.deleteInputs(refs)
		return "", nil, errOrchestratorUnavailable("The generation could not be started.")
	}
	return taskID, nil, nil
}

// startWorkflow starts the task's GenerationWorkflow with the model's runtime rules.
func (s *Server) startWorkflow(ctx context.Context, task *store.Task, req *settings.Request, refs []workflows.InputRef) error {
	rt := req.Model.Runtime
	shared := s.deps.Catalogue.SharedLane()
	in := workflows.GenerationInput{
		TaskID: task.ID,
		Model:  task.Model,
		Type:   task.Type,
		Mode:   task.Mode,
		Runtime: workflows.Runtime{
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
		},
		Shared: workflows.SharedLane{
			TaskQueue: shared.TaskQueue,
			MaxDepth:  shared.MaxDepth,
			MaxWait:   shared.MaxWait,
		},
		Request: workflows.Request{
			Prompt:         req.Prompt,
			NegativePrompt: req.NegativePrompt,
			Width:          req.Width,
			Height:         req.Height,
			Seed:           req.Seed,
			OutputFormat:   task.OutputFormat,
			Params:         req.Params,
			Inputs:         refs,
		},
	}
	_, err := s.deps.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       task.WorkflowID,
		TaskQueue:                s.cfg.ControlQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			attrModel.ValueSet(task.Model), attrType.ValueSet(task.Type), attrLane.ValueSet(rt.Lane)),
	}, workflows.GenerationWorkflowName, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		// Task ids are fresh UUIDs: only this task's own earlier start (a replayed submission
		// that resumed it) can hold its workflow id.
		return nil
	}
	return err
}

// storeInputs stores each decoded reference image as an artifact before the workflow starts,
// so payloads carry keys, never bytes.
func (s *Server) storeInputs(ctx context.Context, taskID string, req *settings.Request) ([]store.InputRef, []workflows.InputRef, error) {
	inputs := make([]store.InputRef, 0, len(req.Images))
	refs := make([]workflows.InputRef, 0, len(req.Images))
	for i, img := range req.Images {
		key := path.Join("inputs", taskID, fmt.Sprintf("%02d-%s.%s", i, sanitizeField(img.Field), img.Ext))
		if _, err := s.deps.Artifacts.Put(ctx, key, bytes.NewReader(img.Data)); err != nil {
			s.deleteInputs(refs)
			return nil, nil, fmt.Errorf("store input %s: %w", img.Field, err)
		}
		inputs = append(inputs, store.InputRef{Field: img.Field, Key: key, MIME: img.MIME, FrameIndex: img.FrameIndex, Strength: img.Strength})
		refs = append(refs, workflows.InputRef{Field: img.Field, Key: key, MIME: img.MIME, FrameIndex: img.FrameIndex, Strength: img.Strength})
	}
	return inputs, refs, nil
}

// deleteInputs removes stored inputs of a submission that did not go through.
func (s *Server) deleteInputs(refs []workflows.InputRef) {
	for _, r := range refs {
		if err := s.deps.Artifacts.Delete(context.Background(), r.Key); err != nil {
			s.cfg.Logger.Error("undo input", "key", r.Key, "err", err)
		}
	}
}

// outputFormat is the effective output format of the request (from the catalogue's defaults).
func outputFormat(req *settings.Request) string {
	if f, ok := req.Params["output_format"].(string); ok {
		return f
	}
	return ""
}

// checkJSONObject answers 400 invalid_json unless body is one JSON object.
func checkJSONObject(body []byte) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil || obj == nil || dec.More() {
		return newError(http.StatusBadRequest, "invalid_json", "The request body is not a JSON object.",
			"Send a JSON object with Content-Type: application/json.")
	}
	return nil
}

// validationError answers 422 with every failing field in the metadata.
func validationError(verr *settings.ValidationError) *Error {
	fields := make([]map[string]string, 0, len(verr.Fields))
	for _, f := range verr.Fields {
		fields = append(fields, map[string]string{"field": f.Field, "message": f.Message})
	}
	detail := "The request is invalid."
	if len(verr.Fields) > 0 {
		detail = verr.Fields[0].Field + ": " + verr.Fields[0].Message
	}
	return newError(http.StatusUnprocessableEntity, "validation_error", detail,
		"Fix the fields listed in metadata.fields; GET /models lists each model's parameters.").
		withMetadata(map[string]any{"fields": fields})
}

// sanitizeField turns a request field such as "arbitrary_frames[0].image" into a file-name part.
func sanitizeField(f string) string {
	out := make([]rune, 0, len(f))
	for _, r := range f {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			out = append(out, r)
		default:
			out = append(out, '-')
		}
	}
	return string(out)
}
