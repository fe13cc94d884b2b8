package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/alert"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/notify"
	"github.com/openwatch/openwatch/internal/pg"
)

// fanoutTransitions is how many alert transitions each fan-out run raises.
const fanoutTransitions = 1000

// timedReceiver is a loopback webhook receiver that verifies each delivery's signature
// and records when the delivery of each alert arrived.
type timedReceiver struct {
	*httptest.Server
	mu      sync.Mutex
	arrived map[string]time.Time
	invalid int
}

func newTimedReceiver(b *testing.B, secret string) *timedReceiver {
	r := &timedReceiver{arrived: map[string]time.Time{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		at := time.Now()
		body, _ := io.ReadAll(req.Body)
		var p struct {
			AlertID string `json:"alert_id"`
		}
		_ = json.Unmarshal(body, &p)
		ok := verify(secret, req.Header.Get(notify.SignatureHeader), body)
		r.mu.Lock()
		if !ok {
			r.invalid++
		} else if _, seen := r.arrived[p.AlertID]; !seen {
			r.arrived[p.AlertID] = at
		}
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(r.Close)
	return r
}

func (r *timedReceiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.arrived)
}

// silentReceiver accepts connections and never answers.
func silentReceiver(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	b.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "http://" + ln.Addr().String() + "/hook"
}

// BenchmarkFanout raises 1,000 alerts (one transition each) and measures their delivery
// to loopback webhook receivers that verify the HMAC signature: deliveries per second
// (live deliveries over the time from the first commit to the last arrival) and, per
// live receiver, the p50 and p99 from the transition's commit to its delivery's
// arrival. Three runs, each on a fresh database of the same server:
//
//   - one-live: one live channel, the ceiling of this machine and database;
//   - two-live: two live channels;
//   - three-live: three live channels, the same fan-out work as the next run;
//   - two-live+silent: the same two plus a channel whose receiver accepts connections
//     and never answers (each attempt waits for the 10 s timeout; it holds at most 10 of the 50 delivery workers).
//
// The last two side by side show whether the silent receiver slows the others beyond
// the work of a third channel. Run it
// with -benchtime=1x (scripts/bench-alert-fanout.sh does, on a durable database).
func BenchmarkFanout(b *testing.B) {
	for _, run := range []struct {
		name   string
		live   int
		silent bool
	}{{"one-live", 1, false}, {"two-live", 2, false}, {"three-live", 3, false}, {"two-live+silent", 2, true}} {
		b.Run(run.name, func(b *testing.B) {
			for b.Loop() {
				fanout(b, run.live, run.silent)
			}
		})
	}
}

func fanout(b *testing.B, live int, silent bool) {
	e := apitest.New(b, func(d *app.Deps) { d.Notify = notify.Options{Timeout: 10 * time.Second, MaxAttempts: 3} })
	s := e.Admin()
	var rcvs []*timedReceiver
	for i := range live {
		secret := fmt.Sprintf("secret-%d", i)
		r := newTimedReceiver(b, secret)
		rcvs = append(rcvs, r)
		createChannel(b, e, s, map[string]any{"name": fmt.Sprintf("live-%d", i), "type": "webhook", "secret": secret,
			"config": map[string]any{"url": r.URL + "/hook"}})
	}
	if silent {
		createChannel(b, e, s, map[string]any{"name": "silent", "type": "webhook", "config": map[string]any{"url": silentReceiver(b)}})
	}

	committed := make(map[string]time.Time, fanoutTransitions)
	var mu sync.Mutex
	var wg sync.WaitGroup
	const raisers = 8
	start := time.Now()
	for w := range raisers {
		wg.Go(func() {
			for i := w; i < fanoutTransitions; i += raisers {
				var id uuid.UUID
				err := pg.WithTx(context.Background(), e.App.Pool, func(tx pgx.Tx) error {
					r, err := alert.RaiseTx(context.Background(), tx, alert.Raise{DedupKey: fmt.Sprintf("fanout-%d", i),
						AlertType: "bench", Severity: "high", Title: fmt.Sprintf("fan-out %d", i)})
					id = r.Alert.ID
					return err
				})
				at := time.Now()
				if err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				committed[id.String()] = at
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	raised := time.Since(start)
	deadline := time.Now().Add(5 * time.Minute)
	for _, r := range rcvs {
		for r.count() < fanoutTransitions && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		require.Equal(b, fanoutTransitions, r.count(), "every live receiver got every transition")
		require.Zero(b, r.invalid, "every signature verified")
	}
	var last time.Time
	for i, r := range rcvs {
		lat := make([]time.Duration, 0, fanoutTransitions)
		for id, at := range r.arrived {
			lat = append(lat, at.Sub(committed[id]))
			if at.After(last) {
				last = at
			}
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, fmt.Sprintf("p50-ms-r%d", i+1))
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, fmt.Sprintf("p99-ms-r%d", i+1))
	}
	b.ReportMetric(float64(live*fanoutTransitions)/last.Sub(start).Seconds(), "deliveries/s")
	b.ReportMetric(float64(fanoutTransitions)/raised.Seconds(), "transitions/s")
}
