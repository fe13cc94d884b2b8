package ratelimit

import (
	"math"
	"sync"
	"time"
)

// MaxKeys caps how many keys a Limiter remembers. When a new key arrives at the cap, the
// least recently used bucket is forgotten; that key starts afresh with a full bucket next
// time. A flood of distinct keys therefore costs bounded memory, and a key in steady use
// (an attacker hammering from one address) stays remembered.
const MaxKeys = 100_000

// Limiter is a per-key token bucket: each key holds up to burst tokens, refilled at rate
// tokens per second, and each allowed request takes one. It is safe for concurrent use.
//
// Buckets live in memory in one process. A bucket that has been idle long enough to be
// full again behaves exactly like a new one, so it is dropped when new keys arrive.
type Limiter struct {
	rate    float64
	burst   float64
	fill    time.Duration // how long an empty bucket takes to fill
	now     func() time.Time
	maxKeys int

	mu      sync.Mutex
	buckets map[string]*bucket
	// lru is the sentinel of a circular list of buckets by last use: lru.next is the most
	// recently used, lru.prev the least.
	lru bucket
}

type bucket struct {
	key        string
	tokens     float64
	last       time.Time // when tokens was last brought up to date
	prev, next *bucket
}

// NewLimiter returns a Limiter that refills rate tokens per second up to burst. now is
// the clock (time.Now when nil). It panics unless rate > 0 and burst >= 1.
func NewLimiter(rate float64, burst int, now func() time.Time) *Limiter {
	if !(rate > 0) || math.IsInf(rate, 0) || burst < 1 {
		panic("ratelimit: NewLimiter needs a finite rate > 0 and burst >= 1")
	}
	if now == nil {
		now = time.Now
	}
	l := &Limiter{
		rate:    rate,
		burst:   float64(burst),
		fill:    secondsToDuration(float64(burst) / rate),
		now:     now,
		maxKeys: MaxKeys,
		buckets: make(map[string]*bucket),
	}
	l.lru.next, l.lru.prev = &l.lru, &l.lru
	return l
}

// Allow takes one token from key's bucket. When the bucket is empty it takes nothing and
// returns false with how long until the next token.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()

	b := l.buckets[key]
	if b == nil {
		l.sweep(now)
		if len(l.buckets) >= l.maxKeys {
			l.remove(l.lru.prev)
		}
		b = &bucket{key: key, tokens: l.burst, last: now}
		l.buckets[key] = b
	} else {
		// A clock that went backwards grants nothing; last stays put so the time is not
		// counted twice once the clock passes it again.
		if elapsed := now.Sub(b.last); elapsed > 0 {
			b.tokens = min(l.burst, b.tokens+elapsed.Seconds()*l.rate)
			b.last = now
		}
		l.unlink(b)
	}
	l.pushFront(b)

	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, secondsToDuration((1 - b.tokens) / l.rate)
}

// sweep forgets the least recently used buckets that are full again by now. Buckets are
// in order of last use, so it stops at the first one still refilling; each bucket is
// swept at most once, which keeps the cost per Allow constant on average.
func (l *Limiter) sweep(now time.Time) {
	for b := l.lru.prev; b != &l.lru && now.Sub(b.last) >= l.fill; b = l.lru.prev {
		l.remove(b)
	}
}

func (l *Limiter) remove(b *bucket) {
	l.unlink(b)
	delete(l.buckets, b.key)
}

func (l *Limiter) unlink(b *bucket) {
	b.prev.next, b.next.prev = b.next, b.prev
	b.prev, b.next = nil, nil
}

func (l *Limiter) pushFront(b *bucket) {
	b.prev, b.next = &l.lru, l.lru.next
	l.lru.next.prev = b
	l.lru.next = b
}

// secondsToDuration converts s seconds to a Duration, rounding up so that a caller told
// to wait that long finds a token, and saturating instead of overflowing.
func secondsToDuration(s float64) time.Duration {
	ns := math.Ceil(s * float64(time.Second))
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}
