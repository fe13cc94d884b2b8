package reqinfo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestValidCorrelationID(t *testing.T) {
	for _, ok := range []string{"a", "ABC-def_123", strings.Repeat("x", 64)} {
		require.True(t, ValidCorrelationID(ok), ok)
	}
	for _, bad := range []string{"", strings.Repeat("x", 65), "has space", "semi;colon", "dot.ted", "ünï"} {
		require.False(t, ValidCorrelationID(bad), bad)
	}
}

func TestNewCorrelationIDSortsByTime(t *testing.T) {
	base := time.UnixMilli(1_700_000_000_000)
	prev := ""
	for i := 0; i < 100; i++ {
		id := NewCorrelationID(base.Add(time.Duration(i) * time.Millisecond))
		require.Len(t, id, 26)
		require.True(t, ValidCorrelationID(id))
		require.Greater(t, id, prev)
		prev = id
	}
	require.NotEqual(t, NewCorrelationID(base), NewCorrelationID(base), "random part differs")
}

func TestFromEmptyContext(t *testing.T) {
	require.Equal(t, "", CorrelationID(context.Background()))
	info := &Info{CorrelationID: "abc"}
	require.Equal(t, "abc", CorrelationID(With(context.Background(), info)))
}
