package events

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/pg"
)

// Stored is one committed event as read from the log.
type Stored struct {
	ID            int64
	Topic         Topic
	Type          string
	HostID        *uuid.UUID
	Permission    string
	CorrelationID string
	// Data is the event's JSON data object.
	Data       []byte
	OccurredAt time.Time
	// sse renders the event's SSE message on first use and then returns the same bytes:
	// the broker hands one Stored to every matching stream, so an event is encoded once
	// however many streams send it.
	sse func() ([]byte, error)
}

func storedFrom(r dbq.Event) Stored {
	ev := Stored{ID: r.ID, Topic: Topic(r.Topic), Type: r.Type, HostID: r.HostID, Permission: r.Permission,
		CorrelationID: r.CorrelationID, Data: r.Data, OccurredAt: r.OccurredAt}
	ev.sse = sync.OnceValues(func() ([]byte, error) { return sseMessage(ev) })
	return ev
}

// Filter selects the events a stream receives.
type Filter struct {
	// Topics are the topics to receive; empty means every topic.
	Topics []Topic
	// Can reports whether the reader holds a permission; nil allows nothing.
	Can func(permission string) bool
}

func (f Filter) match(ev Stored) bool {
	if f.Can == nil || !f.Can(ev.Permission) {
		return false
	}
	if len(f.Topics) == 0 {
		return true
	}
	for _, t := range f.Topics {
		if t == ev.Topic {
			return true
		}
	}
	return false
}

func (f Filter) topicNames() []string {
	out := make([]string, len(f.Topics))
	for i, t := range f.Topics {
		out[i] = string(t)
	}
	return out
}

// Why a stream ended on the server's side.
var (
	// ErrShutdown: the broker closed because the server is shutting down.
	ErrShutdown = errors.New("events: server shutting down")
	// ErrTooSlow: the client did not keep up and was disconnected so it would not hold
	// back the others; it can resume with Last-Event-ID.
	ErrTooSlow = errors.New("events: stream fell behind")
	// ErrRevoked: the caller's credential ended, or lost the permission to follow the
	// stream, while the stream was open.
	ErrRevoked = errors.New("events: credential revoked")
)

func errClosed() error { return apperr.Unavailable(ErrShutdown) }

const (
	// streamBuffer is how many matching events may wait for a slow client before it is
	// disconnected.
	streamBuffer = 512
	// readBatch is how many events one query reads.
	readBatch = 500
	// retryDelay is how long the broker waits before reading again after a failed read.
	retryDelay = time.Second
)

// Broker fans the events committed by any process out to the streams of this process.
// One runs per serve process: each NOTIFY on Channel (see pg.Listener, to which the
// Broker subscribes) wakes it, it reads the events after the last one it saw, once, in id
// order, and hands each to every stream whose filter matches. A stream that cannot take
// an event at once is disconnected rather than blocking the others. When the listener
// reconnects the broker catches up the same way, so nothing committed is skipped.
type Broker struct {
	pool   *pgxpool.Pool
	logger *slog.Logger
	wake   chan struct{}

	mu     sync.Mutex
	ready  bool  // last is initialised
	last   int64 // the newest event id handed out
	subs   map[*Stream]struct{}
	closed bool
}

// NewBroker returns a broker reading from pool; run it with Run.
func NewBroker(pool *pgxpool.Pool, logger *slog.Logger) *Broker {
	return &Broker{pool: pool, logger: logger, wake: make(chan struct{}, 1), subs: map[*Stream]struct{}{}}
}

// Notify implements pg.Subscriber: a new event id was committed somewhere.
func (b *Broker) Notify(string) { b.poke() }

// Connected implements pg.Subscriber: after a (re)connection the broker catches up on
// whatever was committed while it was not listening.
func (b *Broker) Connected(on bool) {
	if on {
		b.poke()
	}
}

func (b *Broker) poke() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Run delivers events until ctx ends, then closes every stream (as Close does).
func (b *Broker) Run(ctx context.Context) {
	defer b.Close()
	b.poke()
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.wake:
		case <-retry:
		}
		retry = nil
		if err := b.catchUp(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			b.logger.WarnContext(ctx, "event broker could not read new events; retrying", slog.Any("error", err))
			retry = time.After(retryDelay)
		}
	}
}

// Close ends every stream with ErrShutdown and refuses new ones. The server calls it when
// it starts shutting down, so open streams do not hold the graceful shutdown up.
func (b *Broker) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		b.drop(s, ErrShutdown)
	}
}

// init reads the newest committed id once: streams start after it.
func (b *Broker) init(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ready {
		return nil
	}
	last, err := dbq.New(b.pool).EventsMaxID(ctx)
	if err != nil {
		return pg.Translate(err)
	}
	b.last, b.ready = last, true
	return nil
}

// catchUp reads every event after the last one handed out and delivers it.
func (b *Broker) catchUp(ctx context.Context) error {
	if err := b.init(ctx); err != nil {
		return err
	}
	q := dbq.New(b.pool)
	for {
		b.mu.Lock()
		after, idle := b.last, len(b.subs) == 0
		b.mu.Unlock()
		if idle {
			// Nobody to deliver to (a worker process, or no open stream): only move on.
			subscribed, err := b.skipTo(ctx, q)
			if err != nil || !subscribed {
				return err
			}
			continue // a stream subscribed meanwhile: read the events for it
		}
		rows, err := q.EventsAfter(ctx, dbq.EventsAfterParams{After: after, Through: math.MaxInt64, Lim: readBatch})
		if err != nil {
			return pg.Translate(err)
		}
		b.deliver(rows)
		if len(rows) < readBatch {
			return nil
		}
	}
}

// skipTo advances last to the newest committed id without reading the events, unless a
// stream subscribed meanwhile (it then needs them); it reports whether one did.
func (b *Broker) skipTo(ctx context.Context, q *dbq.Queries) (bool, error) {
	newest, err := q.EventsMaxID(ctx)
	if err != nil {
		return false, pg.Translate(err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.subs) > 0 {
		return true, nil
	}
	b.last = max(b.last, newest)
	return false, nil
}

func (b *Broker) deliver(rows []dbq.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range rows {
		if r.ID <= b.last {
			continue
		}
		b.last = r.ID
		ev := storedFrom(r)
		for s := range b.subs {
			if !s.filter.match(ev) {
				continue
			}
			select {
			case s.live <- ev:
			default:
				b.drop(s, ErrTooSlow)
			}
		}
	}
}

// drop ends s with why; b.mu is held.
func (b *Broker) drop(s *Stream, why error) {
	delete(b.subs, s)
	s.err = why
	close(s.live)
}

// Subscribe opens a stream of the events matching f. Without after it receives the events
// committed from now on; with after it first receives the retained events with a larger
// id, and Reset reports whether some events after it are gone (swept, or the id is from
// another database). Close the stream when done.
// Errors: service.unavailable (shutting down, or the database is unreachable).
func (b *Broker) Subscribe(ctx context.Context, f Filter, after *int64) (*Stream, error) {
	if err := b.init(ctx); err != nil {
		return nil, err
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, errClosed()
	}
	s := &Stream{b: b, filter: f, live: make(chan Stored, streamBuffer), through: b.last, cursor: b.last}
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	if after == nil {
		return s, nil
	}
	if err := s.resume(ctx, *after); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Subscribers returns how many streams this process's broker serves now (the
// openwatch_events_subscribers gauge).
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// unsubscribe removes s; it is a no-op when the broker already dropped it.
func (b *Broker) unsubscribe(s *Stream) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
	}
}
