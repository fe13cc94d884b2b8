package host

import (
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

// pageCache keeps encoded GET /hosts pages. Every inventory change clears it: at once in
// the process that made the change, through InventoryChannel in the others. While the
// listener is down nothing is served from it. A generation counter keeps a page read
// before a change from being stored after it.
type pageCache struct {
	mu        sync.RWMutex
	pages     map[string][]byte
	gen       atomic.Uint64
	listening atomic.Bool
	hits      atomic.Uint64
	misses    atomic.Uint64
}

func newPageCache() *pageCache { return &pageCache{pages: map[string][]byte{}} }

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
}

// invalidate drops every page.
func (c *pageCache) invalidate() {
	c.mu.Lock()
	c.gen.Add(1)
	clear(c.pages)
	c.mu.Unlock()
}

// Notify implements pg.Subscriber.
func (c *pageCache) Notify(string) { c.invalidate() }

// Connected implements pg.Subscriber.
func (c *pageCache) Connected(on bool) {
	c.invalidate()
	c.listening.Store(on)
}

var _ pg.Subscriber = (*pageCache)(nil)
