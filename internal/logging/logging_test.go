package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

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
