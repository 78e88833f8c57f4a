package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/gooni/gooni/internal/store"
)

// Live progress: GET /tasks/{task_id}/events streams Server-Sent Events. Each event is
//
//	id: <the record's updated_at, Unix microseconds>
//	event: status
//	data: <the GET /status JSON>
//
// sent at once, then whenever what the status shows changes, with a ": keep-alive" comment every
// Config.StreamKeepAlive. The stream closes after the terminal state (done, failed, cancelled).
// An EventSource reconnects by itself after a close and sends the last id it saw: when that is
// the terminal state's id, the answer is 204, which tells EventSource to stop reconnecting.
//
// A stream polls its task's record every Config.StreamPoll rather than using LISTEN/NOTIFY: the
// GPU worker writes progress at most every 200 ms anyway, so a 200 ms poll adds at most one poll
// period of latency; polling needs no trigger on the hot progress update, no dedicated listening
// connection per API process and works through connection poolers. A poll reads two columns
// (status, updated_at) by primary key and loads the task only when they moved.

// streamMaxAge ends a stream before the server's write timeout (10 min, set in New) cuts it: the
// client reconnects and carries on from the current state.
const streamMaxAge = 5 * time.Minute

// pollTimeout bounds one poll of the record.
const pollTimeout = 5 * time.Second

// streamGauge counts the open event streams and bounds them.
type streamGauge struct{ n atomic.Int64 }

// acquire takes a stream slot unless limit are taken.
func (g *streamGauge) acquire(limit int) bool {
	if g.n.Add(1) > int64(limit) {
		g.n.Add(-1)
		return false
	}
	return true
}

func (g *streamGauge) release() { g.n.Add(-1) }

// ActiveStreams returns how many event streams are open: a gauge for metrics, and the proof in
// tests that a stream whose client left has stopped.
func (s *Server) ActiveStreams() int { return int(s.streams.n.Load()) }

// events streams a task's status as Server-Sent Events.
func (s *Server) events(c *fiber.Ctx) error {
	t, err := s.task(c)
	if err != nil {
		return err
	}
	if store.IsTerminal(t.Status) && c.Get("Last-Event-ID") == eventID(t) {
		return c.SendStatus(http.StatusNoContent) // the client has the final state already
	}
	if !s.streams.acquire(s.cfg.MaxStreams) {
		return newError(http.StatusServiceUnavailable, "too_many_streams", "The server has too many open progress streams.",
			"Poll GET /status instead, or try the stream again in a moment.")
	}
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set("X-Accel-Buffering", "no") // nginx: pass events through at once
	// Closed when the server shuts down, so open streams never hold the shutdown up.
	shutdown := c.Context().Done()
	// The writer runs after this handler returns, once the headers are sent; it must not touch c.
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer s.streams.release()
		s.stream(w, t, shutdown)
	})
	return nil
}

// stream writes t's status, then each change, until the task ends, the client leaves (a write
// fails), the server shuts down or the stream reaches its maximum age.
func (s *Server) stream(w *bufio.Writer, t *store.Task, shutdown <-chan struct{}) {
	log := s.cfg.Logger.With("task_id", t.ID)
	defer func() {
		if r := recover(); r != nil {
			log.Error("event stream panicked", "panic", r)
		}
	}()
	last := s.newStatusResponse(t)
	if err := writeEvent(w, eventID(t), "status", last); err != nil || store.IsTerminal(t.Status) {
		return
	}
	status, version := t.Status, t.UpdatedAt
	poll := time.NewTicker(s.cfg.StreamPoll)
	defer poll.Stop()
	keepAlive := time.NewTicker(s.cfg.StreamKeepAlive)
	defer keepAlive.Stop()
	maxAge := time.NewTimer(streamMaxAge)
	defer maxAge.Stop()
	for {
		select {
		case <-shutdown:
			return
		case <-maxAge.C:
			return
		case <-keepAlive.C:
			if err := writeComment(w, "keep-alive"); err != nil {
				log.Debug("event stream: client left")
				return
			}
		case <-poll.C:
			next, err := s.pollTask(t.ID, status, version)
			if errors.Is(err, store.ErrNotFound) {
				_ = writeEvent(w, "", "error", errTaskNotFound())
				return
			}
			if err != nil {
				// The client reconnects and the new stream starts from the record again.
				log.Warn("event stream: read task", "err", err)
				return
			}
			if next == nil {
				continue
			}
			status, version = next.Status, next.UpdatedAt
			resp := s.newStatusResponse(next)
			if sameStatus(last, resp) {
				continue
			}
			if err := writeEvent(w, eventID(next), "status", resp); err != nil {
				log.Debug("event stream: client left")
				return
			}
			last = resp
			if store.IsTerminal(next.Status) {
				return
			}
		}
	}
}

// pollTask returns the task when its status or updated_at moved from what the stream last saw,
// nil when nothing did.
func (s *Server) pollTask(id, status string, version time.Time) (*store.Task, error) {
	ctx, cancel := context.WithTimeout(context.Background(), pollTimeout)
	defer cancel()
	nowStatus, nowVersion, err := s.deps.Store.TaskVersion(ctx, id)
	if err != nil {
		return nil, err
	}
	if nowStatus == status && nowVersion.Equal(version) {
		return nil, nil
	}
	return s.deps.Store.GetTask(ctx, id)
}

// sameStatus reports whether two answers show the same thing, ignoring updated_at (a write that
// changed nothing visible, such as progress within the same tenth of a percent).
func sameStatus(a, b statusResponse) bool {
	a.UpdatedAt, b.UpdatedAt = time.Time{}, time.Time{}
	a.CreatedAt, b.CreatedAt = time.Time{}, time.Time{} // never changes; time.Time's location pointer may
	return reflect.DeepEqual(a, b)
}

// eventID identifies the record's state an event shows.
func eventID(t *store.Task) string { return strconv.FormatInt(t.UpdatedAt.UnixMicro(), 10) }

// writeEvent writes one event and flushes it; the error says the client is gone.
func writeEvent(w *bufio.Writer, id, event string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("event %s: %w", event, err)
	}
	if id != "" {
		fmt.Fprintf(w, "id: %s\n", id)
	}
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, raw)
	return w.Flush()
}

// writeComment writes an SSE comment line (ignored by clients) and flushes it.
func writeComment(w *bufio.Writer, text string) error {
	fmt.Fprintf(w, ": %s\n\n", text)
	return w.Flush()
}
