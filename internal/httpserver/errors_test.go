package httpserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apperr"
)

// TestDeadlineIsRetryable: a raw deadline reaching the envelope writer (a step that ran out
// of time under load) is a retryable 503, never internal.error; other raw errors stay
// internal.
func TestDeadlineIsRetryable(t *testing.T) {
	ae := toAppErr(fmt.Errorf("record probe: %w", context.DeadlineExceeded))
	require.Equal(t, apperr.CodeUnavailable, ae.Code)
	spec := apperr.Registry[ae.Code]
	require.Equal(t, http.StatusServiceUnavailable, spec.Status)
	require.True(t, spec.Retryable)
	require.Equal(t, apperr.CodeInternal, toAppErr(errors.New("boom")).Code)
}
