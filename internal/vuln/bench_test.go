package vuln_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/host"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/vuln"
)

// benchRelease is a distribution release of the generated fleet.
type benchRelease struct {
	osID, osVersion, ecosystem string
	share                      int // percent of hosts
}

var benchReleases = []benchRelease{
	{"debian", "12", "Debian:12", 40},
	{"debian", "11", "Debian:11", 20},
	{"ubuntu", "22.04", "Ubuntu:22.04:LTS", 25},
	{"almalinux", "9.4", "AlmaLinux:9", 15},
}

// benchUniverse is how many packages each release offers; hosts share a common core.
const benchUniverse = 4000

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// benchVersion is the i-th (0 oldest, 2 current) version of package p.
func benchVersion(p, i int) string { return fmt.Sprintf("%d.%d.%d-%d", 1+p%7, p%13, 10+i, 1+p%3) }

// BenchmarkFleet measures the figures of the issue: import of OSV_RECORDS (default 50,000)
// records and matching against HOSTS (default 10,000) hosts' inventories of 500 to 2,000
// packages each (shared across hosts like a real fleet, four distribution releases),
// written straight into the database; then a full match with nothing to change and the
// incremental match after a 100-record feed update; with the peak Go heap, the process's
// peak RSS and the database size. Figures only. Run it with -benchtime=1x
// (scripts/bench-vuln.sh does, on the managed, durable database).
func BenchmarkFleet(b *testing.B) {
	for b.Loop() {
		fleetBench(b, envInt("HOSTS", 10000), envInt("OSV_RECORDS", 50000))
	}
}

func fleetBench(b *testing.B, hosts, records int) {
	ctx := context.Background()
	e := apitest.New(b, func(d *app.Deps) { d.Config.Worker.WithWorker = false })
	pool := e.App.Pool
	svc := e.App.Vuln
	var peakHeap atomic.Uint64
	// phase starts a measured phase: the heap peak restarts from what is in use now.
	phase := func() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peakHeap.Store(ms.HeapInuse)
	}
	peak := func() string { return fmt.Sprintf("peak Go heap %d MiB", peakHeap.Load()>>20) }
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peakHeap.Load() {
				peakHeap.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	defer func() { close(stop); wg.Wait() }()

	// The fleet: hosts, their release facts and their package inventories.
	start := time.Now()
	_, err := host.Seed(ctx, pool, hosts, 20)
	require.NoError(b, err)
	totalPkgs := writeInventories(b, pool, hosts)
	b.Logf("fleet: %d hosts, %d installed packages (%.0f per host) written in %s", hosts, totalPkgs,
		float64(totalPkgs)/float64(hosts), time.Since(start).Round(time.Millisecond))

	phase()
	start = time.Now()
	st, err := svc.MatchAll(ctx)
	require.NoError(b, err)
	b.Logf("inventory sync (matching rows from %d stored inventories, no advisory yet): %s, %s", hosts,
		time.Since(start).Round(time.Millisecond), peak())
	_ = st

	dir := b.TempDir()
	feed := filepath.Join(dir, "feed.zip")
	start = time.Now()
	writeFeed(b, feed, records, 0, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 0)
	b.Logf("feed: %d records written to a zip in %s", records, time.Since(start).Round(time.Millisecond))

	phase()
	start = time.Now()
	res, err := svc.ImportPath(ctx, nil, feed, "bench")
	require.NoError(b, err)
	took := time.Since(start)
	require.EqualValues(b, records, res.Import.Added)
	b.Logf("import of %d records: %s total (store %s, match %s: %d packages matched, %d exposures opened), %s",
		records, took.Round(time.Millisecond), res.Store.Round(time.Millisecond), res.Matching.Round(time.Millisecond),
		res.Match.Pairs, res.Match.Opened, peak())

	phase()
	start = time.Now()
	st, err = svc.MatchAll(ctx)
	require.NoError(b, err)
	require.Zero(b, st.Opened+st.Resolved+st.Updated)
	b.Logf("full match (every host, every package with an advisory, nothing to change): %s for %d packages, %s",
		time.Since(start).Round(time.Millisecond), st.Pairs, peak())

	upd := filepath.Join(dir, "update.zip")
	writeFeed(b, upd, 100, records/2, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), 1)
	phase()
	start = time.Now()
	res, err = svc.ImportPath(ctx, nil, upd, "bench")
	require.NoError(b, err)
	require.EqualValues(b, 100, res.Import.Updated)
	b.Logf("incremental: 100 updated records imported and matched in %s (store %s, match %s: %d packages, %d opened, %d resolved), %s",
		time.Since(start).Round(time.Millisecond), res.Store.Round(time.Millisecond), res.Matching.Round(time.Millisecond),
		res.Match.Pairs, res.Match.Opened, res.Match.Resolved, peak())

	readFigures(b, ctx, pool, svc)

	var open int64
	require.NoError(b, pool.QueryRow(ctx, `SELECT count(*) FROM vuln_exposures WHERE resolved_at IS NULL`).Scan(&open))
	var dbSize, vulnSize string
	require.NoError(b, pool.QueryRow(ctx, `SELECT pg_size_pretty(pg_database_size(current_database())),
		pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c WHERE c.relname LIKE 'vuln\_%' AND c.relkind = 'r'`).Scan(&dbSize, &vulnSize))
	b.Logf("open exposures: %d; database %s, of which vuln_* tables %s", open, dbSize, vulnSize)

	// The ceiling beside: the database writing the same matching rows, into a table with the
	// same indexes, with no logic at all (INSERT ... SELECT inside the server).
	_, err = pool.Exec(ctx, `CREATE TABLE bench_ceiling (LIKE vuln_host_packages INCLUDING ALL)`)
	require.NoError(b, err)
	start = time.Now()
	tag, err := pool.Exec(ctx, `INSERT INTO bench_ceiling SELECT * FROM vuln_host_packages`)
	require.NoError(b, err)
	b.Logf("ceiling: the database itself copies the %d matching rows into a table with the same indexes in %s; peak RSS of the whole process (the generator included) %s",
		tag.RowsAffected(), time.Since(start).Round(time.Millisecond), peakRSS())
}

func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// writeInventories stores, per host, its release facts and a packages inventory in the
// format intelligence writes (dpkg hosts with source packages), with COPY.
func writeInventories(b *testing.B, pool *pgxpool.Pool, hosts int) int {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(7, 16))
	total := 0
	now := time.Now().UTC()
	require.NoError(b, pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM hosts ORDER BY id`)
		if err != nil {
			return err
		}
		var ids [][16]byte
		for rows.Next() {
			var id [16]byte
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		var si [][]any
		for i, id := range ids {
			rel := pickRelease(i)
			si = append(si, []any{id, rel.osID, rel.osVersion, "h" + strconv.Itoa(i), now, now})
		}
		// The inventories are generated as COPY asks for them, never all in memory.
		next := 0
		cats := pgx.CopyFromFunc(func() ([]any, error) {
			if next >= len(ids) {
				return nil, nil
			}
			i := next
			next++
			n := 500 + r.IntN(1501)
			inv := make(map[string]map[string]string, n)
			for k := 0; k < n; k++ {
				// A core every host has, then a long tail: hosts share most packages.
				p := k
				if k >= 400 {
					p = 400 + r.IntN(benchUniverse-400)
				}
				vi := 2
				switch x := r.IntN(10); {
				case x == 0:
					vi = 0
				case x < 3:
					vi = 1
				}
				name := fmt.Sprintf("pkg%04d", p)
				inv[name+"-bin"] = map[string]string{"version": benchVersion(p, vi), "arch": "amd64", "source": name}
			}
			raw, err := json.Marshal(inv)
			if err != nil {
				return nil, err
			}
			total += len(inv)
			return []any{ids[i], "packages", raw, fmt.Sprintf("hash-%d", i), now, now, true}, nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"host_system_info"},
			[]string{"host_id", "os_id", "os_version", "content_hash", "collected_at", "changed_at"}, pgx.CopyFromRows(si)); err != nil {
			return err
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"host_intel_categories"},
			[]string{"host_id", "category", "value", "value_hash", "collected_at", "changed_at", "fresh"}, cats)
		return err
	}))
	return total
}

func pickRelease(i int) benchRelease {
	x := i % 100
	for _, r := range benchReleases {
		if x < r.share {
			return r
		}
		x -= r.share
	}
	return benchReleases[0]
}

// writeFeed writes n OSV records (ids offset.. offset+n) into a zip: each names one
// package of a release, popular packages more often; most fixes are older than what hosts
// run (a patched fleet), some are current and some have no fix yet.
// salt changes the records' content (the package and fix of an updated record).
func writeFeed(b *testing.B, path string, n, offset int, modified time.Time, salt uint64) {
	f, err := os.Create(path)
	require.NoError(b, err)
	zw := zip.NewWriter(f)
	for i := offset; i < offset+n; i++ {
		r := rand.New(rand.NewPCG(uint64(i), 99+salt))
		rel := benchReleases[i%len(benchReleases)]
		p := r.IntN(benchUniverse)
		if r.IntN(3) == 0 {
			p = r.IntN(400)
		}
		events := []any{map[string]any{"introduced": "0"}}
		switch x := r.IntN(100); {
		case x < 85:
			events = append(events, map[string]any{"fixed": benchVersion(p, 0)})
		case x < 95:
			events = append(events, map[string]any{"fixed": benchVersion(p, 2)})
		}
		rec := map[string]any{"schema_version": "1.6.0", "id": fmt.Sprintf("DEBIAN-CVE-2026-%06d", i),
			"modified": modified.Format(time.RFC3339), "published": "2025-12-01T00:00:00Z",
			"aliases": []string{fmt.Sprintf("CVE-2026-%06d", i)}, "summary": fmt.Sprintf("pkg%04d: generated advisory", p),
			"severity": []any{map[string]any{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:L/A:N"}},
			"affected": []any{map[string]any{"package": map[string]any{"ecosystem": rel.ecosystem, "name": fmt.Sprintf("pkg%04d", p)},
				"ranges": []any{map[string]any{"type": "ECOSYSTEM", "events": events}}}}}
		w, err := zw.Create(fmt.Sprintf("osv/%d.json", i))
		require.NoError(b, err)
		require.NoError(b, json.NewEncoder(w).Encode(rec))
	}
	require.NoError(b, zw.Close())
	require.NoError(b, f.Close())
}

// readFigures times the first page (50) of each read the API serves over the loaded
// exposures: the fleet's advisories (all, then critical only), the hosts of the advisory
// exposing the most hosts, and one host's exposures; the median of five reads each.
func readFigures(b *testing.B, ctx context.Context, pool *pgxpool.Pool, svc *vuln.Service) {
	var top string
	var hostID uuid.UUID
	require.NoError(b, pool.QueryRow(ctx, `SELECT advisory_id FROM vuln_exposures WHERE resolved_at IS NULL
		GROUP BY advisory_id ORDER BY count(*) DESC LIMIT 1`).Scan(&top))
	require.NoError(b, pool.QueryRow(ctx, `SELECT host_id FROM vuln_exposures WHERE resolved_at IS NULL
		GROUP BY host_id ORDER BY count(*) DESC LIMIT 1`).Scan(&hostID))
	median := func(read func() int) (time.Duration, int) {
		var ds []time.Duration
		n := 0
		for range 5 {
			start := time.Now()
			n = read()
			ds = append(ds, time.Since(start))
		}
		slices.Sort(ds)
		return ds[len(ds)/2], n
	}
	critical := "critical"
	var figures []string
	for _, r := range []struct {
		name string
		read func() int
	}{
		{"GET /vulnerabilities", func() int {
			p, err := svc.List(ctx, vuln.ListFilter{}, cursor.First(cursor.JSON[vuln.RankKey]{}, 50))
			require.NoError(b, err)
			return len(p.Items)
		}},
		{"GET /vulnerabilities?severity=critical", func() int {
			p, err := svc.List(ctx, vuln.ListFilter{Severity: &critical}, cursor.First(cursor.JSON[vuln.RankKey]{}, 50))
			require.NoError(b, err)
			return len(p.Items)
		}},
		{"GET /vulnerabilities/{id}/hosts of the advisory exposing most hosts", func() int {
			p, err := svc.Hosts(ctx, top, cursor.First(cursor.JSON[vuln.HostKey]{}, 50))
			require.NoError(b, err)
			return len(p.Items)
		}},
		{"GET /hosts/{id}/vulnerabilities of the most exposed host", func() int {
			p, err := svc.OfHost(ctx, hostID, nil, cursor.First(cursor.JSON[vuln.RankKey]{}, 50))
			require.NoError(b, err)
			return len(p.Items)
		}},
	} {
		d, n := median(r.read)
		figures = append(figures, fmt.Sprintf("%s (%d items) %s", r.name, n, d.Round(100*time.Microsecond)))
	}
	// One line: a benchmark's output is cut after ten lines.
	b.Logf("reads, first page of 50, median of 5: %s", strings.Join(figures, "; "))
}
