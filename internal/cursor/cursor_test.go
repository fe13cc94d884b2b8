package cursor

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apperr"
)

func TestRoundTrip(t *testing.T) {
	id := uuid.New()
	c := Encode(id)
	var got uuid.UUID
	ok, err := Decode(&c, &got)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, id, got)
}

func TestMalformed(t *testing.T) {
	for _, bad := range []string{"%%%", "bm90LWpzb24", Encode(uuid.New())[:10], "eyJ2IjoyLCJrIjoiMSJ9"} {
		var got uuid.UUID
		_, err := Decode(&bad, &got)
		require.True(t, apperr.Is(err, apperr.CodeValidationFailed), bad)
	}
	var got uuid.UUID
	ok, err := Decode(nil, &got)
	require.NoError(t, err)
	require.False(t, ok)
}

func TestLimit(t *testing.T) {
	n := func(i int) *int { return &i }
	require.Equal(t, 50, Limit(nil))
	require.Equal(t, 10, Limit(n(10)))
	require.Equal(t, 200, Limit(n(1000)))
}
