package ratelimit

import (
	"context"
	"errors"
)

// ErrBusy reports that a Gate's queue is full and the work was refused without running.
var ErrBusy = errors.New("ratelimit: too many concurrent requests")

// Gate bounds concurrent expensive work, such as Argon2id hashing at about 19 MiB a time:
// at most concurrent calls run at once, at most queue more wait for a slot, and the rest
// are refused at once, so memory stays bounded under a flood. It is safe for concurrent
// use.
type Gate struct {
	admitted chan struct{} // one token per call running or waiting
	running  chan struct{} // one token per call running
}

// NewGate returns a Gate that runs at most concurrent calls at once with at most queue
// waiting. It panics unless concurrent >= 1 and queue >= 0.
func NewGate(concurrent, queue int) *Gate {
	if concurrent < 1 || queue < 0 {
		panic("ratelimit: NewGate needs concurrent >= 1 and queue >= 0")
	}
	return &Gate{
		admitted: make(chan struct{}, concurrent+queue),
		running:  make(chan struct{}, concurrent),
	}
}

// Do runs fn once a slot is free and returns nil after it. It returns ErrBusy without
// running fn when the queue is full, and ctx.Err() without running fn when ctx is done
// before a slot frees up.
func (g *Gate) Do(ctx context.Context, fn func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case g.admitted <- struct{}{}:
	default:
		return ErrBusy
	}
	defer func() { <-g.admitted }()

	select {
	case g.running <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-g.running }()

	fn()
	return nil
}
