package auth

import (
	"strings"
	"sync"
	"time"

	"github.com/openwatch/openwatch/internal/ratelimit"
)

// failures tracks failed sign-ins for usernames that do not exist, so that they lock like
// real accounts and an attacker cannot tell the two apart. It is bounded: when full it
// forgets everything, which only ever unlocks.
type failures struct {
	mu  sync.Mutex
	m   map[string]*failState
	now func() time.Time
}

type failState struct {
	count int
	until time.Time
}

const maxTrackedUnknown = 10_000

func newFailures(now func() time.Time) *failures {
	return &failures{m: map[string]*failState{}, now: now}
}

func (f *failures) fail(username string, b ratelimit.Backoff) {
	key := strings.ToLower(username)
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.m[key]
	if st == nil {
		if len(f.m) >= maxTrackedUnknown {
			clear(f.m)
		}
		st = &failState{}
		f.m[key] = st
	}
	st.count++
	if d := b.LockFor(st.count); d > 0 {
		st.until = f.now().Add(d)
	}
}

func (f *failures) lockedUntil(username string) time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if st := f.m[strings.ToLower(username)]; st != nil {
		return st.until
	}
	return time.Time{}
}
