package auth

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
)

// InvalidationChannel is the PostgreSQL NOTIFY channel on which any process announces
// that cached sessions must be dropped. The payload is `session:<id>`, `user:<id>` or `*`.
const InvalidationChannel = "openwatch_auth"

// sessionEntry is a cached, validated session.
type sessionEntry struct {
	principal  *authz.Principal
	cookieHash []byte
	// signingKey is an API token's sealed signing key (nil: none).
	signingKey []byte
	expiresAt  time.Time
	loadedAt   time.Time
}

// sessionCache caches live sessions. It trusts an entry only while the invalidation
// listener is connected (so no change can be missed), and at most for maxAge.
type sessionCache struct {
	mu        sync.RWMutex
	entries   map[uuid.UUID]*sessionEntry
	listening atomic.Bool
	maxAge    time.Duration
}

func newSessionCache(maxAge time.Duration) *sessionCache {
	return &sessionCache{entries: map[uuid.UUID]*sessionEntry{}, maxAge: maxAge}
}

func (c *sessionCache) get(id uuid.UUID, now time.Time) *sessionEntry {
	if !c.listening.Load() {
		return nil
	}
	c.mu.RLock()
	e := c.entries[id]
	c.mu.RUnlock()
	if e == nil || now.Sub(e.loadedAt) > c.maxAge || !now.Before(e.expiresAt) {
		return nil
	}
	return e
}

func (c *sessionCache) put(id uuid.UUID, e *sessionEntry) {
	if !c.listening.Load() {
		return
	}
	c.mu.Lock()
	if len(c.entries) >= maxVerifiedTokens {
		clear(c.entries)
	}
	c.entries[id] = e
	c.mu.Unlock()
}

// invalidate applies one notification payload.
func (c *sessionCache) invalidate(payload string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	kind, id, _ := strings.Cut(payload, ":")
	target, err := uuid.Parse(id)
	switch {
	case (kind == "session" || kind == "token") && err == nil:
		delete(c.entries, target)
	case kind == "sa" && err == nil:
		for id, e := range c.entries {
			if e.principal.ServiceAccountID == target {
				delete(c.entries, id)
			}
		}
	case kind == "user" && err == nil:
		for sid, e := range c.entries {
			if e.principal.UserID == target && !e.principal.IsServiceAccount() {
				delete(c.entries, sid)
			}
		}
	default:
		clear(c.entries)
	}
}

func (c *sessionCache) setListening(on bool) {
	if !on {
		c.listening.Store(false)
	}
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
	if on {
		c.listening.Store(true)
	}
}

// Notify applies one invalidation (pg.Subscriber).
func (c *sessionCache) Notify(payload string) { c.invalidate(payload) }

// Connected follows the listener: while it is down the cache is bypassed, so a revoked
// session is never served from it (pg.Subscriber).
func (c *sessionCache) Connected(on bool) { c.setListening(on) }

// Subscriber is what the notification listener feeds (channel InvalidationChannel).
func (s *Service) Subscriber() pg.Subscriber { return s.sessions }

// WaitListening blocks until the invalidation listener is connected or ctx ends; tests
// use it to make cache behaviour deterministic.
func (s *Service) WaitListening(ctx context.Context) error {
	for !s.sessions.listening.Load() {
		select {
		case <-ctx.Done():
			return errors.New("session invalidation listener did not connect")
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

// InvalidateUser drops the cached sessions of a user in this process at once; other
// processes learn of the change from the notification sent in the same transaction.
func (s *Service) InvalidateUser(id uuid.UUID) { s.sessions.invalidate("user:" + id.String()) }

// InvalidateSession drops one cached session in this process at once.
func (s *Service) InvalidateSession(id uuid.UUID) { s.sessions.invalidate("session:" + id.String()) }
