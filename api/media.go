package api

import (
	"errors"
	"net/http"
	"path"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"github.com/gooni/gooni/internal/artifact"
	"github.com/gooni/gooni/internal/store"
)

// result serves a finished task's result file with Range support.
func (s *Server) result(c *fiber.Ctx) error {
	t, err := s.task(c)
	if err != nil {
		return err
	}
	if t.Status != store.StatusDone || t.ResultKey == "" {
		return errResultNotReady(t)
	}
	return s.serveArtifact(c, t.ResultKey, t.ResultMIME)
}

// preview serves a finished task's JPEG preview.
func (s *Server) preview(c *fiber.Ctx) error {
	t, err := s.task(c)
	if err != nil {
		return err
	}
	if t.Status != store.StatusDone || t.PreviewKey == "" {
		return errResultNotReady(t)
	}
	return s.serveArtifact(c, t.PreviewKey, "image/jpeg")
}

// serveArtifact streams an artifact through net/http's ServeContent, which implements Range,
// If-Modified-Since and If-Range.
func (s *Server) serveArtifact(c *fiber.Ctx, key, mime string) error {
	obj, info, err := s.deps.Artifacts.Open(c.UserContext(), key)
	if errors.Is(err, artifact.ErrNotFound) {
		return newError(http.StatusGone, "result_file_missing", "The task finished but its file is gone (expired or removed).",
			"Regenerate the image or video.")
	}
	if err != nil {
		return err
	}
	defer obj.Close()
	handler := adaptor.HTTPHandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if mime != "" {
			w.Header().Set("Content-Type", mime)
		}
		// ServeContent answers If-None-Match and If-Range from the ETag, If-Modified-Since from
		// the modification time (sent as Last-Modified), and drops all three and
		// Cache-Control from its error answers.
		w.Header().Set("ETag", artifactETag(info))
		w.Header().Set("Cache-Control", cacheImmutableMedia)
		http.ServeContent(w, r, path.Base(key), info.ModTime, obj)
	})
	// The adaptor adds the handler's headers to those already set: let the handler's own win.
	c.Response().Header.Del(fiber.HeaderCacheControl)
	c.Response().Header.Del(fiber.HeaderXContentTypeOptions)
	err = handler(c)
	return finishArtifactResponse(c, info, err)
}
