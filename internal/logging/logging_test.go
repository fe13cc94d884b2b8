package logging

import (
	"bytes"
	"context"
	"encoding/json"
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
