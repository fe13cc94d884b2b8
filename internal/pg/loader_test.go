package pg_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/pg"
)

// gate is a fetch that records the keys of each call and blocks until released.
type gate struct {
	mu      sync.Mutex
	calls   [][]int
	started chan []int
	release chan error
}

func newGate() *gate {
	return &gate{started: make(chan []int, 100), release: make(chan error, 100)}
}

func (g *gate) fetch(_ context.Context, keys []int) (map[int]string, error) {
	g.mu.Lock()
	g.calls = append(g.calls, slices.Clone(keys))
	g.mu.Unlock()
	g.started <- keys
	if err := <-g.release; err != nil {
		return nil, err
	}
	rows := map[int]string{}
	for _, k := range keys {
		if k >= 0 { // negative keys have no row
			rows[k] = "row" + string(rune('a'+k))
		}
	}
	return rows, nil
}

// sortedCalls returns the keys of each fetch, each call's sorted.
func sortedCalls(g *gate) [][]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([][]int, len(g.calls))
	for i, c := range g.calls {
		out[i] = slices.Sorted(slices.Values(c))
	}
	return out
}

type result struct {
	key   int
	val   string
	found bool
	err   error
}

func load(ctx context.Context, l *pg.Loader[int, string], key int, out chan<- result) {
	v, found, err := l.Load(ctx, key)
	out <- result{key, v, found, err}
}

// waitWaiting blocks until n lookups wait in l.
func waitWaiting(t *testing.T, l *pg.Loader[int, string], n int) {
	t.Helper()
	require.Eventually(t, func() bool { return pg.LoaderWaiting(l) == n }, 5*time.Second, time.Millisecond)
}

// TestLoaderGathersWaitingLookups: while the only lane is busy, the lookups that arrive
// wait and are then read by one query, and each gets its own row (or none).
func TestLoaderGathersWaitingLookups(t *testing.T) {
	g := newGate()
	l := pg.NewLoader(1, 10, g.fetch)
	ctx := context.Background()
	out := make(chan result, 10)

	go load(ctx, l, 0, out)
	require.Equal(t, []int{0}, <-g.started) // a free lane: its own query, at once
	for _, k := range []int{1, 2, -1, 2} {
		go load(ctx, l, k, out)
	}
	waitWaiting(t, l, 4)

	g.release <- nil
	second := <-g.started
	require.ElementsMatch(t, []int{1, 2, -1, 2}, second, "the waiting lookups are read together")
	g.release <- nil

	got := map[int][]result{}
	for range 5 {
		r := <-out
		require.NoError(t, r.err)
		got[r.key] = append(got[r.key], r)
	}
	require.Equal(t, "rowa", got[0][0].val)
	require.Equal(t, "rowb", got[1][0].val)
	require.Len(t, got[2], 2)
	require.True(t, got[2][0].found && got[2][1].found)
	require.False(t, got[-1][0].found, "a key without a row is not found, and not an error")
	require.Len(t, g.calls, 2, "five lookups, two queries")
	require.Equal(t, 0, pg.LoaderWaiting(l))

	// The lane is free again: the next lookup runs its own query.
	go load(ctx, l, 3, out)
	require.Equal(t, []int{3}, <-g.started)
	g.release <- nil
	require.Equal(t, "rowd", (<-out).val)
}

// TestLoaderBatchBound: no query reads more than maxBatch keys; the rest wait for the next.
func TestLoaderBatchBound(t *testing.T) {
	g := newGate()
	l := pg.NewLoader(1, 2, g.fetch)
	ctx := context.Background()
	out := make(chan result, 10)
	go load(ctx, l, 0, out)
	<-g.started
	for k := 1; k <= 5; k++ {
		go load(ctx, l, k, out)
	}
	waitWaiting(t, l, 5)
	for range 3 {
		g.release <- nil
		require.LessOrEqual(t, len(<-g.started), 2)
	}
	g.release <- nil
	for range 6 {
		require.NoError(t, (<-out).err)
	}
	require.Len(t, g.calls, 4) // 1, then 2 + 2 + 1
}

// TestLoaderNeverJoinsASentQuery: a lookup that arrives while a query runs is not
// answered by it (that query may have read before the lookup's caller wrote).
func TestLoaderNeverJoinsASentQuery(t *testing.T) {
	g := newGate()
	l := pg.NewLoader(2, 10, g.fetch)
	ctx := context.Background()
	out := make(chan result, 10)
	go load(ctx, l, 1, out)
	require.Equal(t, []int{1}, <-g.started)
	go load(ctx, l, 1, out) // same key, a lane free: a query of its own
	require.Equal(t, []int{1}, <-g.started)
	g.release <- nil
	g.release <- nil
	require.NoError(t, (<-out).err)
	require.NoError(t, (<-out).err)
	require.Len(t, g.calls, 2)
}

// TestLoaderErrorsAndCancellation: a failed query fails every lookup of its batch; a
// waiting lookup whose context ends leaves at once and is not read; a lookup that runs the
// batch for others finishes it even when its own context ends.
func TestLoaderErrorsAndCancellation(t *testing.T) {
	g := newGate()
	l := pg.NewLoader(1, 10, g.fetch)
	out := make(chan result, 10)
	go load(context.Background(), l, 0, out)
	<-g.started

	gone, cancel := context.WithCancel(context.Background())
	go load(gone, l, 5, out)
	waitWaiting(t, l, 1)
	cancel()
	r := <-out
	require.ErrorIs(t, r.err, context.Canceled)
	require.Equal(t, 5, r.key)
	waitWaiting(t, l, 0)

	leader, cancelLeader := context.WithCancel(context.Background())
	go load(leader, l, 1, out)
	waitWaiting(t, l, 1)
	go load(context.Background(), l, 2, out)
	waitWaiting(t, l, 2)
	g.release <- nil // the first query ends; the lookup of key 1 runs the next for both
	require.Equal(t, "rowa", (<-out).val)
	require.ElementsMatch(t, []int{1, 2}, <-g.started)
	cancelLeader()
	boom := errors.New("boom")
	g.release <- boom
	for range 2 {
		require.ErrorIs(t, (<-out).err, boom, "the batch's failure reaches each of its lookups")
	}
	require.Equal(t, [][]int{{0}, {1, 2}}, sortedCalls(g), "the cancelled lookup was never read")
}

// TestLoaderPanicReleasesOthers: a query that panics fails the others of its batch and
// frees its lane; the panic reaches the lookup that ran it.
func TestLoaderPanicReleasesOthers(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	first := true
	l := pg.NewLoader(1, 10, func(_ context.Context, keys []int) (map[int]string, error) {
		if first {
			first = false
			close(started)
			<-release
			return map[int]string{}, nil
		}
		if slices.Contains(keys, 7) {
			panic("query panicked")
		}
		return map[int]string{keys[0]: "ok"}, nil
	})
	out := make(chan result, 10)
	go load(context.Background(), l, 0, out)
	<-started
	panicked := make(chan any, 1)
	go func() {
		defer func() { panicked <- recover() }()
		_, _, _ = l.Load(context.Background(), 7)
	}()
	waitWaiting(t, l, 1)
	go load(context.Background(), l, 8, out)
	waitWaiting(t, l, 2)
	close(release)
	require.NoError(t, (<-out).err)
	require.Equal(t, "query panicked", <-panicked)
	r := <-out
	require.Equal(t, 8, r.key)
	require.Error(t, r.err)

	v, found, err := l.Load(context.Background(), 9)
	require.NoError(t, err, "the lane was freed")
	require.True(t, found)
	require.Equal(t, "ok", v)
}

// TestLoaderMemberLeavesARunningBatch: a lookup whose context ends while the batch that
// holds it runs leaves at once; the batch still answers the others.
func TestLoaderMemberLeavesARunningBatch(t *testing.T) {
	g := newGate()
	l := pg.NewLoader(1, 10, g.fetch)
	out := make(chan result, 10)
	go load(context.Background(), l, 0, out)
	<-g.started
	go load(context.Background(), l, 1, out)
	waitWaiting(t, l, 1)
	member, cancel := context.WithCancel(context.Background())
	go load(member, l, 2, out)
	waitWaiting(t, l, 2)
	g.release <- nil
	require.Equal(t, 0, (<-out).key)
	require.ElementsMatch(t, []int{1, 2}, <-g.started) // the batch of 1 and 2 runs
	cancel()
	r := <-out
	require.Equal(t, 2, r.key)
	require.ErrorIs(t, r.err, context.Canceled, "left while its batch ran")
	g.release <- nil
	r = <-out
	require.Equal(t, 1, r.key)
	require.NoError(t, r.err)
	require.Equal(t, "rowb", r.val)
}
