package notify_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/alert"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/notify"
	"github.com/openwatch/openwatch/internal/pg"
)

// raise raises an alert of key in its own transaction.
func raise(t *testing.T, e *apitest.Env, key, typ, severity string, host *uuid.UUID) dbAlert {
	t.Helper()
	var out alert.Raised
	require.NoError(t, pg.WithTx(context.Background(), e.App.Pool, func(tx pgx.Tx) error {
		var err error
		out, err = alert.RaiseTx(context.Background(), tx, alert.Raise{DedupKey: key, AlertType: typ, Severity: severity,
			HostID: host, Title: "Alert " + key, Body: "body of " + key})
		return err
	}))
	return dbAlert{ID: out.Alert.ID, Suppressed: out.Alert.Suppressed}
}

type dbAlert struct {
	ID         uuid.UUID
	Suppressed bool
}

// count runs a counting query.
func count(t *testing.T, e *apitest.Env, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, e.App.Pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// createHost adds a host with tags and returns its id.
func createHost(t *testing.T, e *apitest.Env, s apitest.Session, name string, tags []string) uuid.UUID {
	t.Helper()
	res := e.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: s.AccessToken,
		JSON: map[string]any{"hostname": name, "ip_address": "127.0.0.1", "port": 1, "tags": tags}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(t, &h)
	return h.Id
}

// TestDispatchOncePerChannel raises alerts while three dispatchers (the app's own and two
// more) drain the outbox at once: every raise yields exactly one delivery per matching
// channel, routing filters (alert type, minimum severity, host tags, host group) apply, and
// transitions that do not notify (acknowledged) queue nothing.
func TestDispatchOncePerChannel(t *testing.T) {
	t.Parallel()
	e, s := env(t)
	rcv := newReceiver(t, "", func(int32) int { return http.StatusOK })
	all := createChannel(t, e, s, map[string]any{"name": "all", "type": "webhook", "config": map[string]any{"url": rcv.URL}})
	disk := createChannel(t, e, s, map[string]any{"name": "disk", "type": "webhook", "config": map[string]any{"url": rcv.URL},
		"routing": map[string]any{"alert_types": []string{"disk_full"}}})
	crit := createChannel(t, e, s, map[string]any{"name": "crit", "type": "webhook", "config": map[string]any{"url": rcv.URL},
		"routing": map[string]any{"min_severity": "critical"}})
	web := createChannel(t, e, s, map[string]any{"name": "web", "type": "webhook", "config": map[string]any{"url": rcv.URL},
		"routing": map[string]any{"host_tags": []string{"web"}}})
	webHost := createHost(t, e, s, "web-1", []string{"web", "prod"})
	res := e.Do(apitest.Request{Method: http.MethodPost, Path: "groups", Token: s.AccessToken, JSON: map[string]any{"name": "dbs"}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var g struct {
		ID uuid.UUID `json:"id"`
	}
	res.Decode(t, &g)
	res = e.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: s.AccessToken,
		JSON: map[string]any{"hostname": "db-1", "ip_address": "127.0.0.1", "port": 1, "group_id": g.ID}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var dbHostRes api.HostResponse
	res.Decode(t, &dbHostRes)
	dbHost := dbHostRes.Id
	dbs := createChannel(t, e, s, map[string]any{"name": "dbs", "type": "webhook", "config": map[string]any{"url": rcv.URL},
		"routing": map[string]any{"group_ids": []uuid.UUID{g.ID}}})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for range 2 {
		d := e.App.Notify.NewDispatcher(notify.DispatcherOptions{Sweep: 10 * time.Millisecond, Batch: 3})
		wg.Go(func() { d.Run(ctx) })
	}
	const n = 48
	var raiseWG sync.WaitGroup
	ids := make([]uuid.UUID, n)
	for i := range n {
		raiseWG.Go(func() {
			typ, sev := "disk_full", "high"
			var host *uuid.UUID
			switch i % 6 {
			case 1:
				typ = "host_unreachable"
			case 2:
				sev = "critical"
			case 3:
				host = &webHost
			case 4:
				host = &dbHost
			}
			ids[i] = raise(t, e, fmt.Sprintf("once-%d", i), typ, sev, host).ID
		})
	}
	raiseWG.Wait()
	res = e.Do(apitest.Request{Method: http.MethodPost, Path: "alerts/" + ids[0].String() + ":acknowledge", Token: s.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)

	require.Eventually(t, func() bool {
		return count(t, e, `SELECT count(*) FROM alert_transitions WHERE notified_at IS NULL`) == 0
	}, 20*time.Second, 20*time.Millisecond)
	cancel()
	wg.Wait()

	require.Zero(t, count(t, e, `SELECT count(*) FROM (SELECT 1 FROM notification_deliveries
		GROUP BY alert_id, channel_id, transition HAVING count(*) > 1) dup`), "no delivery twice")
	per := func(ch api.NotificationChannel) int {
		return count(t, e, `SELECT count(*) FROM notification_deliveries WHERE channel_id = $1`, ch.Id)
	}
	require.Equal(t, n, per(all), "the unfiltered channel takes every raise, and no acknowledgement")
	require.Equal(t, 5*n/6, per(disk), "only disk_full alerts")
	require.Equal(t, n/6, per(crit), "only critical alerts")
	require.Equal(t, n/6, per(web), "only alerts of hosts tagged web")
	require.Equal(t, n/6, per(dbs), "only alerts of hosts in the group")
	require.Equal(t, n, count(t, e, `SELECT count(*) FROM feed_items WHERE kind = 'alert.raised'`), "one feed item per raise")
	require.Equal(t, 1, count(t, e, `SELECT count(*) FROM alert_transitions WHERE transition = 'acknowledged'`))
}

// TestDispatchSuppressedIsSkipped: an alert of a host in maintenance is routed as a
// skipped delivery, never sent, and stays out of the feed.
func TestDispatchSuppressedIsSkipped(t *testing.T) {
	t.Parallel()
	e, s := env(t)
	rcv := newReceiver(t, "", func(int32) int { return http.StatusOK })
	createChannel(t, e, s, map[string]any{"name": "all", "type": "webhook", "config": map[string]any{"url": rcv.URL}})
	h := createHost(t, e, s, "maint-1", []string{})
	res := e.Do(apitest.Request{Method: http.MethodPost, Path: "hosts/" + h.String() + "/maintenance", Token: s.AccessToken,
		JSON: map[string]any{"enabled": true}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	a := raise(t, e, "maint", "host_unreachable", "high", &h)
	require.True(t, a.Suppressed)
	require.Eventually(t, func() bool {
		return count(t, e, `SELECT count(*) FROM notification_deliveries WHERE alert_id = $1 AND status = 'skipped'`, a.ID) == 1
	}, 10*time.Second, 20*time.Millisecond)
	require.Zero(t, count(t, e, `SELECT count(*) FROM feed_items WHERE alert_id = $1`, a.ID))
	require.Zero(t, rcv.calls.Load())
}

// TestAlertingDoesNotWaitForReceivers: with a receiver that never answers, raising and
// resolving alerts commit while that receiver still holds its request, a live receiver
// gets its deliveries meanwhile, and the outcomes are announced on the notifications
// topic of the live stream (queued, delivered), to holders of notification:read.
func TestAlertingDoesNotWaitForReceivers(t *testing.T) {
	t.Parallel()
	e, s := env(t)
	hung := make(chan struct{})
	var hits sync.WaitGroup
	hits.Add(1)
	var once sync.Once
	block := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		once.Do(hits.Done)
		<-hung
	}))
	t.Cleanup(func() { close(hung); block.Close() })
	good := newReceiver(t, "s3cret", func(int32) int { return http.StatusOK })
	createChannel(t, e, s, map[string]any{"name": "hung", "type": "webhook", "config": map[string]any{"url": block.URL}})
	createChannel(t, e, s, map[string]any{"name": "good", "type": "webhook", "secret": "s3cret", "config": map[string]any{"url": good.URL}})

	a := raise(t, e, "slow-1", "host_unreachable", "high", nil)
	hits.Wait() // the hung receiver holds the first delivery from here on
	b := raise(t, e, "slow-2", "host_unreachable", "high", nil)
	require.NoError(t, pg.WithTx(context.Background(), e.App.Pool, func(tx pgx.Tx) error {
		_, err := alert.AutoResolveTx(context.Background(), tx, e.App.Audit, "slow-1", time.Time{})
		return err
	}))
	require.Eventually(t, func() bool { _, v := good.seen(); return len(v) == 3 }, 20*time.Second, 20*time.Millisecond,
		"the live receiver got both raises and the resolve while the other hung")
	_, valid := good.seen()
	require.Equal(t, []bool{true, true, true}, valid)
	for _, id := range []uuid.UUID{a.ID, b.ID} {
		require.Equal(t, 1, count(t, e, `SELECT count(*) FROM notification_deliveries d JOIN notification_channels c ON c.id = d.channel_id
			WHERE d.alert_id = $1 AND c.name = 'good' AND d.transition = 'raised'`, id))
	}
	require.Eventually(t, func() bool {
		return count(t, e, `SELECT COALESCE(sum((data->>'deliveries')::int), 0) FROM events WHERE topic = 'notifications'
			AND type = 'notification.delivered' AND permission = 'notification:read'`) == 3
	}, 10*time.Second, 20*time.Millisecond)
	require.Positive(t, count(t, e, `SELECT count(*) FROM events WHERE topic = 'notifications' AND type = 'notification.queued'`))

	// The history lists the raise and the automatic resolution, routed.
	res := e.Do(apitest.Request{Method: http.MethodGet, Path: "alerts/" + a.ID.String() + "/history", Token: s.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var h api.AlertHistory
	res.Decode(t, &h)
	require.Len(t, h.Items, 2)
	require.Equal(t, api.AlertTransitionTransition("raised"), h.Items[0].Transition)
	require.Equal(t, api.AlertTransitionTransition("resolved"), h.Items[1].Transition)
	require.Equal(t, "system", h.Items[1].Actor)
	require.NotNil(t, h.Items[0].NotifiedAt)
}

// TestDeliveryDeadEvent: a delivery out of attempts is announced as dead.
func TestDeliveryDeadEvent(t *testing.T) {
	t.Parallel()
	e, s := env(t)
	bad := newReceiver(t, "", func(int32) int { return http.StatusInternalServerError })
	createChannel(t, e, s, map[string]any{"name": "bad", "type": "webhook", "config": map[string]any{"url": bad.URL}})
	raise(t, e, "dead-1", "host_unreachable", "high", nil)
	require.Eventually(t, func() bool {
		return count(t, e, `SELECT COALESCE(sum((data->>'deliveries')::int), 0) FROM events
			WHERE topic = 'notifications' AND type = 'notification.dead'`) == 1
	}, 60*time.Second, 100*time.Millisecond)
	require.Equal(t, 1, count(t, e, `SELECT COALESCE(sum((data->>'deliveries')::int), 0) FROM events
		WHERE topic = 'notifications' AND type = 'notification.failed'`))
}

// TestStuckChannelIsHeldBack: a channel whose receiver stops answering has its waiting
// deliveries held back in the queue (its breaker opens) instead of cycling through the
// workers, while a live channel gets all of its own; once the receiver answers again, a
// retried attempt gets through, the breaker closes and what it held back is delivered.
func TestStuckChannelIsHeldBack(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, func(d *app.Deps) {
		d.Notify = notify.Options{Timeout: 3 * time.Second, MaxAttempts: 10, ChannelWorkers: 2, HoldBack: 2 * time.Second}
	})
	s := e.Admin()
	var answering atomic.Bool
	var got atomic.Int32
	gate := make(chan struct{})
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !answering.Load() {
			select {
			case <-gate:
			case <-r.Context().Done():
			}
			return
		}
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(func() { close(gate); stuck.Close() })
	good := newReceiver(t, "live", func(int32) int { return http.StatusNoContent })
	ch := createChannel(t, e, s, map[string]any{"name": "stuck", "type": "webhook", "config": map[string]any{"url": stuck.URL}})
	createChannel(t, e, s, map[string]any{"name": "live", "type": "webhook", "secret": "live", "config": map[string]any{"url": good.URL}})

	const n = 40
	for i := range n {
		raise(t, e, fmt.Sprintf("stuck-%d", i), "host_unreachable", "high", nil)
	}
	require.Eventually(t, func() bool { return good.calls.Load() == n }, 60*time.Second, 20*time.Millisecond,
		"the live channel got every delivery while the other was stuck")
	require.Eventually(t, func() bool {
		return strings.Contains(e.Logs(), "a notification channel does not answer: its deliveries wait")
	}, 30*time.Second, 50*time.Millisecond, "the stuck channel's breaker opened")
	held := `SELECT count(*) FROM river_job WHERE kind = 'notify_deliver' AND args->>'channel_id' = $1
		AND state = 'scheduled' AND scheduled_at > now() + interval '3 seconds'`
	require.Eventually(t, func() bool { return count(t, e, held, ch.Id.String()) >= n-4 }, 20*time.Second, 50*time.Millisecond,
		"the stuck channel's deliveries are held back")
	require.Less(t, count(t, e, `SELECT COALESCE(max(attempt), 0) FROM river_job WHERE kind = 'notify_deliver' AND args->>'channel_id' = $1`,
		ch.Id.String()), 3, "holding back costs no attempts")

	answering.Store(true)
	require.Eventually(t, func() bool { return got.Load() >= n }, 60*time.Second, 50*time.Millisecond,
		"once the receiver answers, the held-back deliveries arrive")
	require.Equal(t, n, count(t, e, `SELECT count(*) FROM notification_deliveries WHERE channel_id = $1 AND status = 'delivered'`, ch.Id))
}
