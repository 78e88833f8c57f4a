package api

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/gooni/gooni/internal/artifact"
)

// artifactETag is the strong validator of an artifact: a hash of its key, size and modification
// time (nanoseconds). Artifacts are written once, by an atomic rename, under a key that names
// the task, so these three identify the bytes; a rewrite (a new rename) changes the
// modification time and so the tag. This costs no read of the file per request (a content hash
// would read a whole video, or need the GPU activity to store one at finish) and stays the same
// on every replica reading the same store. The hash keeps the key and the timestamp out of the
// header.
func artifactETag(info artifact.Info) string {
	h := sha256.New()
	h.Write([]byte(info.Key))
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(nil, info.Size, 10))
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(nil, info.ModTime.UnixNano(), 10))
	return `"` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`
}

// finishArtifactResponse completes what http.ServeContent answered through the adaptor: the
// nosniff header once (the adaptor adds net/http's copy to Fiber's), no-store on answers that
// are not the file, and the error envelope instead of net/http's text for 416 (a range past
// the end), keeping its Content-Range: bytes */size.
func finishArtifactResponse(c *fiber.Ctx, info artifact.Info, err error) error {
	h := &c.Response().Header
	h.Del(fiber.HeaderXContentTypeOptions)
	h.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	if err != nil {
		return err
	}
	status := c.Response().StatusCode()
	if len(h.Peek(fiber.HeaderCacheControl)) == 0 {
		h.Set(fiber.HeaderCacheControl, cacheNoStore)
	}
	if status == http.StatusRequestedRangeNotSatisfiable {
		c.Response().ResetBody()
		return newError(status, "range_not_satisfiable", "The requested byte range is outside the file.",
			"Request a range within the file's size (Content-Range says it), or the whole file.").
			withMetadata(map[string]any{"size": info.Size})
	}
	return nil
}
