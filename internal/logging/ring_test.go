package logging

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRingKeepsTheLastLines(t *testing.T) {
	r := NewRing(3)
	var out bytes.Buffer
	log, err := New(r.Tee(&out), "info", "json")
	require.NoError(t, err)
	log.Debug("hidden")
	for i := range 5 {
		log.Info(fmt.Sprintf("line %d", i))
	}
	require.Equal(t, 3, r.Len())
	lines := strings.Split(strings.TrimSuffix(string(r.Snapshot()), "\n"), "\n")
	require.Len(t, lines, 3)
	for i, l := range lines {
		require.Contains(t, l, fmt.Sprintf(`"msg":"line %d"`, i+2))
	}
	require.NotContains(t, string(r.Snapshot()), "hidden")
	require.Equal(t, 5, strings.Count(out.String(), "\n"), "the real output gets every line")
}

func TestRingSplitsWrites(t *testing.T) {
	r := NewRing(10)
	_, _ = r.Write([]byte("a\nb\nc"))
	require.Equal(t, "a\nb\nc\n", string(r.Snapshot()))
	require.Equal(t, 0, NewRing(2).Len())
}
