package host_test

import (
	"context"
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
