package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
)

// wait bounds how long a test waits for something that must happen; it is a guard
// against hanging, not a timing assertion.
const wait = 20 * time.Second

func allowAll(string) bool { return true }

func publish(t *testing.T, pool *pgxpool.Pool, ev Event) int64 {
	t.Helper()
	var id int64
	require.NoError(t, pg.WithTx(context.Background(), pool, func(tx pgx.Tx) error {
		p, err := Publish(context.Background(), tx, ev)
		id = p.ID
		return err
	}))
	return id
}

func ev(topic Topic, typ, perm string) Event {
	return Event{Topic: topic, Type: typ, Permission: perm, Data: map[string]any{"n": typ}}
}

// next returns the next live event of s, failing the test if none arrives.
func next(t *testing.T, s *Stream) Stored {
	t.Helper()
	select {
	case e, ok := <-s.live:
		require.True(t, ok, "stream ended: %v", s.err)
		return e
	case <-time.After(wait):
		t.Fatal("no event arrived")
	}
	return Stored{}
}

// startBroker runs a broker with a real LISTEN connection, as a serve process does.
func startBroker(t *testing.T, pool *pgxpool.Pool) *Broker {
	t.Helper()
	b := NewBroker(pool, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	l := pg.NewListener(pool, slog.New(slog.DiscardHandler))
	connected := make(chan struct{})
	l.Subscribe(Channel, b)
	l.Subscribe(Channel, onConnect(func() { close(connected) }))
	var wg sync.WaitGroup
	wg.Go(func() { l.Run(ctx) })
	wg.Go(func() { b.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	select {
	case <-connected:
	case <-time.After(wait):
		t.Fatal("listener did not connect")
	}
	return b
}

type onConnect func()

func (f onConnect) Notify(string) {}
func (f onConnect) Connected(on bool) {
	if on && f != nil {
		f()
	}
}

func TestEventVisibleOnlyAfterCommit(t *testing.T) {
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	b := NewBroker(pool, slog.New(slog.DiscardHandler))
	s, err := b.Subscribe(ctx, Filter{Can: allowAll}, nil)
	require.NoError(t, err)
	defer s.Close()

	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	_, err = Publish(ctx, tx, ev(TopicLiveness, "host.state_changed", authz.PermHostRead))
	require.NoError(t, err)
	require.NoError(t, b.catchUp(ctx))
	require.Empty(t, s.live, "an uncommitted event must not be delivered")
	require.NoError(t, tx.Commit(ctx))
	require.NoError(t, b.catchUp(ctx))
	got := next(t, s)
	require.Equal(t, "host.state_changed", got.Type)
	require.JSONEq(t, `{"n":"host.state_changed"}`, string(got.Data))

	// A rolled-back event is never delivered.
	tx, err = pool.Begin(ctx)
	require.NoError(t, err)
	_, err = Publish(ctx, tx, ev(TopicLiveness, "rolled.back", authz.PermHostRead))
	require.NoError(t, err)
	require.NoError(t, tx.Rollback(ctx))
	id := publish(t, pool, ev(TopicLiveness, "committed", authz.PermHostRead))
	require.NoError(t, b.catchUp(ctx))
	got = next(t, s)
	require.Equal(t, "committed", got.Type)
	require.Equal(t, id, got.ID)
	require.Empty(t, s.live)
}

func TestNotifyDeliversInOrder(t *testing.T) {
	pool := pgtest.NewPool(t)
	b := startBroker(t, pool)
	s, err := b.Subscribe(context.Background(), Filter{Can: allowAll}, nil)
	require.NoError(t, err)
	defer s.Close()

	const writers, each = 3, 20
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				publish(t, pool, ev(TopicJobs, fmt.Sprintf("w%d.e%d", w, i), authz.PermHostRead))
			}
		})
	}
	wg.Wait()
	var last int64
	seen := map[string]bool{}
	for range writers * each {
		e := next(t, s)
		require.Greater(t, e.ID, last, "events arrive in id order")
		last = e.ID
		seen[e.Type] = true
	}
	require.Len(t, seen, writers*each)
}

func TestCatchUpAfterReconnect(t *testing.T) {
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	// No listener yet: these notifications are missed, as during a dropped connection.
	b := NewBroker(pool, slog.New(slog.DiscardHandler))
	s, err := b.Subscribe(ctx, Filter{Can: allowAll}, nil)
	require.NoError(t, err)
	defer s.Close()
	ids := []int64{
		publish(t, pool, ev(TopicAlerts, "a1", authz.PermHostRead)),
		publish(t, pool, ev(TopicAlerts, "a2", authz.PermHostRead)),
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { b.Run(runCtx); close(done) }()
	defer func() { cancel(); <-done }()
	b.Connected(true) // the listener (re)connected
	require.Equal(t, ids[0], next(t, s).ID)
	require.Equal(t, ids[1], next(t, s).ID)
}

func TestResumeFiltersAndReset(t *testing.T) {
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	first := publish(t, pool, ev(TopicLiveness, "l1", authz.PermHostRead))
	publish(t, pool, ev(TopicDiscovery, "d1", authz.PermHostRead))
	publish(t, pool, ev(TopicLiveness, "secret", authz.PermHostWrite))
	l2 := publish(t, pool, ev(TopicLiveness, "l2", authz.PermHostRead))
	b := NewBroker(pool, slog.New(slog.DiscardHandler))

	viewer := authz.RolePermissions(authz.RoleViewer)
	s, err := b.Subscribe(ctx, Filter{Topics: []Topic{TopicLiveness}, Can: viewer.Has}, &first)
	require.NoError(t, err)
	defer s.Close()
	require.False(t, s.Reset())
	page, more, err := s.backlog(ctx)
	require.NoError(t, err)
	require.False(t, more)
	require.Len(t, page, 1, "other topics and events the reader may not see are left out")
	require.Equal(t, l2, page[0].ID)

	// Live events after the resume point still pass the same filter.
	publish(t, pool, ev(TopicDiscovery, "d2", authz.PermHostRead))
	publish(t, pool, ev(TopicLiveness, "secret2", authz.PermHostWrite))
	l3 := publish(t, pool, ev(TopicLiveness, "l3", authz.PermHostRead))
	require.NoError(t, b.catchUp(ctx))
	require.Equal(t, l3, next(t, s).ID)
	require.Empty(t, s.live)

	// Sweep everything up to l2: resuming before it is a reset, after it is not.
	r := NewRetention(pool, slog.New(slog.DiscardHandler), time.Hour, time.Now)
	_, err = pool.Exec(ctx, "UPDATE events SET occurred_at = now() - interval '2 hours' WHERE id <= $1", l2)
	require.NoError(t, err)
	res, err := r.Sweep(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(4), res.Events)
	require.Equal(t, l2, res.SweptThrough)

	old, err := b.Subscribe(ctx, Filter{Can: allowAll}, &first)
	require.NoError(t, err)
	defer old.Close()
	require.True(t, old.Reset())
	page, _, err = old.backlog(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, page)
	require.Greater(t, page[0].ID, l2, "the retained events follow the reset")

	fresh, err := b.Subscribe(ctx, Filter{Can: allowAll}, &l2)
	require.NoError(t, err)
	defer fresh.Close()
	require.False(t, fresh.Reset())

	future := int64(1 << 40)
	alien, err := b.Subscribe(ctx, Filter{Can: allowAll}, &future)
	require.NoError(t, err)
	defer alien.Close()
	require.True(t, alien.Reset(), "an id this database never issued is a reset")
}

func TestSlowStreamIsDropped(t *testing.T) {
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	b := NewBroker(pool, slog.New(slog.DiscardHandler))
	slow, err := b.Subscribe(ctx, Filter{Can: allowAll}, nil)
	require.NoError(t, err)
	other, err := b.Subscribe(ctx, Filter{Topics: []Topic{TopicAlerts}, Can: allowAll}, nil)
	require.NoError(t, err)
	defer other.Close()
	require.NoError(t, pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		for range streamBuffer + 1 {
			if _, err := Publish(ctx, tx, ev(TopicJobs, "job.progress", authz.PermHostRead)); err != nil {
				return err
			}
		}
		return nil
	}))
	require.NoError(t, b.catchUp(ctx))
	for range streamBuffer {
		<-slow.live
	}
	_, ok := <-slow.live
	require.False(t, ok, "the stream that fell behind is closed")
	require.ErrorIs(t, slow.err, ErrTooSlow)
	slow.Close() // no-op after the drop
	// The other stream is unaffected and still subscribed.
	require.Empty(t, other.live)
	id := publish(t, pool, ev(TopicAlerts, "alert.raised", authz.PermHostRead))
	require.NoError(t, b.catchUp(ctx))
	require.Equal(t, id, next(t, other).ID)
}

func TestCloseEndsStreams(t *testing.T) {
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	b := NewBroker(pool, slog.New(slog.DiscardHandler))
	s, err := b.Subscribe(ctx, Filter{Can: allowAll}, nil)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- s.Pump(ctx, &sinkBuf{}, time.Hour) }()
	b.Close()
	select {
	case err := <-done:
		require.ErrorIs(t, err, ErrShutdown)
	case <-time.After(wait):
		t.Fatal("Pump did not return after Close")
	}
	_, err = b.Subscribe(ctx, Filter{Can: allowAll}, nil)
	require.Error(t, err)
}

// sinkBuf is a Sink that records what was written, safe to read while Pump runs.
type sinkBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *sinkBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}
func (s *sinkBuf) Flush() error { return nil }
func (s *sinkBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

func TestPumpWritesServerSentEvents(t *testing.T) {
	pool := pgtest.NewPool(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	missed := publish(t, pool, ev(TopicLiveness, "host.state_changed", authz.PermHostRead))
	b := startBroker(t, pool)
	zero := int64(0)
	s, err := b.Subscribe(ctx, Filter{Can: allowAll}, &zero)
	require.NoError(t, err)
	defer s.Close()
	out := &sinkBuf{}
	done := make(chan error, 1)
	go func() { done <- s.Pump(ctx, out, 10*time.Millisecond) }()
	live := publish(t, pool, Event{Topic: TopicAlerts, Type: "alert.raised", Permission: authz.PermHostRead,
		Data: map[string]any{"text": "two\nlines"}})
	require.Eventually(t, func() bool {
		o := out.String()
		return strings.Contains(o, fmt.Sprintf("id: %d\n", live)) && strings.Contains(o, ": heartbeat\n\n")
	}, wait, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-done)

	messages := strings.Split(out.String(), "\n\n")
	var events []map[string]string
	for _, m := range messages {
		fields := map[string]string{}
		for _, line := range strings.Split(m, "\n") {
			if k, v, ok := strings.Cut(line, ": "); ok && k != "" {
				fields[k] = v
			}
		}
		if fields["id"] != "" {
			events = append(events, fields)
		}
	}
	require.Len(t, events, 2)
	require.Equal(t, fmt.Sprint(missed), events[0]["id"])
	require.Equal(t, "host.state_changed", events[0]["event"])
	require.Equal(t, fmt.Sprint(live), events[1]["id"])
	require.Equal(t, "alert.raised", events[1]["event"])
	var data map[string]any
	require.NoError(t, json.Unmarshal([]byte(events[1]["data"]), &data))
	require.Equal(t, fmt.Sprint(live), data["id"])
	require.Equal(t, "alerts", data["topic"])
	require.Equal(t, map[string]any{"text": "two\nlines"}, data["data"])
}

func TestPublishRejectsBadEvents(t *testing.T) {
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	for _, e := range []Event{
		{Topic: TopicJobs, Type: "two words", Permission: authz.PermHostRead},
		{Topic: TopicJobs, Type: "line\nbreak", Permission: authz.PermHostRead},
		{Topic: TopicJobs, Type: "", Permission: authz.PermHostRead},
		{Topic: TopicJobs, Type: "list", Permission: authz.PermHostRead, Data: []int{1}},
	} {
		err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error { _, err := Publish(ctx, tx, e); return err })
		require.Error(t, err, "%q", e.Type)
	}
	var typed map[string]any // a nil map is an empty object
	publish(t, pool, Event{Topic: TopicJobs, Type: "ok", Permission: authz.PermHostRead, Data: typed})
}

// TestEventEncodedOncePerEvent checks that the streams receiving a live event share its
// encoded message instead of encoding it each.
func TestEventEncodedOncePerEvent(t *testing.T) {
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	b := NewBroker(pool, slog.New(slog.DiscardHandler))
	s1, err := b.Subscribe(ctx, Filter{Can: allowAll}, nil)
	require.NoError(t, err)
	defer s1.Close()
	s2, err := b.Subscribe(ctx, Filter{Can: allowAll}, nil)
	require.NoError(t, err)
	defer s2.Close()
	id := publish(t, pool, ev(TopicJobs, "job.done", authz.PermHostRead))
	require.NoError(t, b.catchUp(ctx))
	m1, err := next(t, s1).sse()
	require.NoError(t, err)
	m2, err := next(t, s2).sse()
	require.NoError(t, err)
	require.True(t, &m1[0] == &m2[0], "both streams send the same encoded bytes")
	require.True(t, strings.HasPrefix(string(m1), fmt.Sprintf("id: %d\nevent: job.done\ndata: {", id)), "%s", m1)
}
