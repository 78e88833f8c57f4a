package cpu

import (
	"bytes"
	"log/slog"
	"strings"
)

// Bounds of what ffmpeg may write to the runner's log per request.
const (
	ffmpegLogLines = 40   // lines forwarded
	ffmpegLineMax  = 1024 // bytes kept of a line
	ffmpegTailSize = 3    // last lines kept for error messages
)

// ffmpegLog is ffmpeg's stderr: it forwards complete lines to the runner's
// log (at most ffmpegLogLines, each cut at ffmpegLineMax bytes), counts the
// rest, and keeps the last lines for error messages. exec.Cmd calls Write
// from one goroutine and Wait returns after the last Write.
type ffmpegLog struct {
	logger  *slog.Logger
	partial []byte
	lines   int
	last    []string
}

func newFFmpegLog(logger *slog.Logger) *ffmpegLog {
	return &ffmpegLog{logger: logger}
}

// Write takes a chunk of ffmpeg's stderr.
func (l *ffmpegLog) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			l.partial = appendBounded(l.partial, p)
			break
		}
		l.partial = appendBounded(l.partial, p[:i])
		l.line()
		p = p[i+1:]
	}
	return n, nil
}

// flush ends the last line and reports what was dropped. Call it after
// ffmpeg has exited.
func (l *ffmpegLog) flush() {
	if len(l.partial) > 0 {
		l.line()
	}
	if dropped := l.lines - ffmpegLogLines; dropped > 0 {
		l.logger.Warn("ffmpeg: further output dropped", "lines", dropped)
		l.lines = ffmpegLogLines
	}
}

// tail is the last lines ffmpeg wrote, joined by "; ".
func (l *ffmpegLog) tail() string {
	return strings.Join(l.last, "; ")
}

// line handles the line in partial.
func (l *ffmpegLog) line() {
	text := strings.TrimSpace(string(l.partial))
	l.partial = l.partial[:0]
	if text == "" {
		return
	}
	l.lines++
	if l.lines <= ffmpegLogLines {
		l.logger.Warn("ffmpeg", "line", text)
	}
	l.last = append(l.last, text)
	if len(l.last) > ffmpegTailSize {
		l.last = l.last[1:]
	}
}

// appendBounded appends p to b up to ffmpegLineMax bytes.
func appendBounded(b, p []byte) []byte {
	if room := ffmpegLineMax - len(b); room < len(p) {
		p = p[:max(room, 0)]
	}
	return append(b, p...)
}
