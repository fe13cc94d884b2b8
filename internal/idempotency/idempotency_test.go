package idempotency_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/idempotency"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
)

func TestReserveCompleteReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := idempotency.NewStore(pgtest.NewPool(t), time.Now)
	hash := []byte("request-1")

	out, _, err := s.Reserve(ctx, "user:a", "k1", hash, "c1")
	require.NoError(t, err)
	require.Equal(t, idempotency.Reserved, out)

	out, _, err = s.Reserve(ctx, "user:a", "k1", hash, "c2")
	require.NoError(t, err)
	require.Equal(t, idempotency.InProgress, out, "a duplicate while the first runs")

	out, _, err = s.Reserve(ctx, "user:b", "k1", hash, "c3")
	require.NoError(t, err)
	require.Equal(t, idempotency.Reserved, out, "keys are per principal")

	require.NoError(t, s.Complete(ctx, "user:a", "k1", idempotency.Stored{Status: 201, ContentType: "application/json", Body: []byte(`{"id":1}`)}))
	out, st, err := s.Reserve(ctx, "user:a", "k1", hash, "c4")
	require.NoError(t, err)
	require.Equal(t, idempotency.Replay, out)
	require.Equal(t, 201, st.Status)
	require.Equal(t, `{"id":1}`, string(st.Body))

	out, _, err = s.Reserve(ctx, "user:a", "k1", []byte("request-2"), "c5")
	require.NoError(t, err)
	require.Equal(t, idempotency.Mismatch, out)
}

func TestReleaseAllowsRetry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := idempotency.NewStore(pgtest.NewPool(t), time.Now)
	out, _, err := s.Reserve(ctx, "p", "k", []byte("h"), "c")
	require.NoError(t, err)
	require.Equal(t, idempotency.Reserved, out)
	require.NoError(t, s.Release(ctx, "p", "k"))
	out, _, err = s.Reserve(ctx, "p", "k", []byte("h"), "c")
	require.NoError(t, err)
	require.Equal(t, idempotency.Reserved, out)
}

func TestExpiredKeysAreTakenOverAndSwept(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	past := time.Now().Add(-25 * time.Hour)
	old := idempotency.NewStore(pool, func() time.Time { return past })
	_, _, err := old.Reserve(ctx, "p", "old", []byte("h1"), "c")
	require.NoError(t, err)
	_, _, err = old.Reserve(ctx, "p", "stale", []byte("h1"), "c")
	require.NoError(t, err)

	s := idempotency.NewStore(pool, time.Now)
	out, _, err := s.Reserve(ctx, "p", "old", []byte("h2"), "c")
	require.NoError(t, err)
	require.Equal(t, idempotency.Reserved, out, "an expired entry does not block its key")

	n, err := s.Sweep(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "only the expired entry is swept")
}

// TestWithin: the handler's changes, the reservation and the stored response commit once;
// when the key is not free, whatever the handler did (it runs before that is known) rolls
// back and the outcome says why.
func TestWithin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	_, err := pool.Exec(ctx, `CREATE TABLE w (id int PRIMARY KEY)`)
	require.NoError(t, err)
	s := idempotency.NewStore(pool, time.Now)
	rows := func() int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM w`).Scan(&n))
		return n
	}
	ran := 0
	write := func(id int, keep bool) func(context.Context) (idempotency.Stored, bool) {
		return func(ctx context.Context) (idempotency.Stored, bool) {
			ran++
			err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO w (id) VALUES ($1) ON CONFLICT DO NOTHING`, id)
				return err
			})
			require.NoError(t, err)
			return idempotency.Stored{Status: 201, ContentType: "application/json", Body: []byte(`{"id":` + strconv.Itoa(id) + `}`)}, keep
		}
	}

	out, st, err := s.Within(ctx, "p", "k1", []byte("h1"), "c", write(1, true))
	require.NoError(t, err)
	require.Equal(t, idempotency.Reserved, out)
	require.Nil(t, st)
	require.Equal(t, 1, rows())

	// The same request again: the handler runs, its write rolls back, the answer is the first.
	_, err = pool.Exec(ctx, `DELETE FROM w`)
	require.NoError(t, err)
	out, st, err = s.Within(ctx, "p", "k1", []byte("h1"), "c", write(2, true))
	require.NoError(t, err)
	require.Equal(t, idempotency.Replay, out)
	require.Equal(t, `{"id":1}`, string(st.Body))
	require.Equal(t, 0, rows())
	require.Equal(t, 2, ran)

	out, _, err = s.Within(ctx, "p", "k1", []byte("other"), "c", write(3, true))
	require.NoError(t, err)
	require.Equal(t, idempotency.Mismatch, out)
	require.Equal(t, 0, rows())

	// A handler that keeps nothing leaves the key free.
	out, _, err = s.Within(ctx, "p", "k2", []byte("h2"), "c", write(4, false))
	require.NoError(t, err)
	require.Equal(t, idempotency.Reserved, out)
	require.Equal(t, 0, rows())
	out, _, err = s.Reserve(ctx, "p", "k2", []byte("h2"), "c")
	require.NoError(t, err)
	require.Equal(t, idempotency.Reserved, out, "k2 was free")

	// k2 is now held by a request still running (Reserve without Complete).
	out, _, err = s.Within(ctx, "p", "k2", []byte("h2"), "c", write(5, true))
	require.NoError(t, err)
	require.Equal(t, idempotency.InProgress, out)
	require.Equal(t, 0, rows())

	// A handler that sends nothing still reserves and stores.
	out, _, err = s.Within(ctx, "p", "k3", []byte("h3"), "c", func(context.Context) (idempotency.Stored, bool) {
		return idempotency.Stored{Status: 200, Body: []byte("ok")}, true
	})
	require.NoError(t, err)
	require.Equal(t, idempotency.Reserved, out)
	out, st, err = s.Reserve(ctx, "p", "k3", []byte("h3"), "c")
	require.NoError(t, err)
	require.Equal(t, idempotency.Replay, out)
	require.Equal(t, "ok", string(st.Body))
}

// TestWithinReportsAFailedReservation: when the reservation itself fails, Within returns
// that failure (which fn saw as its first statement's), and nothing is kept.
func TestWithinReportsAFailedReservation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	s := idempotency.NewStore(pool, time.Now)
	var fnErr error
	_, _, err := s.Within(ctx, "p\x00", "k", []byte("h"), "c", func(ctx context.Context) (idempotency.Stored, bool) {
		fnErr = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, `SELECT $1::int`, 1)
			return err
		})
		return idempotency.Stored{Status: 500}, false
	})
	require.Error(t, fnErr)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "not sent")
	require.Contains(t, err.Error(), "0x00", "the database's own reason: a NUL in the principal")
}
