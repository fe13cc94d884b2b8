package host

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/openwatch/openwatch/internal/pg"
)

// InventoryChannel is the NOTIFY channel on which the database announces every change to
// hosts and host groups (statement triggers of 00010_inventory_notify.sql, so no writer,
// COPY included, can forget to).
const InventoryChannel = "openwatch_inventory"

// maxCachedPages bounds the page cache; it is cleared when full.
const maxCachedPages = 1024

// errPageReadPanicked is what the waiters of a page read get when the read panicked.
var errPageReadPanicked = errors.New("host: page read panicked")

// livenessTable is the payload of the notifications a liveness change sends (00013).
const livenessTable = "host_liveness"

// pageCache keeps encoded GET /hosts pages. Every inventory change clears it: at once in
// the process that made the change, through InventoryChannel in the others. A stored scan
// clears it too (the application subscribes it to the compliance channel as well), since
// pages carry each host's compliance summary. While the listener is down nothing is
// served from it. A generation counter keeps a page read before a change from being
// stored after it.
//
// A change of a host's monitoring state (the liveness poller's, which in a fleet that
// flaps comes several times a second) only makes the pages stale: the next miss of a
// page reads it again, and the requests that come while it does get the stale page at
// once instead of waiting, so a busy dashboard does not stall behind every probe batch.
// A request that comes alone always gets a page read after the change.
type pageCache struct {
	mu    sync.RWMutex
	pages map[string][]byte
	// stale are the pages a liveness change made stale, by key, until read again.
	stale map[string][]byte
	// flights are the pages being read, by key: a miss that finds one of its generation
	// waits for it (or takes the stale page) instead of reading the same page again.
	flights   map[string]*flight
	gen       atomic.Uint64
	listening atomic.Bool
	hits      atomic.Uint64
	misses    atomic.Uint64
}

func newPageCache() *pageCache {
	return &pageCache{pages: map[string][]byte{}, stale: map[string][]byte{}, flights: map[string]*flight{}}
}

// flight is one read of a page; done is closed when page or err is set.
type flight struct {
	gen  uint64
	done chan struct{}
	page []byte
	err  error
}

// load returns the page of key: cached, or read by build. Concurrent misses of one key
// and generation share one build: a change to the inventory clears every page, and the
// requests that then miss together (a busy dashboard, a fleet changing state) would
// otherwise each read the same page from the database. A build that fails is not shared:
// a waiter then builds its own.
func (c *pageCache) load(ctx context.Context, key string, build func() ([]byte, error)) ([]byte, error) {
	page, gen := c.get(key)
	if page != nil {
		return page, nil
	}
	if !c.listening.Load() {
		return build()
	}
	c.mu.Lock()
	if f := c.flights[key]; f != nil && f.gen == gen {
		if stale := c.stale[key]; stale != nil {
			c.mu.Unlock()
			return stale, nil
		}
		c.mu.Unlock()
		select {
		case <-f.done:
			if f.err == nil {
				return f.page, nil
			}
			return build()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &flight{gen: gen, done: make(chan struct{})}
	c.flights[key] = f
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if c.flights[key] == f {
			delete(c.flights, key)
		}
		c.mu.Unlock()
		close(f.done)
	}()
	f.err = errPageReadPanicked // until build returns
	f.page, f.err = build()
	if f.err == nil {
		c.put(key, gen, f.page)
	}
	return f.page, f.err
}

// get returns a cached page and the generation to store a fresh one under.
func (c *pageCache) get(key string) ([]byte, uint64) {
	gen := c.gen.Load()
	if !c.listening.Load() {
		c.misses.Add(1)
		return nil, gen
	}
	c.mu.RLock()
	b := c.pages[key]
	c.mu.RUnlock()
	if b == nil {
		c.misses.Add(1)
	} else {
		c.hits.Add(1)
	}
	return b, gen
}

// stats returns how many lookups found a page and how many did not.
func (c *pageCache) stats() (hits, misses uint64) { return c.hits.Load(), c.misses.Load() }

// put stores a page read at generation gen, unless the inventory changed since.
func (c *pageCache) put(key string, gen uint64, page []byte) {
	if !c.listening.Load() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() != gen {
		return
	}
	if len(c.pages) >= maxCachedPages {
		clear(c.pages)
	}
	c.pages[key] = page
	delete(c.stale, key)
}

// invalidate drops every page.
func (c *pageCache) invalidate() {
	c.mu.Lock()
	c.gen.Add(1)
	clear(c.pages)
	clear(c.stale)
	c.mu.Unlock()
}

// soften makes every page stale (see pageCache).
func (c *pageCache) soften() {
	c.mu.Lock()
	c.gen.Add(1)
	if len(c.stale)+len(c.pages) > maxCachedPages {
		clear(c.stale)
	}
	for k, p := range c.pages {
		c.stale[k] = p
	}
	clear(c.pages)
	c.mu.Unlock()
}

// Notify implements pg.Subscriber: a liveness change makes the pages stale, any other
// change drops them.
func (c *pageCache) Notify(payload string) {
	if payload == livenessTable {
		c.soften()
		return
	}
	c.invalidate()
}

// Connected implements pg.Subscriber.
func (c *pageCache) Connected(on bool) {
	c.invalidate()
	c.listening.Store(on)
}

var _ pg.Subscriber = (*pageCache)(nil)
