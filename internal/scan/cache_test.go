package scan

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFleetCache(t *testing.T) {
	ctx := context.Background()
	c := newFleetCache()
	var reads atomic.Int64
	build := func(v int) func() (any, error) {
		return func() (any, error) { reads.Add(1); return v, nil }
	}

	// Not listening: every read goes to the database.
	v, err := c.load(ctx, "k", build(1))
	require.NoError(t, err)
	require.Equal(t, 1, v)
	_, _ = c.load(ctx, "k", build(1))
	require.EqualValues(t, 2, reads.Load())

	c.Connected(true)
	reads.Store(0)
	v, _ = c.load(ctx, "k", build(2))
	require.Equal(t, 2, v)
	v, _ = c.load(ctx, "k", build(3))
	require.Equal(t, 2, v, "cached until results change")
	require.EqualValues(t, 1, reads.Load())

	c.Notify("")
	v, _ = c.load(ctx, "k", build(4))
	require.Equal(t, 4, v, "a change clears it")

	// Concurrent misses share one read.
	c.Notify("")
	reads.Store(0)
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			v, err := c.load(ctx, "k", func() (any, error) { <-release; reads.Add(1); return 5, nil })
			require.NoError(t, err)
			require.Equal(t, 5, v)
		})
	}
	close(release)
	wg.Wait()
	require.EqualValues(t, 1, reads.Load())

	// A failed read is not kept, and its waiters read for themselves.
	c.Notify("")
	_, err = c.load(ctx, "k", func() (any, error) { return nil, errors.New("down") })
	require.Error(t, err)
	v, _ = c.load(ctx, "k", build(6))
	require.Equal(t, 6, v)

	// Losing the listener turns the cache off.
	c.Connected(false)
	reads.Store(0)
	_, _ = c.load(ctx, "k", build(7))
	_, _ = c.load(ctx, "k", build(7))
	require.EqualValues(t, 2, reads.Load())
}
