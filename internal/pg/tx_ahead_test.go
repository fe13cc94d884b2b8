package pg_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/pg"
)

// scanInto returns a statement whose single value lands in dst once its result is read.
func scanInto(sql string, dst *int, args ...any) *pgx.QueuedQuery {
	q := &pgx.QueuedQuery{SQL: sql, Arguments: args}
	q.QueryRow(func(row pgx.Row) error { return row.Scan(dst) })
	return q
}

// TestAheadAndBehindTravelWithTheNextStatement: statements queued Ahead and Behind go in
// the round trip of the next statement, before and after it, and their callbacks see
// their results; the statements after the next one are not affected.
func TestAheadAndBehindTravelWithTheNextStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, rt := tracedPool(t)

	var before, after, n int
	require.NoError(t, pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		require.True(t, pg.Ahead(tx, scanInto(`SELECT count(*) FROM t WHERE id > $1`, &before, 0)))
		require.True(t, pg.Behind(tx, scanInto(`SELECT count(*) FROM t WHERE id > $1`, &after, 0)))
		if err := tx.QueryRow(ctx, `WITH i AS (INSERT INTO t (id) VALUES ($1) RETURNING id) SELECT id FROM i`, 7).Scan(&n); err != nil {
			return err
		}
		require.Equal(t, 7, n)
		require.Equal(t, 0, before, "ahead ran before the insert")
		require.Equal(t, 1, after, "behind ran after it, and was read when its rows closed")
		_, err := tx.Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 8)
		return err
	}))
	require.Equal(t, []string{
		"[BEGIN | SELECT count(*) FROM t WHERE id > $1 | WITH i AS (INSERT INTO t (id) VALUES ($1) RETURNING id) SELECT id FROM i | SELECT count(*) FROM t WHERE id > $1]",
		"INSERT INTO t (id) VALUES ($1)",
		"[COMMIT]",
	}, rt.Take(""))

	// Once the transaction has begun, they still travel with the next statement (an Exec).
	require.NoError(t, pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM t WHERE id = $1`, 8); err != nil {
			return err
		}
		pg.Ahead(tx, scanInto(`SELECT count(*) FROM t WHERE id > $1`, &before, 0))
		pg.Behind(tx, scanInto(`SELECT count(*) FROM t WHERE id > $1`, &after, 0))
		_, err := tx.Exec(ctx, `DELETE FROM t WHERE id = $1`, 7)
		return err
	}))
	require.Equal(t, []string{
		"[BEGIN | DELETE FROM t WHERE id = $1]",
		"[SELECT count(*) FROM t WHERE id > $1 | DELETE FROM t WHERE id = $1 | SELECT count(*) FROM t WHERE id > $1]",
		"[COMMIT]",
	}, rt.Take(""))
	require.Equal(t, []int{1, 0}, []int{before, after})
}

// TestAheadAndBehindFailures: an Ahead statement that fails fails the next statement; a
// Behind one does not run when the statement failed; either failing rolls back.
func TestAheadAndBehindFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := tracedPool(t)
	_, err := pool.Exec(ctx, `INSERT INTO t (id) VALUES (1)`)
	require.NoError(t, err)

	var x int
	err = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		pg.Ahead(tx, scanInto(`SELECT 1 / (id - 1) FROM t WHERE id = $1`, &x, 1)) // division by zero
		_, err := tx.Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 2)
		return err
	})
	require.ErrorContains(t, err, "division by zero")
	require.Equal(t, 1, count(t, pool))

	called := false
	behind := &pgx.QueuedQuery{SQL: `SELECT $1::int`, Arguments: []any{5}}
	behind.QueryRow(func(row pgx.Row) error { called = true; return row.Scan(&x) })
	err = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		pg.Behind(tx, behind)
		_, err := tx.Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 1) // a duplicate
		return err
	})
	require.Error(t, err)
	require.False(t, called, "a statement queued behind a failed one does not run")

	err = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		pg.Behind(tx, scanInto(`SELECT 1 / (id - 1) FROM t WHERE id = $1`, &x, 1))
		_, err := tx.Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 3)
		return err
	})
	require.ErrorContains(t, err, "division by zero", "a failed Behind statement fails the one it followed")
	require.Equal(t, 1, count(t, pool))
}

// TestAheadWithoutANextStatement: statements queued and never followed are sent with the
// commit (or by SendQueued); a statement that cannot travel in a pipeline (no arguments)
// sends the Ahead ones before it and leaves the Behind ones for a later round trip.
func TestAheadWithoutANextStatement(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, rt := tracedPool(t)

	var a, b int
	require.NoError(t, pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		pg.Ahead(tx, scanInto(`SELECT $1::int`, &a, 1))
		pg.Behind(tx, scanInto(`SELECT $1::int`, &b, 2))
		_, err := pg.AtCommit(tx).Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 1)
		return err
	}))
	require.Equal(t, []string{"[BEGIN | SELECT $1::int | SELECT $1::int | INSERT INTO t (id) VALUES ($1) | COMMIT]"}, rt.Take(""))
	require.Equal(t, []int{1, 2}, []int{a, b})

	a, b = 0, 0
	require.NoError(t, pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		pg.Ahead(tx, scanInto(`SELECT $1::int`, &a, 3))
		pg.Behind(tx, scanInto(`SELECT $1::int`, &b, 4))
		if _, err := tx.Exec(ctx, `INSERT INTO t (id) VALUES (2)`); err != nil {
			return err
		}
		require.Equal(t, 3, a)
		require.Zero(t, b, "not sent yet")
		if err := pg.SendQueued(ctx, tx); err != nil {
			return err
		}
		require.Equal(t, 4, b)
		return nil
	}))
	require.Equal(t, []string{"[BEGIN | SELECT $1::int]", "INSERT INTO t (id) VALUES (2)", "[SELECT $1::int]", "[COMMIT]"}, rt.Take(""))

	// Outside WithTx nothing is queued: the caller sends the statement itself.
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	require.False(t, pg.Ahead(tx, scanInto(`SELECT 1`, &a)))
	require.False(t, pg.Behind(tx, scanInto(`SELECT 1`, &a)))
}

// TestStatementRecordsAGeneratedQuery: Statement gives the SQL and arguments a generated
// query method sends, sending nothing.
func TestStatementRecordsAGeneratedQuery(t *testing.T) {
	t.Parallel()
	q := pg.Statement(func(db pg.DBTX) {
		_, _ = dbq.New(db).IdempotencyGet(context.Background(), dbq.IdempotencyGetParams{Principal: "p", Key: "k"})
	})
	require.Contains(t, q.SQL, "-- name: IdempotencyGet")
	require.Equal(t, []any{"p", "k"}, q.Arguments)
	require.Panics(t, func() { pg.Statement(func(pg.DBTX) {}) })
}
