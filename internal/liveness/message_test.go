package liveness

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apperr"
)

// TestErrorMessage: a network failure reads as itself, never as "an internal error"; an
// application error keeps its message and cause.
func TestErrorMessage(t *testing.T) {
	refused := fmt.Errorf("sshx: banner 127.0.0.1:1: dial tcp 127.0.0.1:1: %w", syscall.ECONNREFUSED)
	require.Equal(t, "sshx: banner 127.0.0.1:1: dial tcp 127.0.0.1:1: connection refused", errorMessage(refused))

	app := &apperr.Error{Code: apperr.CodeHostUnreachable, Message: "The host did not answer.", Err: refused}
	require.Equal(t, "The host did not answer. "+refused.Error(), errorMessage(fmt.Errorf("probe: %w", app)))
}
