package pg_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
)

// TestTryAdvisoryLock takes a lock, sees a second taker refused (from the pool and from
// another session), and takes it again once released, on a connection the pool got back.
func TestTryAdvisoryLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	key := pg.AdvisoryKey("openwatch:test:" + t.Name())
	require.Equal(t, key, pg.AdvisoryKey("openwatch:test:"+t.Name()))
	require.NotEqual(t, key, pg.AdvisoryKey("openwatch:test:other"))

	release, ok, err := pg.TryAdvisoryLock(ctx, pool, key)
	require.NoError(t, err)
	require.True(t, ok)

	again, ok, err := pg.TryAdvisoryLock(ctx, pool, key)
	require.NoError(t, err)
	require.False(t, ok, "the lock is held")
	require.Nil(t, again)

	other, ok, err := pg.TryAdvisoryLock(ctx, pool, pg.AdvisoryKey("openwatch:test:other"))
	require.NoError(t, err)
	require.True(t, ok, "another key is free")
	other()

	release()
	var held int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks
		WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&held))
	require.Zero(t, held, "release unlocks before the connection goes back to the pool")

	release, ok, err = pg.TryAdvisoryLock(ctx, pool, key)
	require.NoError(t, err)
	require.True(t, ok, "free again after release")
	release()
}
