package ratelimit_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/ratelimit"
)

// waitUntil yields until cond holds; the test's own deadline bounds it.
func waitUntil(cond func() bool) {
	for !cond() {
		runtime.Gosched()
	}
}

// track counts one run of expensive work: it raises peak to the number running at once,
// yields so that others can overlap, and leaves.
func track(running, peak *atomic.Int64) {
	n := running.Add(1)
	for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
	}
	runtime.Gosched()
	running.Add(-1)
}

// blocker starts n calls through g that run until release is closed, and returns once
// all n are running. done receives each call's error.
func blocker(t *testing.T, g *ratelimit.Gate, n int) (release chan struct{}, done chan error) {
	t.Helper()
	release, done = make(chan struct{}), make(chan error, n)
	var started sync.WaitGroup
	started.Add(n)
	for range n {
		go func() {
			done <- g.Do(context.Background(), func() {
				started.Done()
				<-release
			})
		}()
	}
	started.Wait()
	return release, done
}

func TestGateBoundsConcurrency(t *testing.T) {
	t.Parallel()
	const concurrent, callers = 4, 500
	g := ratelimit.NewGate(concurrent, callers)

	var running, peak, ran atomic.Int64
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			err := g.Do(context.Background(), func() {
				track(&running, &peak)
				ran.Add(1)
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	require.EqualValues(t, callers, ran.Load(), "the queue holds every caller, so all run")
	require.LessOrEqual(t, peak.Load(), int64(concurrent))
	require.Zero(t, g.Admitted())
}

func TestGateRefusesBeyondQueue(t *testing.T) {
	t.Parallel()
	const concurrent, queue, callers = 3, 5, 400
	g := ratelimit.NewGate(concurrent, queue)

	var running, peak, ran, busy atomic.Int64
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			err := g.Do(context.Background(), func() {
				track(&running, &peak)
				ran.Add(1)
			})
			switch {
			case err == nil:
			case err == ratelimit.ErrBusy:
				busy.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	require.EqualValues(t, callers, ran.Load()+busy.Load(), "every call ran or was refused")
	require.LessOrEqual(t, peak.Load(), int64(concurrent))
}

func TestGateBusyWhenNoQueue(t *testing.T) {
	t.Parallel()
	g := ratelimit.NewGate(2, 0)
	release, done := blocker(t, g, 2)

	ran := false
	require.ErrorIs(t, g.Do(context.Background(), func() { ran = true }), ratelimit.ErrBusy)
	require.False(t, ran)

	close(release)
	require.NoError(t, <-done)
	require.NoError(t, <-done)
	require.NoError(t, g.Do(context.Background(), func() { ran = true }))
	require.True(t, ran, "slots are given back")
}

func TestGateBusyWhenQueueFull(t *testing.T) {
	t.Parallel()
	g := ratelimit.NewGate(1, 1)
	release, done := blocker(t, g, 1)

	var queuedRan atomic.Bool
	queued := make(chan error, 1)
	go func() { queued <- g.Do(context.Background(), func() { queuedRan.Store(true) }) }()
	waitUntil(func() bool { return g.Admitted() == 2 })
	require.False(t, queuedRan.Load(), "waits while the slot is taken")

	ran := false
	require.ErrorIs(t, g.Do(context.Background(), func() { ran = true }), ratelimit.ErrBusy)
	require.False(t, ran)

	close(release)
	require.NoError(t, <-done)
	require.NoError(t, <-queued)
	require.True(t, queuedRan.Load(), "the queued call runs once the slot frees up")
}

func TestGateHonoursCancel(t *testing.T) {
	t.Parallel()
	g := ratelimit.NewGate(1, 1)
	release, done := blocker(t, g, 1)

	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Bool
	queued := make(chan error, 1)
	go func() { queued <- g.Do(ctx, func() { ran.Store(true) }) }()
	waitUntil(func() bool { return g.Admitted() == 2 })
	cancel()
	require.ErrorIs(t, <-queued, context.Canceled)
	require.False(t, ran.Load())
	require.Equal(t, 1, g.Admitted(), "the cancelled call left the queue")

	require.ErrorIs(t, g.Do(ctx, func() { ran.Store(true) }), context.Canceled, "already cancelled")
	require.False(t, ran.Load())

	close(release)
	require.NoError(t, <-done)
}

func TestGateRecoversFromPanic(t *testing.T) {
	t.Parallel()
	g := ratelimit.NewGate(1, 0)
	require.Panics(t, func() { _ = g.Do(context.Background(), func() { panic("boom") }) })
	require.Zero(t, g.Admitted())
	require.NoError(t, g.Do(context.Background(), func() {}), "the slot was given back")
}

func TestNewGateRejectsBadArguments(t *testing.T) {
	t.Parallel()
	require.Panics(t, func() { ratelimit.NewGate(0, 1) })
	require.Panics(t, func() { ratelimit.NewGate(1, -1) })
}
