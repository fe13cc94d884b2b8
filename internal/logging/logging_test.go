package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/reqinfo"
)

func TestCorrelationIDOnEveryLine(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "info", "json")
	require.NoError(t, err)
	ctx := reqinfo.With(context.Background(), &reqinfo.Info{CorrelationID: "corr-123"})
	log.With("component", "test").InfoContext(ctx, "hello")
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	require.Equal(t, "corr-123", line["correlation_id"])
	require.Equal(t, "test", line["component"])

	buf.Reset()
	log.DebugContext(ctx, "hidden")
	require.Empty(t, buf.String(), "debug is below info")
}

func TestRejectsBadSettings(t *testing.T) {
	_, err := New(&bytes.Buffer{}, "loud", "json")
	require.Error(t, err)
	_, err = New(&bytes.Buffer{}, "info", "xml")
	require.Error(t, err)
}

func TestBufferedWriterFlushes(t *testing.T) {
	var out lockedBuf
	w := NewBufferedWriter(&out, 10*time.Millisecond)
	_, err := w.Write([]byte("line one\n"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return out.String() == "line one\n" }, time.Second, 5*time.Millisecond, "flushed within the interval")
	_, _ = w.Write([]byte("line two\n"))
	require.NoError(t, w.Close())
	require.Equal(t, "line one\nline two\n", out.String(), "Close writes out the rest")
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuf) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// TestRequestLineIsSlogs: the fast request line is byte for byte what slog's JSON handler
// writes for the same record, tricky strings and numbers included.
func TestRequestLineIsSlogs(t *testing.T) {
	at := time.Date(2026, 12, 6, 10, 30, 0, 186813000, time.UTC)
	reqs := []Request{
		{Method: "GET", Path: "/api/v1/auth/me", Status: 200, Bytes: 106, DurationMS: 0.171, Client: "127.0.0.1"},
		{Method: "POST", Path: `/a"b\c` + "\n\r\t\x01\x7f<&>é\u2028\u2029\xff", Status: 500, Bytes: 0, DurationMS: 1234567.891, Client: "::1"},
		{Method: "GET", Path: "/", Status: 404, Bytes: -1, DurationMS: 0, Client: ""},
		{Method: "GET", Path: "/x", Status: 200, Bytes: 1 << 40, DurationMS: 1e21, Client: "c"},
		{Method: "GET", Path: "/y", Status: 200, Bytes: 1, DurationMS: 1e-7, Client: "c"},
	}
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelError} {
		for _, r := range reqs {
			for _, corr := range []string{"", "01M95EEH6324XS9FA46JSGVHME", "with\"quote"} {
				var want bytes.Buffer
				h := correlationHandler{Handler: slog.NewJSONHandler(&want, &slog.HandlerOptions{Level: slog.LevelDebug})}
				ctx := context.Background()
				if corr != "" {
					ctx = reqinfo.With(ctx, &reqinfo.Info{CorrelationID: corr})
				}
				rec := slog.NewRecord(at, level, "request", 0)
				rec.AddAttrs(slog.String("method", r.Method), slog.String("path", r.Path), slog.Int("status", r.Status),
					slog.Int64("bytes", r.Bytes), slog.Float64("duration_ms", r.DurationMS), slog.String("client", r.Client))
				require.NoError(t, h.Handle(ctx, rec))
				got := appendRequestLine(nil, at, level, r, corr)
				require.Equal(t, want.String(), string(got))
			}
		}
	}
}

// TestRequestLogger: loggers from New in JSON have the fast path, at their level; text
// ones and derived ones do not.
func TestRequestLogger(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "info", "json")
	require.NoError(t, err)
	rl := RequestLoggerOf(log)
	require.NotNil(t, rl)
	require.False(t, rl.Enabled(slog.LevelDebug))
	rl.LogRequest(context.Background(), slog.LevelDebug, Request{Method: "GET", Path: "/health"})
	require.Empty(t, buf.String())
	ctx := reqinfo.With(context.Background(), &reqinfo.Info{CorrelationID: "c-1"})
	rl.LogRequest(ctx, slog.LevelInfo, Request{Method: "GET", Path: "/p", Status: 200, Bytes: 5, DurationMS: 1.5, Client: "127.0.0.1"})
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
	require.Equal(t, "request", line["msg"])
	require.Equal(t, "c-1", line["correlation_id"])
	require.Equal(t, 1.5, line["duration_ms"])

	text, err := New(&buf, "info", "text")
	require.NoError(t, err)
	require.Nil(t, RequestLoggerOf(text))
	require.Nil(t, RequestLoggerOf(log.With("k", "v")))
}
