package apperr_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apperr"
)

// errThingNotFound is built the way STYLE.md rule 15 asks: a fresh value per use.
func errThingNotFound() *apperr.Error { return apperr.NotFound("The thing does not exist.") }

func TestSentinelFunctionWithDetailIsIndependent(t *testing.T) {
	t.Parallel()
	a := errThingNotFound().WithDetail("thing_id", "a")
	b := errThingNotFound().WithDetail("thing_id", "b")
	require.Equal(t, "a", a.Detail["thing_id"])
	require.Equal(t, "b", b.Detail["thing_id"])
	require.Nil(t, errThingNotFound().Detail, "a later use starts without detail")
	require.True(t, apperr.Is(a, apperr.CodeNotFound))
	require.True(t, apperr.Is(b, apperr.CodeNotFound))
}

func TestWithDetailLeavesReceiverAlone(t *testing.T) {
	t.Parallel()
	shared := apperr.NotFound("The thing does not exist.")
	a := shared.WithDetail("thing_id", "a")
	b := shared.WithDetail("thing_id", "b")
	require.Nil(t, shared.Detail, "the shared value is not changed")
	require.Equal(t, map[string]any{"thing_id": "a"}, a.Detail)
	require.Equal(t, map[string]any{"thing_id": "b"}, b.Detail)

	field := apperr.Invalid("name", "The name is too long.")
	more := field.WithDetail("max", 64)
	require.Equal(t, map[string]any{"field": "name"}, field.Detail, "an existing detail map is not changed")
	require.Equal(t, map[string]any{"field": "name", "max": 64}, more.Detail)
}

func TestWithDetailKeepsTheRest(t *testing.T) {
	t.Parallel()
	cause := errors.New("boom")
	e := &apperr.Error{Code: apperr.CodeRateLimited, Message: "Slow down.", Err: cause, RetryAfter: 3 * time.Second}
	got := e.WithDetail("scope", "login")
	require.True(t, apperr.Is(got, apperr.CodeRateLimited))
	require.Equal(t, "Slow down.", got.HumanMessage())
	require.ErrorIs(t, got, cause)
	require.Equal(t, 3*time.Second, got.RetryAfter)
}
