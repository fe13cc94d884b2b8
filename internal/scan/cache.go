package scan

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/openwatch/openwatch/internal/pg"
)

// ComplianceChannel is the NOTIFY channel on which a stored scan (and a host leaving the
// inventory) announces that results and rollups changed.
const ComplianceChannel = "openwatch_compliance"

// maxFleetEntries bounds the fleet cache; it is cleared when full.
const maxFleetEntries = 512

// fleetCache keeps the answers of the fleet summaries (score, top failing rules and
// hosts, recent changes) until results change: every stored scan clears it, in every
// process, through ComplianceChannel. While the listener is down nothing is served from
// it. Concurrent misses of one key share one read; a read started before a change is not
// kept after it.
type fleetCache struct {
	mu        sync.Mutex
	entries   map[string]*fleetEntry
	gen       atomic.Uint64
	listening atomic.Bool
}

type fleetEntry struct {
	gen  uint64
	done chan struct{}
	val  any
	err  error
}

func newFleetCache() *fleetCache { return &fleetCache{entries: map[string]*fleetEntry{}} }

var _ pg.Subscriber = (*fleetCache)(nil)

// Notify clears the cache: results changed.
func (c *fleetCache) Notify(string) { c.gen.Add(1) }

// Connected turns the cache on while the listener is connected (and clears it either way:
// changes may have been missed).
func (c *fleetCache) Connected(on bool) {
	c.gen.Add(1)
	c.listening.Store(on)
}

// load returns the value of key: cached for the current generation, or read by build.
func (c *fleetCache) load(ctx context.Context, key string, build func() (any, error)) (any, error) {
	if !c.listening.Load() {
		return build()
	}
	gen := c.gen.Load()
	c.mu.Lock()
	if e := c.entries[key]; e != nil && e.gen == gen {
		c.mu.Unlock()
		select {
		case <-e.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e.err == nil {
			return e.val, nil
		}
		return build() // the shared read failed: try one's own
	}
	if len(c.entries) >= maxFleetEntries {
		clear(c.entries)
	}
	e := &fleetEntry{gen: gen, done: make(chan struct{})}
	c.entries[key] = e
	c.mu.Unlock()
	e.val, e.err = build()
	close(e.done)
	if e.err != nil {
		c.mu.Lock()
		if c.entries[key] == e {
			delete(c.entries, key)
		}
		c.mu.Unlock()
	}
	return e.val, e.err
}
