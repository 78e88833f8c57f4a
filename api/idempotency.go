package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.temporal.io/api/serviceerror"

	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/settings"
)

// Idempotent submission. A client that sends POST /generate with an Idempotency-Key header may
// retry it (after a timeout, a dropped connection, a 5xx) without starting a second generation:
// the first request creates the task and records the key with the SHA-256 of the canonical body
// in the same transaction; a retry with the same key and body answers 200 with that task's id and
// current status; the same key with another body is 409 idempotency_key_reused. Keys are
// remembered for Config.IdempotencyTTL (24h); an older key is treated as new.
//
// Keys are global to the deployment: there is one API key. When per-client keys arrive, the key
// must be scoped by client.

// headerIdempotencyKey names the request header.
const headerIdempotencyKey = "Idempotency-Key"

// headerReplayed marks an answer that a retried submission got from the first one.
const headerReplayed = "Idempotent-Replayed"

// maxIdempotencyKey is the longest key accepted, in bytes.
const maxIdempotencyKey = 255

// idempotency is a submission's key and the hash of its canonical body.
type idempotency struct {
	key, hash string
}

// idempotencyKey returns the request's Idempotency-Key, "" when absent. A key must be one header
// of 1..255 printable ASCII characters; anything else is 400 invalid_idempotency_key.
func idempotencyKey(c *fiber.Ctx) (string, error) {
	values := c.Request().Header.PeekAll(headerIdempotencyKey)
	switch len(values) {
	case 0:
		return "", nil
	case 1:
		if !validIdempotencyKey(values[0]) {
			return "", errInvalidIdempotencyKey()
		}
		return string(values[0]), nil // string() copies out of Fiber's buffer
	default:
		return "", errInvalidIdempotencyKey()
	}
}

// validIdempotencyKey reports whether k is 1..255 printable ASCII characters (space to tilde).
func validIdempotencyKey(k []byte) bool {
	if len(k) == 0 || len(k) > maxIdempotencyKey {
		return false
	}
	for _, b := range k {
		if b < 0x20 || b > 0x7e {
			return false
		}
	}
	return true
}

// requestHash is the hex SHA-256 of body in canonical form: object keys sorted, insignificant
// whitespace and string escapes normalised, numbers kept as written. A retry that re-serialises
// the same request differently still matches. body must be valid JSON (checkJSONObject).
func requestHash(body []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("canonical body: %w", err)
	}
	canonical, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("canonical body: %w", err)
	}
	sum := sha256.Sum256(canonical)
	return hex.EncodeToString(sum[:]), nil
}

// generateOnce is POST /generate with an Idempotency-Key: the first request with the key
// submits; later ones answer from the task the key points at.
func (s *Server) generateOnce(c *fiber.Ctx, key string, body []byte, req *settings.Request) error {
	ctx := c.UserContext()
	hash, err := requestHash(body)
	if err != nil {
		return err
	}
	held, err := s.deps.Store.GetIdempotencyKey(ctx, key, s.cfg.IdempotencyTTL)
	switch {
	case err == nil:
		return s.replay(c, held, hash, req)
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	taskID, held, err := s.submit(ctx, req, &idempotency{key: key, hash: hash})
	if err != nil {
		return err
	}
	if held != nil { // a concurrent request with the same key won
		return s.replay(c, held, hash, req)
	}
	return c.Status(http.StatusAccepted).JSON(generateResponse{TaskID: taskID, Status: store.StatusPending})
}

// replay answers a retried submission from the task its key points at.
func (s *Server) replay(c *fiber.Ctx, held *store.IdempotencyKey, hash string, req *settings.Request) error {
	if held.RequestHash != hash {
		return newError(http.StatusConflict, "idempotency_key_reused",
			"This Idempotency-Key was already used with a different request body.",
			"Use a new Idempotency-Key for a new request; retry only with the exact same body.").
			withMetadata(map[string]any{"task_id": held.TaskID})
	}
	ctx := c.UserContext()
	t, err := s.deps.Store.GetTask(ctx, held.TaskID)
	if errors.Is(err, store.ErrNotFound) {
		// The first request's workflow did not start and it removed the task (and the key) since.
		return errOrchestratorUnavailable("The generation could not be started.")
	}
	if err != nil {
		return err
	}
	if t.Status == store.StatusPending && time.Since(t.CreatedAt) > s.cfg.RequestTimeout {
		if err := s.resume(ctx, t, req); err != nil {
			return err
		}
	}
	c.Set(headerReplayed, "true")
	return c.Status(http.StatusOK).JSON(generateResponse{TaskID: t.ID, Status: t.Status})
}

// resume starts the workflow of a keyed task whose first request stopped between recording the
// task and starting its workflow (the API process died there). The retry carries the same body,
// so it rebuilds the same workflow input, with the seed the task recorded. It acts only on tasks
// older than the request timeout: by then the first request has ended one way or the other, so
// it never races the first request's own start. A workflow that exists is left alone.
func (s *Server) resume(ctx context.Context, t *store.Task, req *settings.Request) error {
	log := s.cfg.Logger.With("task_id", t.ID, "workflow_id", t.WorkflowID)
	_, err := s.deps.Temporal.DescribeWorkflowExecution(ctx, t.WorkflowID, "")
	var notFound *serviceerror.NotFound
	switch {
	case err == nil:
		return nil
	case !errors.As(err, &notFound):
		log.Warn("replay: describe workflow", "err", err)
		return nil // cannot tell; the task stays as it is
	}
	req.Seed = t.Seed
	req.Params["seed"] = t.Seed
	_, refs, err := s.storeInputs(ctx, t.ID, req)
	if err != nil {
		return err
	}
	if err := s.startWorkflow(ctx, t, req, refs); err != nil {
		log.Error("replay: start workflow", "err", err)
		return errOrchestratorUnavailable("The generation could not be started.")
	}
	log.Warn("replay: started the workflow of a submission that never started it")
	return nil
}

// createTask records the task, with its idempotency key when the request sent one. held is the
// key's record when another task holds it (and nothing was created).
func (s *Server) createTask(ctx context.Context, t *store.Task, idem *idempotency) (held *store.IdempotencyKey, err error) {
	if idem == nil {
		return nil, s.deps.Store.CreateTask(ctx, t)
	}
	return s.deps.Store.CreateTaskWithKey(ctx, t, idem.key, idem.hash, s.cfg.IdempotencyTTL)
}

func errInvalidIdempotencyKey() *Error {
	return newError(http.StatusBadRequest, "invalid_idempotency_key",
		"The Idempotency-Key header must be one value of 1 to 255 printable ASCII characters.",
		"Send a unique key per request, such as a UUID, in one Idempotency-Key header.")
}
