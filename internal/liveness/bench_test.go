package liveness_test

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/liveness"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// farmHosts is the size of the benchmark fleet.
const farmHosts = 10_000

// BenchmarkPoller measures the poller's credential-free probe path (lease due hosts, TCP
// connect and SSH banner, record results in batches) against farmHosts in-process SSH
// endpoints on loopback (sshtest.Farm), with the default configuration.
//
//   - default: one tick a second, as River runs it, each leasing rate_limit (200) hosts.
//     Run with -benchtime=30x (30 ticks); hosts/min is what the default settings
//     sustain, ms/tick how much of each second a tick needs.
//   - unlimited: one tick leasing the whole fleet (no rate limit); hosts/min is what the
//     prober could do.
func BenchmarkPoller(b *testing.B) {
	ctx := context.Background()
	addrs := sshtest.Farm(b, farmHosts)
	pool := pgtest.NewPool(b)
	seedFarm(b, pool, addrs)
	svc := liveness.NewService(pool, nil, nil, nil, liveness.Options{})
	cfg, err := liveness.LoadConfig(ctx, pool)
	require.NoError(b, err)
	tick := time.Second

	b.Run("default", func(b *testing.B) {
		makeDue(b, pool)
		var probed int
		var busy time.Duration
		start := time.Now()
		for b.Loop() {
			t0 := time.Now()
			st, err := svc.Tick(ctx)
			require.NoError(b, err)
			require.Equal(b, cfg.RateLimit, st.Probed, "a tick probes rate_limit hosts")
			probed += st.Probed
			busy += time.Since(t0)
			time.Sleep(time.Until(t0.Add(tick)))
		}
		elapsed := time.Since(start)
		b.ReportMetric(float64(probed)/elapsed.Minutes(), "hosts/min")
		b.ReportMetric(float64(busy.Milliseconds())/float64(b.N), "ms/tick")
		b.Logf("default settings (rate_limit %d, tick %s): %d hosts in %s = %.0f hosts/min; a tick takes %.1f ms",
			cfg.RateLimit, tick, probed, elapsed.Round(time.Millisecond), float64(probed)/elapsed.Minutes(),
			float64(busy.Microseconds())/1000/float64(b.N))
	})

	b.Run("unlimited", func(b *testing.B) {
		var probed int
		var elapsed time.Duration
		for b.Loop() {
			b.StopTimer()
			makeDue(b, pool)
			b.StartTimer()
			t0 := time.Now()
			st, err := svc.TickWithBudget(ctx, farmHosts)
			require.NoError(b, err)
			require.Equal(b, farmHosts, st.Probed)
			elapsed += time.Since(t0)
			probed += st.Probed
		}
		b.ReportMetric(float64(probed)/elapsed.Minutes(), "hosts/min")
		b.Logf("no rate limit: %d hosts in %s = %.0f hosts/min", probed, elapsed.Round(time.Millisecond),
			float64(probed)/elapsed.Minutes())
	})

	var failed int
	require.NoError(b, pool.QueryRow(ctx, `SELECT count(*) FROM host_liveness WHERE monitoring_state <> 'online'`).Scan(&failed))
	require.Zero(b, failed, "every probed farm endpoint answered")
}

// seedFarm registers one host per farm endpoint.
func seedFarm(b *testing.B, pool *pgxpool.Pool, addrs []string) {
	b.Helper()
	rows := make([][]any, len(addrs))
	for i, a := range addrs {
		host, port, err := net.SplitHostPort(a)
		require.NoError(b, err)
		p, err := strconv.Atoi(port)
		require.NoError(b, err)
		rows[i] = []any{uuid.Must(uuid.NewV7()), fmt.Sprintf("farm-%05d.example.com", i), netip.MustParseAddr(host), p}
	}
	_, err := pool.CopyFrom(context.Background(), pgx.Identifier{"hosts"}, []string{"id", "hostname", "ip_address", "port"}, pgx.CopyFromRows(rows))
	require.NoError(b, err)
	_, err = pool.Exec(context.Background(), "ANALYZE hosts")
	require.NoError(b, err)
}

// makeDue makes every host due now (the first tick creates missing rows, due at once).
func makeDue(b *testing.B, pool *pgxpool.Pool) {
	b.Helper()
	_, err := pool.Exec(context.Background(), `UPDATE host_liveness SET next_probe_at = now() - interval '1 second', probe_lease_until = NULL`)
	require.NoError(b, err)
}
