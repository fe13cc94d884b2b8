package ratelimit

import (
	"math"
	"time"
)

// Backoff is the per-account lockout policy: after Threshold consecutive failed sign-ins
// the account is locked for Base, doubling with each further failure, up to Max. The
// caller stores the failure count and the locked-until time, and resets the count on
// success. The zero Backoff never locks; Max <= 0 means no cap.
type Backoff struct {
	Threshold int
	Base, Max time.Duration
}

// DefaultBackoff locks an account for 30 s after 5 consecutive failures, doubling with
// each further failure up to 15 min.
func DefaultBackoff() Backoff {
	return Backoff{Threshold: 5, Base: 30 * time.Second, Max: 15 * time.Minute}
}

// LockFor returns how long to lock an account after consecutiveFailures failures in a
// row: 0 below the threshold, then Base doubled once per failure beyond it, capped at Max.
func (b Backoff) LockFor(consecutiveFailures int) time.Duration {
	if b.Threshold < 1 || b.Base <= 0 || consecutiveFailures < b.Threshold {
		return 0
	}
	d := b.Base
	for i := b.Threshold; i < consecutiveFailures; i++ {
		if b.Max > 0 && d >= b.Max {
			break
		}
		if d > math.MaxInt64/2 {
			return math.MaxInt64
		}
		d *= 2
	}
	if b.Max > 0 && d > b.Max {
		return b.Max
	}
	return d
}
