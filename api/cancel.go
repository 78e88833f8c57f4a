package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gofiber/fiber/v2"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/gooni/gooni/internal/store"
)

// statusCancelling is the answer to a cancel whose workflow is still stopping the run.
const statusCancelling = "cancelling"

// cancelResponse is the answer to DELETE /tasks/{task_id} and POST /tasks/{task_id}/cancel.
type cancelResponse struct {
	TaskID string `json:"task_id"`
	Status string `json:"status"`
}

// cancel asks the task's workflow to stop: 202 {status: "cancelling"} while the workflow
// cancels the GPU activity and records the task cancelled. When the workflow is gone or already
// closed while the record is still live (a drift: say a crash before the workflow started), the
// record is cancelled here and the answer is 202 {status: "cancelled"}. A task that already
// ended is 409 task_already_finished.
func (s *Server) cancel(c *fiber.Ctx) error {
	t, err := s.task(c)
	if err != nil {
		return err
	}
	if store.IsTerminal(t.Status) {
		return errTaskAlreadyFinished(t.Status)
	}
	status, err := s.cancelTask(c.UserContext(), t)
	if err != nil {
		return err
	}
	return c.Status(http.StatusAccepted).JSON(cancelResponse{TaskID: t.ID, Status: status})
}

// cancelTask requests the workflow's cancellation and settles a drifted record; it returns the
// status to answer.
func (s *Server) cancelTask(ctx context.Context, t *store.Task) (string, error) {
	log := s.cfg.Logger.With("task_id", t.ID, "workflow_id", t.WorkflowID)
	err := s.deps.Temporal.CancelWorkflow(ctx, t.WorkflowID, "")
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		log.Warn("cancel: the task's workflow does not exist; cancelling the record")
		return s.cancelRecord(ctx, t.ID)
	case err != nil:
		log.Error("cancel workflow", "err", err)
		return "", errOrchestratorUnavailable("The task could not be cancelled.")
	}
	// Temporal accepts the cancellation of a closed workflow as a no-op, so ask whether it runs.
	desc, err := s.deps.Temporal.DescribeWorkflowExecution(ctx, t.WorkflowID, "")
	if err != nil {
		// The cancellation is recorded; the workflow acts on it whatever this call says.
		log.Warn("cancel: describe workflow", "err", err)
		return statusCancelling, nil
	}
	if desc.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		log.Info("cancel requested")
		return statusCancelling, nil
	}
	log.Warn("cancel: the task's workflow has closed but its record is live; cancelling the record",
		"workflow_status", desc.GetWorkflowExecutionInfo().GetStatus().String())
	return s.cancelRecord(ctx, t.ID)
}

// cancelRecord marks the record cancelled; a task that ended meanwhile is 409 with its status.
func (s *Server) cancelRecord(ctx context.Context, id string) (string, error) {
	_, err := s.deps.Store.CancelTask(ctx, id)
	switch {
	case errors.Is(err, store.ErrConflict):
		t, gerr := s.deps.Store.GetTask(ctx, id)
		if gerr != nil {
			return "", fmt.Errorf("cancel %s: %w", id, gerr)
		}
		return "", errTaskAlreadyFinished(t.Status)
	case errors.Is(err, store.ErrNotFound):
		return "", errTaskNotFound()
	case err != nil:
		return "", fmt.Errorf("cancel %s: %w", id, err)
	}
	return store.StatusCancelled, nil
}

// errTaskAlreadyFinished answers a cancel of a task that already ended.
func errTaskAlreadyFinished(status string) *Error {
	return newError(http.StatusConflict, "task_already_finished", "The task has already ended ("+status+").",
		"Nothing to cancel; GET /status shows how it ended.").withMetadata(map[string]any{"status": status})
}

// errOrchestratorUnavailable answers when Temporal cannot be reached.
func errOrchestratorUnavailable(detail string) *Error {
	return newError(http.StatusServiceUnavailable, "orchestrator_unavailable", detail, "Try again in a moment.")
}
