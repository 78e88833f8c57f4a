package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gooni/gooni/internal/store"
	"github.com/gooni/gooni/settings"
)

// Gallery paging limits.
const (
	galleryDefaultPerPage = 20
	galleryMaxPerPage     = 100
	// galleryMaxPage keeps the row offset far from overflow; no gallery has that many pages.
	galleryMaxPage = 1 << 31
)

// galleryItem is one finished result of GET /gallery.
type galleryItem struct {
	ID             string         `json:"id"`
	Model          string         `json:"model"`
	Type           string         `json:"type"`
	Mode           string         `json:"mode"`
	Prompt         string         `json:"prompt"`
	NegativePrompt string         `json:"negative_prompt"`
	Parameters     map[string]any `json:"parameters"`
	Width          int            `json:"width"`
	Height         int            `json:"height"`
	Seed           int64          `json:"seed"`
	CreatedAt      time.Time      `json:"created_at"`
	PreviewURL     string         `json:"preview_url"`
	ResultURL      string         `json:"result_url"`
}

// galleryResponse is the answer to GET /gallery.
type galleryResponse struct {
	Items   []galleryItem `json:"items"`
	Total   int           `json:"total"`
	Page    int           `json:"page"`
	PerPage int           `json:"per_page"`
	HasMore bool          `json:"has_more"`
}

// gallery lists finished, unexpired results, newest first by default.
func (s *Server) gallery(c *fiber.Ctx) error {
	q, err := parseGalleryQuery(c, s.deps.Catalogue)
	if err != nil {
		return err
	}
	page, err := s.deps.Store.Gallery(c.UserContext(), q)
	if err != nil {
		return err
	}
	return c.JSON(s.newGalleryResponse(q, page))
}

// newGalleryResponse shapes a store page as the gallery answer. Every item is done, so each has
// (signed) result and preview URLs, made as the status answer makes them.
func (s *Server) newGalleryResponse(q store.GalleryQuery, page *store.GalleryPage) galleryResponse {
	resp := galleryResponse{
		Items: make([]galleryItem, len(page.Items)), Total: page.Total, Page: q.Page, PerPage: q.PerPage,
		HasMore: int64(q.Page)*int64(q.PerPage) < int64(page.Total),
	}
	for i, it := range page.Items {
		params := it.Parameters
		if params == nil {
			params = map[string]any{}
		}
		resp.Items[i] = galleryItem{
			ID: it.ID, Model: it.Model, Type: it.Type, Mode: it.Mode, Prompt: it.Prompt, NegativePrompt: it.NegativePrompt,
			Parameters: params, Width: it.Width, Height: it.Height, Seed: it.Seed, CreatedAt: it.CreatedAt,
		}
		resp.Items[i].ResultURL, resp.Items[i].PreviewURL = s.signedMediaURLs(it.ID)
	}
	return resp
}

// parseGalleryQuery reads page, per_page, sort, model and type, checking model and type against
// the catalogue. Every bad parameter is reported at once as 422 validation_error.
func parseGalleryQuery(c *fiber.Ctx, cat *settings.Catalogue) (store.GalleryQuery, error) {
	q := store.GalleryQuery{Page: 1, PerPage: galleryDefaultPerPage, Sort: store.GallerySortCreatedAt}
	var fields []settings.FieldError
	bad := func(field, msg string) { fields = append(fields, settings.FieldError{Field: field, Message: msg}) }

	if v := c.Query("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			bad("page", "must be a whole number of at least 1")
		} else if n > galleryMaxPage {
			bad("page", fmt.Sprintf("must be at most %d", galleryMaxPage))
		} else {
			q.Page = n
		}
	}
	if v := c.Query("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > galleryMaxPerPage {
			bad("per_page", fmt.Sprintf("must be a whole number from 1 to %d", galleryMaxPerPage))
		} else {
			q.PerPage = n
		}
	}
	if v := c.Query("sort"); v != "" {
		if sorts := store.GallerySorts(); !slices.Contains(sorts, v) {
			bad("sort", "must be one of "+strings.Join(sorts, ", "))
		} else {
			q.Sort = v
		}
	}
	if v := c.Query("model"); v != "" {
		if _, ok := cat.Model(v); !ok {
			bad("model", "is not a model of the catalogue; one of "+strings.Join(cat.IDs(), ", "))
		} else {
			q.Model = strings.Clone(v)
		}
	}
	if v := c.Query("type"); v != "" {
		if types := catalogueTypes(cat); !slices.Contains(types, v) {
			bad("type", "must be one of "+strings.Join(types, ", "))
		} else {
			q.Type = strings.Clone(v)
		}
	}
	if len(fields) > 0 {
		return q, validationError(&settings.ValidationError{Fields: fields})
	}
	return q, nil
}

// catalogueTypes lists the model types of the catalogue ("image", "video") in catalogue order.
func catalogueTypes(cat *settings.Catalogue) []string {
	var types []string
	for _, m := range cat.Models() {
		if !slices.Contains(types, m.Type) {
			types = append(types, m.Type)
		}
	}
	return types
}

// deleteGalleryItem removes a finished task and its files: result, preview and reference
// images. Files go first, so a failure leaves the record and the client can retry; between the
// two steps a media request answers 410 result_file_missing, which is what it would answer
// once the record is gone too. A live task is refused: cancel it first.
func (s *Server) deleteGalleryItem(c *fiber.Ctx) error {
	id := c.Params("task_id")
	if !validTaskID(id) {
		return errGalleryItemNotFound()
	}
	ctx := c.UserContext()
	t, err := s.deps.Store.GetTask(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return errGalleryItemNotFound()
	}
	if err != nil {
		return err
	}
	if !store.IsTerminal(t.Status) {
		return errTaskStillRunning(t)
	}
	if err := s.deleteTaskFiles(ctx, t); err != nil {
		return err
	}
	err = s.deps.Store.DeleteFinishedTask(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Deleted concurrently: the outcome the client asked for.
	case err != nil:
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// deleteTaskFiles removes every artifact a task record names. Deleting an absent artifact is
// not an error, so a retry after a partial failure completes.
func (s *Server) deleteTaskFiles(ctx context.Context, t *store.Task) error {
	keys := make([]string, 0, 2+len(t.Inputs))
	for _, k := range []string{t.ResultKey, t.PreviewKey} {
		if k != "" {
			keys = append(keys, k)
		}
	}
	for _, in := range t.Inputs {
		if in.Key != "" {
			keys = append(keys, in.Key)
		}
	}
	for _, k := range keys {
		if err := s.deps.Artifacts.Delete(ctx, k); err != nil {
			return fmt.Errorf("delete task %s file %s: %w", t.ID, k, err)
		}
	}
	return nil
}

// errGalleryItemNotFound answers DELETE /gallery/{id} for an id with no task.
func errGalleryItemNotFound() *Error {
	return newError(http.StatusNotFound, "not_found", "No gallery item has this id.",
		"Check the id against GET /gallery; the item may already be deleted.")
}

// errTaskStillRunning answers DELETE /gallery/{id} for a task that has not ended.
func errTaskStillRunning(t *store.Task) *Error {
	return newError(http.StatusConflict, "task_still_running", "The task is still running, so it has no gallery item to delete.",
		"Cancel it with DELETE /tasks/{task_id}, then delete it.").withMetadata(map[string]any{"status": t.Status})
}
