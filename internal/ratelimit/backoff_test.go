package ratelimit_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/ratelimit"
)

func TestDefaultBackoff(t *testing.T) {
	t.Parallel()
	b := ratelimit.DefaultBackoff()
	require.Equal(t, ratelimit.Backoff{Threshold: 5, Base: 30 * time.Second, Max: 15 * time.Minute}, b)
	for failures, want := range map[int]time.Duration{
		-1:                0,
		0:                 0,
		1:                 0,
		4:                 0,
		5:                 30 * time.Second,
		6:                 time.Minute,
		7:                 2 * time.Minute,
		8:                 4 * time.Minute,
		9:                 8 * time.Minute,
		10:                15 * time.Minute,
		11:                15 * time.Minute,
		100:               15 * time.Minute,
		math.MaxInt:       15 * time.Minute,
		math.MaxInt32 + 7: 15 * time.Minute,
	} {
		require.Equal(t, want, b.LockFor(failures), "%d failures", failures)
	}
}

func TestBackoffEdges(t *testing.T) {
	t.Parallel()
	require.Zero(t, ratelimit.Backoff{}.LockFor(100), "the zero Backoff never locks")

	uncapped := ratelimit.Backoff{Threshold: 1, Base: time.Second}
	require.Equal(t, time.Second, uncapped.LockFor(1))
	require.Equal(t, 1024*time.Second, uncapped.LockFor(11))
	require.Equal(t, time.Duration(math.MaxInt64), uncapped.LockFor(1000), "saturates, never overflows")

	require.Equal(t, 5*time.Second,
		ratelimit.Backoff{Threshold: 3, Base: 10 * time.Second, Max: 5 * time.Second}.LockFor(3),
		"Max below Base caps the first lock too")
}
