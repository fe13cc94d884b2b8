package pg_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
)

func tracedPool(t *testing.T) (*pgxpool.Pool, *pgtest.QueryLog) {
	t.Helper()
	rt := pgtest.NewQueryLog()
	pool := pgtest.NewTracedPool(t, rt, 2)
	_, err := pool.Exec(context.Background(), `CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL DEFAULT '')`)
	require.NoError(t, err)
	rt.Take("")
	return pool, rt
}

func count(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM t`).Scan(&n))
	return n
}

// TestWithTxRoundTrips guards the pipelining: BEGIN travels with the first statement and the
// AtCommit statements with COMMIT.
func TestWithTxRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, rt := tracedPool(t)

	require.NoError(t, pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 1); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM t WHERE id > $1`, 0).Scan(&n); err != nil {
			return err
		}
		_, err := pg.AtCommit(tx).Exec(ctx, `INSERT INTO t (id, v) VALUES ($1, $2)`, 2, "last")
		return err
	}))
	require.Equal(t, []string{
		"[BEGIN | INSERT INTO t (id) VALUES ($1)]",
		"SELECT count(*) FROM t WHERE id > $1",
		"[INSERT INTO t (id, v) VALUES ($1, $2) | COMMIT]",
	}, rt.Take(""))
	require.Equal(t, 2, count(t, pool))
	rt.Take("")

	require.NoError(t, pg.WithTx(ctx, pool, func(pgx.Tx) error { return nil }))
	require.Empty(t, rt.Take(""), "a transaction that sends nothing costs nothing")

	require.NoError(t, pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := pg.AtCommit(tx).Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 3)
		return err
	}))
	require.Equal(t, []string{"[BEGIN | INSERT INTO t (id) VALUES ($1) | COMMIT]"}, rt.Take(""), "one round trip")
	require.Equal(t, 3, count(t, pool))
}

func TestWithTxRollsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := tracedPool(t)
	boom := errors.New("boom")

	// fn fails after a pipelined first statement.
	err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 1); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.Zero(t, count(t, pool))

	// The first statement fails in the pipeline with BEGIN.
	_, err = pool.Exec(ctx, `INSERT INTO t (id) VALUES (1)`)
	require.NoError(t, err)
	err = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 1)
		return err
	})
	require.True(t, apperr.Is(err, apperr.CodeConflict), "%v", err)

	// A statement queued for the commit fails: nothing commits and its error is returned.
	err = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 2); err != nil {
			return err
		}
		_, err := pg.AtCommit(tx).Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 1)
		return err
	})
	require.True(t, apperr.Is(err, apperr.CodeConflict), "%v", err)
	require.Equal(t, 1, count(t, pool), "the transaction's other statement rolled back too")

	// fn swallowed an error: the server aborted the transaction and the commit says so.
	err = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		_, _ = tx.Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 1)
		return nil
	})
	require.ErrorIs(t, err, pgx.ErrTxCommitRollback)

	// A panic rolls back and goes on.
	require.Panics(t, func() {
		_ = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
			_, _ = tx.Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 7)
			panic("boom")
		})
	})
	require.Equal(t, 1, count(t, pool))

	// Every connection went back to the pool idle, ready for the next transaction.
	require.NoError(t, pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 8)
		return err
	}))
	require.Equal(t, 2, count(t, pool))
}

func TestWithTxStatements(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := tracedPool(t)
	require.NoError(t, pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		// Rows of the first, pipelined statement.
		rows, err := tx.Query(ctx, `SELECT g FROM generate_series(1, $1::int) g`, 3)
		require.NoError(t, err)
		got, err := pgx.CollectRows(rows, pgx.RowTo[int])
		require.NoError(t, err)
		require.Equal(t, []int{1, 2, 3}, got)

		// No arguments: the simple protocol, several statements in one string.
		_, err = tx.Exec(ctx, `INSERT INTO t (id) VALUES (1); INSERT INTO t (id) VALUES (2)`)
		require.NoError(t, err)
		// Named arguments, a query mode, no rows.
		_, err = tx.Exec(ctx, `INSERT INTO t (id, v) VALUES (@id, @v)`, pgx.NamedArgs{"id": 3, "v": "named"})
		require.NoError(t, err)
		var v string
		require.ErrorIs(t, tx.QueryRow(ctx, `SELECT v FROM t WHERE id = $1`, 99).Scan(&v), pgx.ErrNoRows)
		require.NoError(t, tx.QueryRow(ctx, `SELECT v FROM t WHERE id = $1`, pgx.QueryExecModeSimpleProtocol, 3).Scan(&v))
		require.Equal(t, "named", v)

		// A batch.
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO t (id) VALUES ($1)`, 4)
		b.Queue(`SELECT count(*) FROM t`)
		br := tx.SendBatch(ctx, b)
		_, err = br.Exec()
		require.NoError(t, err)
		var n int
		require.NoError(t, br.QueryRow().Scan(&n))
		require.Equal(t, 4, n)
		require.NoError(t, br.Close())

		// COPY.
		copied, err := tx.CopyFrom(ctx, pgx.Identifier{"t"}, []string{"id"}, pgx.CopyFromRows([][]any{{5}, {6}}))
		require.NoError(t, err)
		require.EqualValues(t, 2, copied)

		// Savepoints: a nested transaction rolls back alone, another commits.
		sp, err := tx.Begin(ctx)
		require.NoError(t, err)
		_, err = sp.Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 1) // a duplicate
		require.Error(t, err)
		require.NoError(t, sp.Rollback(ctx))
		require.ErrorIs(t, sp.Rollback(ctx), pgx.ErrTxClosed)
		sp, err = tx.Begin(ctx)
		require.NoError(t, err)
		inner, err := sp.Begin(ctx)
		require.NoError(t, err)
		_, err = inner.Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 7)
		require.NoError(t, err)
		require.NoError(t, inner.Commit(ctx))
		require.NoError(t, sp.Commit(ctx))
		sp, err = tx.Begin(ctx)
		require.NoError(t, err)
		_, err = pg.AtCommit(sp).Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 8)
		require.NoError(t, err, "on a savepoint, at once")
		require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM t`).Scan(&n))
		require.Equal(t, 8, n)
		return sp.Commit(ctx)
	}))
	require.Equal(t, 8, count(t, pool))
}

// TestWithTxClosed: a transaction used after WithTx returned refuses, as pgx's does.
func TestWithTxClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := tracedPool(t)
	var kept pgx.Tx
	require.NoError(t, pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		kept = tx
		_, err := tx.Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 1)
		return err
	}))
	_, err := kept.Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 2)
	require.ErrorIs(t, err, pgx.ErrTxClosed)
	_, err = pg.AtCommit(kept).Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 2)
	require.ErrorIs(t, err, pgx.ErrTxClosed)
	require.ErrorIs(t, kept.Commit(ctx), pgx.ErrTxClosed)
	require.ErrorIs(t, kept.Rollback(ctx), pgx.ErrTxClosed)
	_, err = kept.Query(ctx, `SELECT 1`)
	require.ErrorIs(t, err, pgx.ErrTxClosed)
	require.Equal(t, 1, count(t, pool))
}

// TestAtCommitOutsideWithTx: on any other transaction the statement runs at once.
func TestAtCommitOutsideWithTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _ := tracedPool(t)
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	tag, err := pg.AtCommit(tx).Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 1)
	require.NoError(t, err)
	require.Equal(t, pgconn.NewCommandTag("INSERT 0 1"), tag)
	require.NoError(t, tx.Rollback(ctx))
	require.Zero(t, count(t, pool))
}

// TestSendQueued: queued statements can be sent before the commit, and a savepoint sends
// them first so that rolling it back cannot undo them.
func TestSendQueued(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, rt := tracedPool(t)
	require.NoError(t, pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := pg.AtCommit(tx).Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 1)
		require.NoError(t, err)
		require.NoError(t, pg.SendQueued(ctx, tx))
		require.NoError(t, pg.SendQueued(ctx, tx), "nothing left to send")
		var n int
		require.NoError(t, tx.QueryRow(ctx, `SELECT count(*) FROM t WHERE id > $1`, 0).Scan(&n))
		require.Equal(t, 1, n, "the queued insert was sent")
		_, err = pg.AtCommit(tx).Exec(ctx, `INSERT INTO t (id) VALUES ($1)`, 2)
		require.NoError(t, err)
		sp, err := tx.Begin(ctx)
		require.NoError(t, err)
		require.NoError(t, sp.Rollback(ctx))
		return nil
	}))
	require.Equal(t, []string{
		"[BEGIN | INSERT INTO t (id) VALUES ($1)]",
		"SELECT count(*) FROM t WHERE id > $1",
		"[INSERT INTO t (id) VALUES ($1)]",
		"SAVEPOINT sp_1",
		"ROLLBACK TO SAVEPOINT sp_1",
		"[COMMIT]",
	}, rt.Take(""))
	require.Equal(t, 2, count(t, pool), "the savepoint's rollback kept the insert queued before it")
}
