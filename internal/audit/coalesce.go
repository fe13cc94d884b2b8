package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/openwatch/openwatch/internal/pg"
)

// Coalescer records refusals that do no other work (a rate limit, a locked account) out of
// the request that was refused, so the refusal is answered at once, and keeps a flood of
// them from becoming a flood of audit events. Repeats of one refusal (same action, actor,
// client address, resource and detail) before the next flush are one event: it occurred
// when the first did, and its detail gains "count" (how many) and "last_occurred_at".
// Every flush appends what is pending in one transaction; Run flushes every interval and
// once more when its context ends, so a graceful stop loses nothing (a crash loses at most
// one interval of refusals).
type Coalescer struct {
	w      *Writer
	every  time.Duration
	limit  int
	logger *slog.Logger

	mu      sync.Mutex
	pending map[string]*coalesced
	order   []string
}

type coalesced struct {
	e     Event
	count int
	last  time.Time
}

// coalesceLimit bounds the distinct refusals kept between two flushes. Beyond it, further
// distinct refusals of an action are counted in one event of that action without detail.
const coalesceLimit = 1000

// NewCoalescer returns a coalescer appending to w every interval (one second when not
// positive). logger may be nil.
func NewCoalescer(w *Writer, every time.Duration, logger *slog.Logger) *Coalescer {
	if every <= 0 {
		every = time.Second
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Coalescer{w: w, every: every, limit: coalesceLimit, logger: logger, pending: map[string]*coalesced{}}
}

// Add queues e for the next flush, counting it in a pending event it repeats. It never
// blocks on the database.
func (c *Coalescer) Add(e Event) {
	if e.OccurredAt.IsZero() {
		e.OccurredAt = c.w.now()
	}
	key := coalesceKey(e)
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.pending[key]; ok {
		p.count++
		p.last = e.OccurredAt
		return
	}
	if len(c.pending) >= c.limit {
		// Too many distinct refusals: count the rest per action, without their detail.
		e = Event{Action: e.Action, ActorType: ActorAnonymous, OccurredAt: e.OccurredAt,
			Detail: map[string]any{"distinct_refusals_over_limit": true}}
		key = "overflow\x00" + string(e.Action)
		if p, ok := c.pending[key]; ok {
			p.count++
			p.last = e.OccurredAt
			return
		}
	}
	c.pending[key] = &coalesced{e: e, count: 1, last: e.OccurredAt}
	c.order = append(c.order, key)
}

// coalesceKey identifies the refusals that one event counts.
func coalesceKey(e Event) string {
	detail, err := json.Marshal(e.Detail) // map keys are sorted: equal details, equal bytes
	if err != nil {
		detail = []byte(err.Error())
	}
	b, _ := json.Marshal([]string{string(e.Action), e.ActorType, e.ActorID, e.ClientAddr, e.ResourceType, e.ResourceID, string(detail)})
	return string(b)
}

// Flush appends every pending event in one transaction. When it fails the events are kept
// for the next flush.
func (c *Coalescer) Flush(ctx context.Context) error {
	c.mu.Lock()
	pending, order := c.pending, c.order
	c.pending, c.order = map[string]*coalesced{}, nil
	c.mu.Unlock()
	if len(order) == 0 {
		return nil
	}
	err := pg.WithOwnTx(ctx, c.w.pool, func(tx pgx.Tx) error {
		for _, key := range order {
			if err := c.w.Append(ctx, tx, pending[key].event()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		c.mu.Lock()
		for _, key := range order {
			c.requeue(key, pending[key])
		}
		c.mu.Unlock()
	}
	return err
}

// requeue puts p back in front of anything added since it was taken. Caller holds mu.
func (c *Coalescer) requeue(key string, p *coalesced) {
	if q, ok := c.pending[key]; ok {
		q.count += p.count
		q.e.OccurredAt = p.e.OccurredAt
		return
	}
	c.pending[key] = p
	c.order = append(c.order, key)
}

// event is the pending refusal as appended: the first one, with the count of all.
func (p *coalesced) event() Event {
	e := p.e
	d := make(map[string]any, len(e.Detail)+2)
	for k, v := range e.Detail {
		d[k] = v
	}
	d["count"] = p.count
	d["last_occurred_at"] = p.last.UTC().Format(time.RFC3339Nano)
	e.Detail = d
	return e
}

// Run flushes every interval until ctx ends, then once more (within aloneTimeout).
func (c *Coalescer) Run(ctx context.Context) {
	t := time.NewTicker(c.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), aloneTimeout)
			defer cancel()
			if err := c.Flush(fctx); err != nil {
				c.logger.ErrorContext(fctx, "record refusals at shutdown", slog.Any("error", err))
			}
			return
		case <-t.C:
			if err := c.Flush(ctx); err != nil && ctx.Err() == nil {
				c.logger.ErrorContext(ctx, "record refusals", slog.Any("error", err))
			}
		}
	}
}
