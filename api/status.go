package api

import (
	"errors"
	"math"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gooni/gooni/internal/store"
)

// statusResponse is the answer to GET /status/{task_id} and the data of every status event of
// GET /tasks/{task_id}/events; the first fields are the contract existing clients use.
type statusResponse struct {
	TaskID      string    `json:"task_id"`
	Status      string    `json:"status"`
	Progress    float64   `json:"progress"`
	Stage       string    `json:"stage"`
	StageDetail string    `json:"stage_detail"`
	LaneMode    string    `json:"lane_mode"`
	ErrorCode   string    `json:"error_code,omitempty"`
	ErrorMsg    string    `json:"error_msg"`
	ResultURL   string    `json:"result_url"`
	PreviewURL  string    `json:"preview_url"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`

	Model   string `json:"model"`
	Type    string `json:"type"`
	Mode    string `json:"mode"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	Seed    int64  `json:"seed"`
	Attempt int    `json:"attempt"`

	Metadata statusMetadata `json:"metadata"`
}

// statusMetadata says how the run is going beyond its status: which attempt runs, why the last
// one failed while retries go on, and why the task left its dedicated lane.
type statusMetadata struct {
	Attempt int `json:"attempt"`
	// LastError is null until an attempt fails.
	LastError      *lastError `json:"last_error"`
	FallbackReason string     `json:"fallback_reason"`
}

// lastError is the last failed attempt's stable code and a message a person can act on.
type lastError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// status answers a task's state from its record.
func (s *Server) status(c *fiber.Ctx) error {
	t, err := s.task(c)
	if err != nil {
		return err
	}
	return c.JSON(s.newStatusResponse(t))
}

// newStatusResponse shapes a task record as the status answer.
func (s *Server) newStatusResponse(t *store.Task) statusResponse {
	resp := statusResponse{
		TaskID: t.ID, Status: t.Status, Progress: math.Round(t.Progress*10) / 10, Stage: t.Stage, StageDetail: t.StageDetail,
		LaneMode: t.LaneMode, ErrorCode: t.ErrorCode, ErrorMsg: t.ErrorMsg,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
		Model: t.Model, Type: t.Type, Mode: t.Mode, Width: t.Width, Height: t.Height, Seed: t.Seed, Attempt: t.Attempt,
		Metadata: statusMetadata{Attempt: t.Attempt, FallbackReason: t.FallbackReason},
	}
	if t.LastErrorCode != "" {
		resp.Metadata.LastError = &lastError{Code: t.LastErrorCode, Message: t.LastErrorMsg}
	}
	resp.ResultURL, resp.PreviewURL = s.mediaURLs(t)
	return resp
}

// task loads the task named by the route, answering 404 task_not_found when absent.
func (s *Server) task(c *fiber.Ctx) (*store.Task, error) {
	id := c.Params("task_id")
	if !validTaskID(id) {
		return nil, errTaskNotFound()
	}
	t, err := s.deps.Store.GetTask(c.UserContext(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errTaskNotFound()
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// validTaskID reports whether id has the shape of a task id (a UUID), so junk never reaches the
// database or a file path.
func validTaskID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i, r := range id {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if r != '-' {
				return false
			}
		case (r >= '0' && r <= '9') || (r >= 'a' && r <= 'f'):
		default:
			return false
		}
	}
	return true
}

// errResultNotReady answers a media request for a task that has not finished.
func errResultNotReady(t *store.Task) *Error {
	return newError(http.StatusNotFound, "result_not_ready", "The task has no result yet.",
		"Poll GET /status until the status is done.").withMetadata(map[string]any{"status": t.Status})
}
