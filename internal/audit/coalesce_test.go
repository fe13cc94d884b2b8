package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/cursor"
)

func refusal(addr, username string) audit.Event {
	return audit.Event{Action: audit.ActionRateLimited, ActorType: audit.ActorAnonymous, ClientAddr: addr,
		ResourceType: "user", CorrelationID: "c-" + addr + "-" + username, Detail: map[string]any{"username": username}}
}

func (b *bundle) all(t *testing.T) []audit.Stored {
	t.Helper()
	page, err := b.w.List(b.ctx, audit.Filter{}, cursor.First(b.w.Cursors(), 200))
	require.NoError(t, err)
	return page.Items
}

func TestCoalescerCountsRepeatsInOneEvent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := audit.NewCoalescer(b.w, time.Hour, nil)
	first := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	for i := range 5 {
		e := refusal("192.0.2.1", "alice")
		e.OccurredAt = first.Add(time.Duration(i) * time.Second)
		c.Add(e)
	}
	c.Add(refusal("192.0.2.2", "alice"))
	c.Add(refusal("192.0.2.1", "bob"))
	require.Empty(t, b.all(t), "nothing is written before a flush")

	require.NoError(t, c.Flush(b.ctx))
	got := b.all(t)
	require.Len(t, got, 3, "one event per address and detail")
	byKey := map[string]audit.Stored{}
	for _, s := range got {
		byKey[s.ClientAddr+"/"+s.Detail["username"].(string)] = s
	}
	alice := byKey["192.0.2.1/alice"]
	require.Equal(t, "5", fmt.Sprint(alice.Detail["count"]))
	require.True(t, first.Equal(alice.OccurredAt), "the first repeat's time: %v", alice.OccurredAt)
	require.Equal(t, first.Add(4*time.Second).Format(time.RFC3339Nano), alice.Detail["last_occurred_at"])
	require.Equal(t, "c-192.0.2.1-alice", alice.CorrelationID)
	require.Equal(t, "1", fmt.Sprint(byKey["192.0.2.2/alice"].Detail["count"]))
	require.Equal(t, "1", fmt.Sprint(byKey["192.0.2.1/bob"].Detail["count"]))

	require.NoError(t, c.Flush(b.ctx), "an empty flush writes nothing")
	require.Len(t, b.all(t), 3)
	res, err := b.w.Verify(b.ctx)
	require.NoError(t, err)
	require.True(t, res.OK, "%+v", res)
}

func TestCoalescerBoundsDistinctRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := audit.NewCoalescer(b.w, time.Hour, nil)
	const limit = 1000 // coalesceLimit
	for i := range limit + 250 {
		c.Add(refusal("192.0.2.1", fmt.Sprint("user", i)))
	}
	require.NoError(t, c.Flush(b.ctx))
	page, err := b.w.List(b.ctx, audit.Filter{}, cursor.First(b.w.Cursors(), 2000))
	require.NoError(t, err)
	require.Len(t, page.Items, limit+1, "the distinct refusals beyond the limit are one event")
	var over audit.Stored
	for _, s := range page.Items {
		if s.Detail["distinct_refusals_over_limit"] == true {
			over = s
		}
	}
	require.Equal(t, "250", fmt.Sprint(over.Detail["count"]))
	require.Equal(t, audit.ActionRateLimited, over.Action)
}

func TestCoalescerKeepsEventsWhenAFlushFails(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := audit.NewCoalescer(b.w, time.Hour, nil)
	c.Add(refusal("192.0.2.1", "alice"))
	cancelled, cancel := context.WithCancel(b.ctx)
	cancel()
	require.Error(t, c.Flush(cancelled))
	c.Add(refusal("192.0.2.1", "alice"))
	require.NoError(t, c.Flush(b.ctx))
	got := b.all(t)
	require.Len(t, got, 1)
	require.Equal(t, "2", fmt.Sprint(got[0].Detail["count"]), "the failed flush's refusal is counted with the next")
}

func TestCoalescerRunFlushesAtShutdown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := audit.NewCoalescer(b.w, time.Hour, nil)
	ctx, cancel := context.WithCancel(b.ctx)
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	c.Add(refusal("192.0.2.1", "alice"))
	cancel()
	<-done
	require.Len(t, b.all(t), 1, "the pending refusal is recorded when Run ends")
}

func TestCoalescerRunFlushesEveryInterval(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := audit.NewCoalescer(b.w, 20*time.Millisecond, nil)
	ctx, cancel := context.WithCancel(b.ctx)
	defer cancel()
	go c.Run(ctx)
	c.Add(refusal("192.0.2.1", "alice"))
	require.Eventually(t, func() bool { return len(b.all(t)) == 1 }, 10*time.Second, 10*time.Millisecond)
}
