// Package logging builds the process logger: slog with JSON (or text) lines, every line
// carrying the correlation id of the request its context belongs to.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/openwatch/openwatch/internal/reqinfo"
)

// New returns a logger writing to w at level ("debug", "info", "warn", "error") in format
// ("json" or "text").
func New(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("logging level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch strings.ToLower(format) {
	case "json", "":
		return slog.New(correlationHandler{Handler: slog.NewJSONHandler(w, opts), json: &jsonLines{w: w, level: lv, now: time.Now}}), nil
	case "text":
		return slog.New(correlationHandler{Handler: slog.NewTextHandler(w, opts)}), nil
	}
	return nil, fmt.Errorf("logging format %q: want json or text", format)
}

// correlationHandler adds correlation_id to records logged with a request context. A
// JSON one also writes request lines itself (RequestLoggerOf).
type correlationHandler struct {
	slog.Handler
	json *jsonLines
}

func (h correlationHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := reqinfo.CorrelationID(ctx); id != "" {
		r.AddAttrs(slog.String("correlation_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs and WithGroup return handlers without the request fast path: their lines
// carry more than a request line has.
func (h correlationHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return correlationHandler{Handler: h.Handler.WithAttrs(attrs)}
}

func (h correlationHandler) WithGroup(name string) slog.Handler {
	return correlationHandler{Handler: h.Handler.WithGroup(name)}
}
