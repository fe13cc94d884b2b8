package rule

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEngineVersion: the version names the engine and the corpus by its digest, the same
// on every call.
func TestEngineVersion(t *testing.T) {
	require.Regexp(t, regexp.MustCompile(`^1\.0\.0\+rules\.[0-9a-f]{12}$`), EngineVersion())
	require.Len(t, CorpusDigest(), 64)
	require.Equal(t, EngineVersion(), EngineVersion())
}
