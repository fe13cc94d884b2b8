package host_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/pg/pgtest"
)

// columns returns "name type" for every column of a table or view, in order.
func columns(ctx context.Context, t *testing.T, pool *pgxpool.Pool, relation string) []string {
	t.Helper()
	rows, err := pool.Query(ctx, `SELECT column_name || ' ' || data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, relation)
	require.NoError(t, err)
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.NotEmpty(t, cols, relation)
	return cols
}

// TestLiveHostsHasEveryHostColumn shows the live_hosts view has every column of hosts, in
// order, then effective_maintenance: the view expands h.* when it is created, so a
// migration that adds a column to hosts must recreate it (00017_live_hosts.sql).
func TestLiveHostsHasEveryHostColumn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	want := func() []string { return append(columns(ctx, t, pool, "hosts"), "effective_maintenance boolean") }
	require.Equal(t, want(), columns(ctx, t, pool, "live_hosts"))

	// A column added to hosts without recreating the view is caught.
	_, err := pool.Exec(ctx, `ALTER TABLE hosts ADD COLUMN added_later text`)
	require.NoError(t, err)
	require.NotEqual(t, want(), columns(ctx, t, pool, "live_hosts"))
}

// TestHostDetailPlanReadsNoGroupTable guards the plan of a host detail (HostDetailList): the
// group of a host is looked up by its key, never by hashing host_groups whole, and a host
// without a group does not touch host_groups at all (00019_live_hosts_group_lookup.sql).
func TestHostDetailPlanReadsNoGroupTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	_, err := pool.Exec(ctx, `INSERT INTO host_groups (id, name) SELECT gen_random_uuid(), 'g' || i FROM generate_series(1, 5000) i`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO hosts (id, hostname, ip_address, group_id, created_by)
		SELECT gen_random_uuid(), 'h' || i, '127.0.0.1', CASE WHEN i % 2 = 0 THEN (SELECT id FROM host_groups ORDER BY name LIMIT 1) END, 'test'
		FROM generate_series(1, 500) i`)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `ANALYZE hosts; ANALYZE host_groups; ANALYZE host_liveness`)
	require.NoError(t, err)

	plan := func(grouped bool) string {
		var id string
		require.NoError(t, pool.QueryRow(ctx, `SELECT id::text FROM hosts WHERE (group_id IS NOT NULL) = $1 LIMIT 1`, grouped).Scan(&id))
		rows, err := pool.Query(ctx, `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
			SELECT h.*, l.* FROM live_hosts h JOIN host_liveness l ON l.host_id = h.id WHERE h.id = ANY (ARRAY['`+id+`']::uuid[])`)
		require.NoError(t, err)
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return strings.Join(lines, "\n")
	}
	grouped := plan(true)
	require.NotContains(t, grouped, "Hash", grouped)
	require.NotContains(t, grouped, "Seq Scan on host_groups", grouped)
	require.Contains(t, grouped, "Index Scan using host_groups_pkey on host_groups g (actual rows=1 loops=1)", grouped)
	ungrouped := plan(false)
	require.NotContains(t, ungrouped, "Hash", ungrouped)
	require.Contains(t, ungrouped, "Index Scan using host_groups_pkey on host_groups g (never executed)", ungrouped)
}
