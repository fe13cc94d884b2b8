package host

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// flightOf returns the read of key in progress, or nil.
func flightOf(c *pageCache, key string) *flight {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.flights[key]
}

// TestPageMissesShareOneRead: loads that miss together share one read of the page; a
// load after the inventory changed does not join a read that began before.
func TestPageMissesShareOneRead(t *testing.T) {
	c := newPageCache()
	c.Connected(true)
	ctx := context.Background()
	var builds atomic.Int32
	release := make(chan struct{})
	build := func() ([]byte, error) {
		builds.Add(1)
		<-release
		return []byte("page"), nil
	}

	var wg sync.WaitGroup
	got := make([][]byte, 8)
	wg.Go(func() {
		var err error
		got[0], err = c.load(ctx, "k", build)
		require.NoError(t, err)
	})
	require.Eventually(t, func() bool { return flightOf(c, "k") != nil }, 5*time.Second, time.Millisecond)
	for i := 1; i < len(got); i++ {
		wg.Go(func() {
			var err error
			got[i], err = c.load(ctx, "k", func() ([]byte, error) { builds.Add(1); return []byte("other"), nil })
			require.NoError(t, err)
		})
	}
	time.Sleep(50 * time.Millisecond) // let them reach the flight (a late one hits the cache: same page)
	close(release)
	wg.Wait()
	require.Equal(t, int32(1), builds.Load(), "one read for all the misses")
	for _, p := range got {
		require.Equal(t, "page", string(p))
	}

	// After a change a miss reads again, even while an older read is still running.
	c.invalidate()
	slow := make(chan struct{})
	var old []byte
	wg.Go(func() {
		old, _ = c.load(ctx, "k", func() ([]byte, error) { <-slow; return []byte("before"), nil })
	})
	require.Eventually(t, func() bool { return flightOf(c, "k") != nil }, 5*time.Second, time.Millisecond)
	c.invalidate()
	fresh, err := c.load(ctx, "k", func() ([]byte, error) { return []byte("after"), nil })
	require.NoError(t, err)
	require.Equal(t, "after", string(fresh))
	close(slow)
	wg.Wait()
	require.Equal(t, "before", string(old))
	cached, _ := c.get("k")
	require.Equal(t, "after", string(cached), "the older read is not stored over the newer")
}

// TestPageReadFailureIsNotShared: when the shared read fails, each waiter reads for
// itself; a waiter whose context ends leaves.
func TestPageReadFailureIsNotShared(t *testing.T) {
	c := newPageCache()
	c.Connected(true)
	release := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		_, err := c.load(context.Background(), "k", func() ([]byte, error) { <-release; return nil, errors.New("boom") })
		require.Error(t, err)
	})
	require.Eventually(t, func() bool { return flightOf(c, "k") != nil }, 5*time.Second, time.Millisecond)
	var own []byte
	wg.Go(func() {
		var err error
		own, err = c.load(context.Background(), "k", func() ([]byte, error) { return []byte("own"), nil })
		require.NoError(t, err)
	})
	gone, cancel := context.WithCancel(context.Background())
	left := make(chan error, 1)
	go func() {
		_, err := c.load(gone, "k", func() ([]byte, error) { return []byte("x"), nil })
		left <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	require.ErrorIs(t, <-left, context.Canceled)
	close(release)
	wg.Wait()
	require.Equal(t, "own", string(own))

	// With the listener down nothing is cached or shared.
	c.Connected(false)
	n := 0
	for range 2 {
		p, err := c.load(context.Background(), "k", func() ([]byte, error) { n++; return []byte("p"), nil })
		require.NoError(t, err)
		require.Equal(t, "p", string(p))
	}
	require.Equal(t, 2, n)
}

// TestLivenessChangeServesStaleWhileReading: after a liveness change the first miss reads
// the page again, and the requests that come meanwhile get the page as it was instead of
// waiting; any other change makes them wait for the new page.
func TestLivenessChangeServesStaleWhileReading(t *testing.T) {
	c := newPageCache()
	c.Connected(true)
	ctx := context.Background()
	p, err := c.load(ctx, "k", func() ([]byte, error) { return []byte("v1"), nil })
	require.NoError(t, err)
	require.Equal(t, "v1", string(p))

	c.Notify("host_liveness")
	release := make(chan struct{})
	var wg sync.WaitGroup
	var first []byte
	wg.Go(func() {
		first, _ = c.load(ctx, "k", func() ([]byte, error) { <-release; return []byte("v2"), nil })
	})
	require.Eventually(t, func() bool { return flightOf(c, "k") != nil }, 5*time.Second, time.Millisecond)
	during, err := c.load(ctx, "k", func() ([]byte, error) { t.Error("a second read"); return nil, nil })
	require.NoError(t, err)
	require.Equal(t, "v1", string(during), "served stale at once while the page is read")
	close(release)
	wg.Wait()
	require.Equal(t, "v2", string(first), "the request that came first reads the page again")
	after, err := c.load(ctx, "k", func() ([]byte, error) { return []byte("v3"), nil })
	require.NoError(t, err)
	require.Equal(t, "v2", string(after), "the new page is cached")

	// A request that comes alone after a change never gets the stale page.
	c.Notify("host_liveness")
	alone, err := c.load(ctx, "k", func() ([]byte, error) { return []byte("v3"), nil })
	require.NoError(t, err)
	require.Equal(t, "v3", string(alone))

	// Any other change: no stale page; the others wait for the new one.
	c.Notify("hosts")
	release = make(chan struct{})
	wg.Go(func() {
		_, _ = c.load(ctx, "k", func() ([]byte, error) { <-release; return []byte("v4"), nil })
	})
	require.Eventually(t, func() bool { return flightOf(c, "k") != nil }, 5*time.Second, time.Millisecond)
	got := make(chan []byte, 1)
	go func() {
		p, _ := c.load(ctx, "k", func() ([]byte, error) { return []byte("own"), nil })
		got <- p
	}()
	select {
	case p := <-got:
		t.Fatalf("answered %q before the page was read", p)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	require.Equal(t, "v4", string(<-got))
	wg.Wait()
}
