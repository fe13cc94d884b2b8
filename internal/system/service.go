package system

import (
	"context"
	"sync"
	"time"
)

// Pinger checks the database.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Health caches the database check for maxAge; concurrent callers share one check.
type Health struct {
	db     Pinger
	now    func() time.Time
	maxAge time.Duration

	mu       sync.Mutex
	checked  time.Time
	ok       bool
	inflight chan struct{}
}

// NewHealth returns a health checker.
func NewHealth(db Pinger, now func() time.Time) *Health {
	return &Health{db: db, now: now, maxAge: time.Second}
}

// DBConnected reports whether the database answered a ping recently.
func (h *Health) DBConnected(ctx context.Context) bool {
	h.mu.Lock()
	if h.now().Sub(h.checked) < h.maxAge {
		ok := h.ok
		h.mu.Unlock()
		return ok
	}
	if wait := h.inflight; wait != nil {
		h.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return false
		}
		h.mu.Lock()
		ok := h.ok
		h.mu.Unlock()
		return ok
	}
	done := make(chan struct{})
	h.inflight = done
	h.mu.Unlock()

	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	err := h.db.Ping(pctx)
	cancel()

	h.mu.Lock()
	h.ok = err == nil
	h.checked = h.now()
	h.inflight = nil
	ok := h.ok
	h.mu.Unlock()
	close(done)
	return ok
}
