package scan_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/host"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
	"github.com/openwatch/openwatch/internal/rule"
	"github.com/openwatch/openwatch/internal/scan"
)

// TestSeedCompliance: the seeded results, transitions and rollups agree with each other
// as stored scans keep them, so benchmarks read what a real fleet would show.
func TestSeedCompliance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	_, err := host.Seed(ctx, pool, 40, 2)
	require.NoError(t, err)
	corpus, err := rule.Embedded()
	require.NoError(t, err)
	rep, err := scan.SeedCompliance(ctx, pool, scan.NewCatalog(corpus), 60, 10)
	require.NoError(t, err)
	require.Equal(t, 40, rep.Hosts)
	require.Equal(t, 60, rep.Rules)
	require.EqualValues(t, 40*60, rep.States)
	require.Positive(t, rep.Changes)

	count := func(q string) int64 {
		t.Helper()
		var n int64
		require.NoError(t, pool.QueryRow(ctx, q).Scan(&n))
		return n
	}
	require.Equal(t, rep.States+rep.Changes, count(`SELECT count(*) FROM rule_transitions`))
	require.Equal(t, rep.Changes, count(`SELECT count(*) FROM rule_states WHERE changed_at > first_seen_at`))
	require.EqualValues(t, 40, count(`SELECT count(*) FROM scans WHERE status = 'completed'`))
	for _, st := range []string{"pass", "fail", "skipped", "error"} {
		states := count(`SELECT count(*) FROM rule_states WHERE status = '` + st + `'`)
		require.Equal(t, states, count(`SELECT COALESCE(sum(`+st+`_count), 0) FROM host_compliance WHERE framework = 'all'`), st)
		require.Equal(t, states, count(`SELECT COALESCE(sum(`+st+`_count), 0) FROM fleet_compliance WHERE framework = 'all'`), st)
		require.Equal(t, states, count(`SELECT COALESCE(sum(`+st+`_hosts), 0) FROM rule_fleet`), st)
		// The latest transition of each result is its state.
		require.Equal(t, states, count(`SELECT count(*) FROM (SELECT DISTINCT ON (host_id, rule_id) status FROM rule_transitions
			ORDER BY host_id, rule_id, occurred_at DESC) t WHERE status = '`+st+`'`), st)
	}
	require.Positive(t, count(`SELECT count(*) FROM rule_states WHERE status = 'fail'`))

	// A scan of a seeded host that changes nothing writes no transition: the seed stored
	// the evidence such a scan reports, so ingest benchmarks change only what they ask for.
	svc := scan.NewService(pool, nil, scan.NewCatalog(corpus), nil, nil, scan.Options{})
	transitions := count(`SELECT count(*) FROM rule_transitions`)
	ing, err := svc.MeasureIngest(ctx, 40, 4, 0)
	require.NoError(t, err)
	require.EqualValues(t, 40, ing.Scans)
	require.Zero(t, ing.Changed)
	require.Equal(t, transitions, count(`SELECT count(*) FROM rule_transitions`))
	ing, err = svc.MeasureIngest(ctx, 40, 4, 10)
	require.NoError(t, err)
	require.Positive(t, ing.Changed)
	require.Equal(t, transitions+ing.Changed, count(`SELECT count(*) FROM rule_transitions`))

	// Past the corpus, synthetic rules make up the count, in no framework.
	_, err = host.Seed(ctx, pool, 3, 1)
	require.NoError(t, err)
	extra, err := scan.SeedCompliance(ctx, pool, scan.NewCatalog(corpus), corpus.Len()+20, 10)
	require.NoError(t, err)
	require.Equal(t, 3, extra.Hosts)
	require.EqualValues(t, 3*(corpus.Len()+20), extra.States)
	require.EqualValues(t, 3*20, count(`SELECT count(*) FROM rule_states WHERE rule_id LIKE 'bench-synthetic-%'`))
	ing, err = svc.MeasureIngest(ctx, 43, 4, 0)
	require.NoError(t, err)
	require.Zero(t, ing.Changed)

	// Seeding again leaves hosts that already have results alone.
	again, err := scan.SeedCompliance(ctx, pool, scan.NewCatalog(corpus), 60, 10)
	require.NoError(t, err)
	require.Zero(t, again.Hosts)
	require.Equal(t, rep.States+extra.States, count(`SELECT count(*) FROM rule_states`))
}
