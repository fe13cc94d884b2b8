package pg_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
)

// TestScanOnceKeepsPlans: QueryRow through ScanOnce scans like pgx (values, NULLs, no row,
// wrong destinations) and plans a statement's columns once per connection.
func TestScanOnceKeepsPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgtest.NewDSN(t))
	require.NoError(t, err)
	cfg.MaxConns = 1
	cfg.AfterConnect = pg.AfterConnect
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	db := pg.ScanOnce(pool)
	const q = `SELECT $1::uuid, $2::text, NULL::timestamptz, now()`

	var plans []any
	for range 3 {
		id := uuid.New()
		var gotID uuid.UUID
		var text string
		var none *time.Time
		var now time.Time
		require.NoError(t, db.QueryRow(ctx, q, id, "hello").Scan(&gotID, &text, &none, &now))
		require.Equal(t, id, gotID)
		require.Equal(t, "hello", text)
		require.Nil(t, none)
		require.WithinDuration(t, time.Now(), now, time.Minute)
		c, err := pool.Acquire(ctx)
		require.NoError(t, err)
		plans = append(plans, pg.ScanPlansOf(c.Conn().PgConn(), q))
		c.Release()
	}
	require.NotNil(t, plans[0])
	require.Same(t, plans[0], plans[1], "planned once, kept on the connection")
	require.Same(t, plans[0], plans[2])

	// Other destination types are planned anew, and still scan.
	var s1, s2, s3, s4 string
	require.NoError(t, db.QueryRow(ctx, `SELECT $1::uuid::text, $2::text, 'x', 'y'`, uuid.New(), "a").Scan(&s1, &s2, &s3, &s4))
	require.Equal(t, "a", s2)

	var n int
	require.ErrorIs(t, db.QueryRow(ctx, `SELECT 1 WHERE false`).Scan(&n), pgx.ErrNoRows)
	require.Error(t, db.QueryRow(ctx, `SELECT 1, 2`).Scan(&n), "one destination for two columns")
	var notNull string
	err = db.QueryRow(ctx, `SELECT NULL::text`).Scan(&notNull)
	var argErr pgx.ScanArgError
	require.ErrorAs(t, err, &argErr, "NULL into a string")
	require.Error(t, db.QueryRow(ctx, `SELECT nonsense`).Scan(&n), "a query error")
	require.NoError(t, db.QueryRow(ctx, `SELECT 41 + 1`).Scan(&n), "the connection is fine after errors")
	require.Equal(t, 42, n)
}
