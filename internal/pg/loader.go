package pg

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Loader reads rows by key, gathering the lookups that arrive while the database is busy
// into one query. At most lanes queries run at once. A lookup that finds a lane free runs
// its own query at once (a quiet server pays nothing for the gathering); one that finds
// them all busy waits, and when a lane frees, the first waiter runs one query for the keys
// of everyone waiting (up to maxBatch of them). Under load this turns many small queries,
// each costing the database a round trip, a wake-up and an executor start, into a few
// that each read several rows.
//
// A lookup never joins a query that was sent before it began, so it sees every change
// committed before it was asked, as its own query would.
type Loader[K comparable, V any] struct {
	fetch    func(ctx context.Context, keys []K) (map[K]V, error)
	lanes    int
	maxBatch int

	mu      sync.Mutex
	busy    int
	waiting []*loadCall[K, V]
}

// loadCall is one lookup. Its wake channel receives the batch it is to run, when it is
// chosen to, and is closed once its result is set.
type loadCall[K comparable, V any] struct {
	key   K
	val   V
	found bool
	err   error
	wake  chan []*loadCall[K, V]
	// leads is set (under the loader's lock) when the call is chosen to run its batch.
	leads bool
}

// batchTimeout bounds a query that runs for others: it does not end when the context of
// the call that runs it does.
const batchTimeout = 30 * time.Second

// errLoaderPanicked is what the others of a batch get when its query panicked.
var errLoaderPanicked = errors.New("pg: the query reading this row panicked")

// NewLoader returns a loader that reads keys with fetch, which returns the rows it found
// by key (a missing key is not an error). lanes and maxBatch are at least 1.
func NewLoader[K comparable, V any](lanes, maxBatch int, fetch func(ctx context.Context, keys []K) (map[K]V, error)) *Loader[K, V] {
	return &Loader[K, V]{fetch: fetch, lanes: max(lanes, 1), maxBatch: max(maxBatch, 1)}
}

// Load returns the row of key, and whether there is one.
func (l *Loader[K, V]) Load(ctx context.Context, key K) (V, bool, error) {
	c := &loadCall[K, V]{key: key}
	l.mu.Lock()
	if l.busy < l.lanes {
		l.busy++
		l.mu.Unlock()
		l.run(ctx, c, []*loadCall[K, V]{c})
		return c.val, c.found, c.err
	}
	c.wake = make(chan []*loadCall[K, V], 1)
	l.waiting = append(l.waiting, c)
	l.mu.Unlock()

	select {
	case batch, chosen := <-c.wake:
		if chosen {
			l.run(ctx, c, batch)
		}
		return c.val, c.found, c.err
	case <-ctx.Done():
	}
	if !l.leave(c) {
		// Chosen to run a batch: the others wait for it, and it is on its way. A call that
		// is only one of a batch leaves: nobody waits for it.
		if batch := <-c.wake; batch != nil {
			l.run(ctx, c, batch)
		}
	}
	var zero V
	return zero, false, ctx.Err()
}

// leave takes a waiting call off the queue, or reports false when it was chosen to run a
// batch (which it must then do). A call that is one of a batch it does not run may leave.
func (l *Loader[K, V]) leave(c *loadCall[K, V]) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, w := range l.waiting {
		if w == c {
			l.waiting = append(l.waiting[:i], l.waiting[i+1:]...)
			return true
		}
	}
	return !c.leads
}

// run reads batch (self among it) on a lane it holds, sets every result, then hands the
// lane to the next waiters or frees it. The query outlives self's cancellation when
// others wait for it.
func (l *Loader[K, V]) run(ctx context.Context, self *loadCall[K, V], batch []*loadCall[K, V]) {
	if len(batch) > 1 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), batchTimeout)
		defer cancel()
	}
	settled := false
	defer func() {
		if !settled { // fetch panicked: the others must not wait for ever
			for _, c := range batch {
				c.err = errLoaderPanicked
			}
		}
		for _, c := range batch {
			if c != self {
				close(c.wake)
			}
		}
		l.handOff()
	}()
	keys := make([]K, len(batch))
	for i, c := range batch {
		keys[i] = c.key
	}
	rows, err := l.fetch(ctx, keys)
	for _, c := range batch {
		c.err = err
		if err == nil {
			c.val, c.found = rows[c.key]
		}
	}
	settled = true
}

// handOff gives the lane just freed to the calls waiting, the first of which runs their
// query, or frees it.
func (l *Loader[K, V]) handOff() {
	l.mu.Lock()
	if len(l.waiting) == 0 {
		l.busy--
		l.mu.Unlock()
		return
	}
	n := min(len(l.waiting), l.maxBatch)
	batch := make([]*loadCall[K, V], n)
	copy(batch, l.waiting)
	l.waiting = append(l.waiting[:0], l.waiting[n:]...)
	batch[0].leads = true
	l.mu.Unlock()
	batch[0].wake <- batch
}
