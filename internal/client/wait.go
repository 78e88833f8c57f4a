package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Wait follows a task until it ends and returns its final status, calling onStatus with each
// status it sees (the first at once, then each change). It reads the live event stream
// GET /tasks/{id}/events, reconnecting when the server closes it early; when the stream cannot
// be opened (an older server, too many streams, a proxy that breaks it) it polls GET /status.
func (c *Client) Wait(ctx context.Context, taskID string, onStatus func(*Status)) (*Status, error) {
	var last *Status
	seen := func(st *Status) {
		if last != nil && sameStatus(last, st) {
			return
		}
		last = st
		if onStatus != nil {
			onStatus(st)
		}
	}
	lastID := ""
	failures := 0
	for failures < 3 {
		st, id, err := c.stream(ctx, taskID, lastID, seen)
		if st != nil && st.Terminal() {
			return st, nil
		}
		var env *Error
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.As(err, &env) && env.Code == "task_not_found":
			return nil, err
		case errors.As(err, &env):
			failures = 3 // the server refuses streams: poll
		case err != nil, id == lastID && st == nil:
			failures++ // failed, or closed without an event: do not spin on a broken stream
		}
		lastID = id
		// The stream closed early (its maximum age, a restart) or failed: the record says
		// whether the task ended meanwhile; if not, listen again.
		now, err := c.Status(ctx, taskID)
		if err != nil {
			var env *Error
			if errors.As(err, &env) || ctx.Err() != nil {
				return nil, err
			}
			failures++
			continue
		}
		seen(now)
		if now.Terminal() {
			return now, nil
		}
	}
	return c.poll(ctx, taskID, seen)
}

// poll reads GET /status every PollInterval until the task ends.
func (c *Client) poll(ctx context.Context, taskID string, seen func(*Status)) (*Status, error) {
	t := time.NewTicker(c.cfg.PollInterval)
	defer t.Stop()
	for {
		st, err := c.Status(ctx, taskID)
		if err != nil {
			return nil, err
		}
		seen(st)
		if st.Terminal() {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

// stream reads one connection of the event stream, handing each status event to seen. It
// returns the last status it read and the last event id (lastID when it read none); a 204 (the client had the final state) comes
// back as no status and no error.
func (c *Client) stream(ctx context.Context, taskID, lastID string, seen func(*Status)) (*Status, string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	header := http.Header{"Accept": {"text/event-stream"}}
	if lastID != "" {
		header.Set("Last-Event-ID", lastID)
	}
	path := "/tasks/" + url.PathEscape(taskID) + "/events"
	resp, err := c.do(ctx, http.MethodGet, path, header, nil)
	if err != nil {
		return nil, lastID, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNoContent {
		return nil, lastID, nil
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		return nil, lastID, &Error{Status: resp.StatusCode, Code: "not_an_event_stream", Detail: "GET " + path + " did not answer an event stream (" + ct + ").",
			UserAction: "Check GOONI_URL points at a Gooni API."}
	}
	var last *Status
	id := lastID
	var event, data strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data.Len() > 0 {
				switch event.String() {
				case "status", "":
					var st Status
					if err := json.Unmarshal([]byte(data.String()), &st); err != nil {
						return last, id, fmt.Errorf("event stream: bad status event: %w", err)
					}
					last = &st
					seen(&st)
					if st.Terminal() {
						return last, id, nil
					}
				case "error":
					env := &Error{Status: http.StatusOK}
					if err := json.Unmarshal([]byte(data.String()), env); err != nil || env.Code == "" {
						return last, id, fmt.Errorf("event stream: bad error event")
					}
					return last, id, env
				}
			}
			event.Reset()
			data.Reset()
		case strings.HasPrefix(line, ":"):
			// a comment (keep-alive)
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				event.Reset()
				event.WriteString(value)
			case "data":
				if data.Len() > 0 {
					data.WriteByte('\n')
				}
				data.WriteString(value)
			case "id":
				id = value
			}
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return last, id, &transportError{fmt.Errorf("event stream: %w", err)}
	}
	return last, id, nil
}

// sameStatus reports whether two statuses show the same thing (updated_at aside).
func sameStatus(a, b *Status) bool {
	x, y := *a, *b
	x.UpdatedAt, y.UpdatedAt = time.Time{}, time.Time{}
	x.CreatedAt, y.CreatedAt = time.Time{}, time.Time{}
	return x == y
}
