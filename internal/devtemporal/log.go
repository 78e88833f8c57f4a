package devtemporal

import (
	"context"
	"log/slog"

	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// minServerLevel is the lowest level of server logs passed on: below it the server logs every
// service start, shard movement and poll, which drowns the application's own logs in dev.
const minServerLevel = slog.LevelWarn

// serverLogger bridges the server's logger interface to slog, dropping records below its level
// (minServerLevel) before their tags are converted (the server logs a lot at debug and info).
//
// It deliberately does not implement log.WithLogger: the server derives loggers with tags on every
// request, and the server's own lazy prepender only pays for them when a record is written.
type serverLogger struct {
	slog *slog.Logger
}

var (
	_ log.Logger      = serverLogger{}
	_ log.SLogWrapper = serverLogger{}
)

// newServerLogger returns a logger that passes records at level or above to l.
func newServerLogger(l *slog.Logger, level slog.Leveler) serverLogger {
	return serverLogger{slog: slog.New(levelFilter{min: level, next: l.Handler()})}
}

func (l serverLogger) Debug(msg string, tags ...tag.Tag) { l.log(slog.LevelDebug, msg, tags) }
func (l serverLogger) Info(msg string, tags ...tag.Tag)  { l.log(slog.LevelInfo, msg, tags) }
func (l serverLogger) Warn(msg string, tags ...tag.Tag)  { l.log(slog.LevelWarn, msg, tags) }
func (l serverLogger) Error(msg string, tags ...tag.Tag) { l.log(slog.LevelError, msg, tags) }

// DPanic, Panic and Fatal log at error level and return: an embedded server must not take the
// whole process down (the Temporal CLI's dev server does the same).
func (l serverLogger) DPanic(msg string, tags ...tag.Tag) { l.log(slog.LevelError, msg, tags) }
func (l serverLogger) Panic(msg string, tags ...tag.Tag)  { l.log(slog.LevelError, msg, tags) }
func (l serverLogger) Fatal(msg string, tags ...tag.Tag)  { l.log(slog.LevelError, msg, tags) }

// SLog lets server components that log through slog reach the same filtered logger.
func (l serverLogger) SLog() *slog.Logger { return l.slog }

func (l serverLogger) log(level slog.Level, msg string, tags []tag.Tag) {
	ctx := context.Background()
	if !l.slog.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, len(tags)+1)
	attrs = append(attrs, slog.String("component", "temporal"))
	for _, t := range tags {
		attrs = append(attrs, slog.Any(t.Key(), t.Value()))
	}
	l.slog.LogAttrs(ctx, level, msg, attrs...)
}

// levelFilter is a slog.Handler that drops records below min and passes the rest to next.
type levelFilter struct {
	min  slog.Leveler
	next slog.Handler
}

func (h levelFilter) Enabled(ctx context.Context, level slog.Level) bool {
	return level >= h.min.Level() && h.next.Enabled(ctx, level)
}

func (h levelFilter) Handle(ctx context.Context, r slog.Record) error {
	return h.next.Handle(ctx, r)
}

func (h levelFilter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return levelFilter{min: h.min, next: h.next.WithAttrs(attrs)}
}

func (h levelFilter) WithGroup(name string) slog.Handler {
	return levelFilter{min: h.min, next: h.next.WithGroup(name)}
}
