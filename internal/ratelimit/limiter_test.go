package ratelimit_test

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/ratelimit"
)

// clock is a settable fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func requireAllowed(t *testing.T, l *ratelimit.Limiter, key string, n int) {
	t.Helper()
	for i := range n {
		ok, retry := l.Allow(key)
		require.True(t, ok, "request %d of %d", i+1, n)
		require.Zero(t, retry)
	}
}

func requireRefused(t *testing.T, l *ratelimit.Limiter, key string, retryAfter time.Duration) {
	t.Helper()
	ok, retry := l.Allow(key)
	require.False(t, ok)
	require.Equal(t, retryAfter, retry)
}

func TestAllowBurstThenRefill(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := ratelimit.NewLimiter(1, 3, c.Now)

	requireAllowed(t, l, "a", 3)
	requireRefused(t, l, "a", time.Second)
	requireRefused(t, l, "a", time.Second) // a refusal takes nothing

	c.Advance(400 * time.Millisecond)
	requireRefused(t, l, "a", 600*time.Millisecond)
	c.Advance(600 * time.Millisecond)
	requireAllowed(t, l, "a", 1)
	requireRefused(t, l, "a", time.Second)

	c.Advance(2500 * time.Millisecond)
	requireAllowed(t, l, "a", 2)
	requireRefused(t, l, "a", 500*time.Millisecond)

	c.Advance(time.Hour)
	requireAllowed(t, l, "a", 3) // refill stops at burst
	requireRefused(t, l, "a", time.Second)
}

func TestAllowRetryAfterSlowRate(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := ratelimit.NewLimiter(1.0/60, 5, c.Now) // five a minute

	requireAllowed(t, l, "a", 5)
	requireRefused(t, l, "a", time.Minute)
	c.Advance(45 * time.Second)
	requireRefused(t, l, "a", 15*time.Second)
	c.Advance(15 * time.Second)
	requireAllowed(t, l, "a", 1)
}

func TestAllowKeysAreIndependent(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := ratelimit.NewLimiter(1, 2, c.Now)

	requireAllowed(t, l, "192.0.2.1", 2)
	requireRefused(t, l, "192.0.2.1", time.Second)
	requireAllowed(t, l, "192.0.2.2", 2)
	requireRefused(t, l, "192.0.2.2", time.Second)
	requireAllowed(t, l, "", 2)
}

func TestAllowClockGoingBackwards(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := ratelimit.NewLimiter(1, 1, c.Now)

	requireAllowed(t, l, "a", 1)
	c.Advance(-time.Hour)
	requireRefused(t, l, "a", time.Second)
	c.Advance(time.Hour)
	requireRefused(t, l, "a", time.Second) // the hour back and forth grants nothing
	c.Advance(time.Second)
	requireAllowed(t, l, "a", 1)
}

func TestAllowConcurrent(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := ratelimit.NewLimiter(1, 100, c.Now)

	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 50 {
		wg.Go(func() {
			for i := range 10 {
				if ok, _ := l.Allow("shared"); ok {
					allowed.Add(1)
				}
				if ok, _ := l.Allow(strconv.Itoa(g) + "/" + strconv.Itoa(i)); !ok {
					t.Error("a key's first request is allowed")
				}
			}
		})
	}
	wg.Wait()
	require.EqualValues(t, 100, allowed.Load(), "exactly the burst, with the clock stopped")
}

func TestLimiterForgetsIdleKeys(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := ratelimit.NewLimiter(1, 10, c.Now) // an empty bucket is full again after 10 s

	for i := range 1000 {
		l.Allow(strconv.Itoa(i))
	}
	require.Equal(t, 1000, l.Len())

	c.Advance(9 * time.Second)
	l.Allow("new")
	require.Equal(t, 1001, l.Len(), "buckets still refilling are kept")

	c.Advance(time.Second)
	l.Allow("newer")
	require.Equal(t, 2, l.Len(), "full buckets are forgotten when a new key arrives")
}

func TestLimiterCapsKeys(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := ratelimit.NewLimiter(0.001, 2, c.Now) // nothing becomes idle during the flood

	requireAllowed(t, l, "attacker", 2)
	for i := range 2 * ratelimit.MaxKeys {
		ok, _ := l.Allow("flood" + strconv.Itoa(i))
		require.True(t, ok)
		if i%1000 == 0 {
			ok, _ := l.Allow("attacker")
			require.False(t, ok, "a key in use is not evicted by the flood")
		}
	}
	require.Equal(t, ratelimit.MaxKeys, l.Len())

	ok, _ := l.Allow("attacker")
	require.False(t, ok)
	requireAllowed(t, l, "flood0", 2) // evicted long ago: starts afresh
}

func TestNewLimiterRejectsBadArguments(t *testing.T) {
	t.Parallel()
	require.Panics(t, func() { ratelimit.NewLimiter(0, 1, nil) })
	require.Panics(t, func() { ratelimit.NewLimiter(-1, 1, nil) })
	require.Panics(t, func() { ratelimit.NewLimiter(1, 0, nil) })
	require.NotPanics(t, func() {
		ok, _ := ratelimit.NewLimiter(1, 1, nil).Allow("a")
		require.True(t, ok, "a nil clock means time.Now")
	})
}

func BenchmarkAllow(b *testing.B) {
	b.Run("oneKey", func(b *testing.B) {
		l := ratelimit.NewLimiter(1e9, 1_000_000, nil)
		for b.Loop() {
			l.Allow("192.0.2.1")
		}
	})
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = "198.51.100." + strconv.Itoa(i)
	}
	b.Run("manyKeys", func(b *testing.B) {
		l := ratelimit.NewLimiter(10, 5, nil)
		i := 0
		for b.Loop() {
			l.Allow(keys[i%len(keys)])
			i++
		}
	})
	b.Run("distinctKeysAtCap", func(b *testing.B) {
		l := ratelimit.NewLimiter(0.001, 5, nil)
		i := 0
		for b.Loop() {
			l.Allow(strconv.Itoa(i))
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		l := ratelimit.NewLimiter(10, 5, nil)
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				l.Allow(keys[i%len(keys)])
				i++
			}
		})
	})
}
