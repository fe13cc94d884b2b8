package events

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/pg"
)

// Heartbeat is how often an idle stream sends a comment line, so proxies keep it open.
const Heartbeat = 15 * time.Second

// Stream is one subscriber's view of the log: the retained events it missed (when it
// resumed), then the live ones.
type Stream struct {
	b      *Broker
	filter Filter
	// live receives matching events with id > through; the broker closes it (after
	// setting err) when it drops the stream.
	live chan Stored
	err  error
	// through is the broker's last id when the stream subscribed: older events come
	// from the database, newer ones through live.
	through int64
	// cursor is the id of the last event handled; events up to it are never sent.
	cursor int64
	reset  bool
	// recheck, when set, runs at every heartbeat; an error ends the stream with it (the
	// caller's credential was revoked, or its permissions changed).
	recheck func(context.Context) error
}

// RecheckEvery makes Pump call check at every heartbeat and end the stream with its
// error, so a stream does not outlive the credential or the permissions it opened with.
func (s *Stream) RecheckEvery(check func(context.Context) error) { s.recheck = check }

// Reset reports whether events after the requested id are no longer retained: the client
// must reload its state rather than rely on the events it receives.
func (s *Stream) Reset() bool { return s.reset }

// Close unsubscribes the stream.
func (s *Stream) Close() { s.b.unsubscribe(s) }

// resume positions the stream after id: the events in (id, through] are read from the
// database before the live ones.
func (s *Stream) resume(ctx context.Context, id int64) error {
	q := dbq.New(s.b.pool)
	horizon, err := q.EventsHorizon(ctx)
	if err != nil {
		return pg.Translate(err)
	}
	s.cursor = id
	if id < horizon {
		s.reset = true // some events after id were swept
		return nil
	}
	if id > s.through {
		newest, err := q.EventsMaxID(ctx)
		if err != nil {
			return pg.Translate(err)
		}
		if id > newest {
			// An id this database never handed out (restored from backup, or a
			// different installation): start afresh from now.
			s.reset, s.cursor = true, s.through
		}
	}
	return nil
}

// backlog returns the next page of missed events and whether more may follow.
func (s *Stream) backlog(ctx context.Context) ([]Stored, bool, error) {
	if s.cursor >= s.through {
		return nil, false, nil
	}
	rows, err := dbq.New(s.b.pool).EventsAfter(ctx, dbq.EventsAfterParams{
		After: s.cursor, Through: s.through, Topics: s.filter.topicNames(), Lim: readBatch})
	if err != nil {
		return nil, false, pg.Translate(err)
	}
	out := make([]Stored, 0, len(rows))
	for _, r := range rows {
		s.cursor = r.ID
		if ev := storedFrom(r); s.filter.match(ev) {
			out = append(out, ev)
		}
	}
	if len(rows) < readBatch {
		s.cursor = s.through
		return out, false, nil
	}
	return out, true, nil
}

// Sink is where Pump writes: the response body and a way to push it to the client.
type Sink interface {
	io.Writer
	Flush() error
}

// Pump writes the stream as Server-Sent Events to w until ctx ends (the client went
// away), the write fails, or the broker drops the stream (ErrShutdown, ErrTooSlow). It
// sends a `reset` event first when Reset is true, then the missed events, then live ones,
// with a comment line every heartbeat while idle.
func (s *Stream) Pump(ctx context.Context, w Sink, heartbeat time.Duration) error {
	var buf bytes.Buffer
	buf.WriteString(": openwatch event stream\nretry: 3000\n\n")
	if s.reset {
		fmt.Fprintf(&buf, "event: reset\ndata: {\"reason\":\"events after the requested id are no longer retained\"}\n\n")
	}
	if err := send(w, &buf); err != nil {
		return err
	}
	for more := true; more; {
		var page []Stored
		var err error
		if page, more, err = s.backlog(ctx); err != nil {
			return err
		}
		for _, ev := range page {
			if err := message(&buf, ev); err != nil {
				return err
			}
		}
		if err := send(w, &buf); err != nil {
			return err
		}
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if s.recheck != nil {
				if err := s.recheck(ctx); err != nil {
					return err
				}
			}
			buf.WriteString(": heartbeat\n\n")
		case ev, ok := <-s.live:
			if !ok {
				return s.err
			}
			if ev.ID <= s.cursor {
				continue
			}
			s.cursor = ev.ID
			if err := message(&buf, ev); err != nil {
				return err
			}
			// Send whatever else is already waiting in the same write.
			for drained := false; !drained; {
				select {
				case more, ok := <-s.live:
					if !ok {
						_ = send(w, &buf)
						return s.err
					}
					if more.ID > s.cursor {
						s.cursor = more.ID
						if err := message(&buf, more); err != nil {
							return err
						}
					}
				default:
					drained = true
				}
			}
		}
		if err := send(w, &buf); err != nil {
			return err
		}
	}
}

// message appends the SSE message of ev to buf.
func message(buf *bytes.Buffer, ev Stored) error {
	msg, err := ev.sse()
	if err != nil {
		return fmt.Errorf("encode event %d: %w", ev.ID, err)
	}
	buf.Write(msg)
	return nil
}

// sseMessage renders ev as one SSE message whose data is the spec's Event object.
func sseMessage(ev Stored) ([]byte, error) {
	data, err := encodeEvent(ev)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(data) + len(ev.Type) + 40)
	b.WriteString("id: ")
	b.WriteString(strconv.FormatInt(ev.ID, 10))
	b.WriteString("\nevent: ")
	b.WriteString(ev.Type)
	b.WriteString("\ndata: ")
	b.Write(data) // compact JSON: no newlines
	b.WriteString("\n\n")
	return b.Bytes(), nil
}

func send(w Sink, buf *bytes.Buffer) error {
	if buf.Len() == 0 {
		return nil
	}
	_, err := w.Write(buf.Bytes())
	buf.Reset()
	if err != nil {
		return err
	}
	return w.Flush()
}
