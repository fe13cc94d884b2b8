package pg_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
)

// TestTryAdvisoryLock takes a lock, sees a second taker refused, and takes it again once
// released.
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
	require.Zero(t, held, "release drops the lock")

	release, ok, err = pg.TryAdvisoryLock(ctx, pool, key)
	require.NoError(t, err)
	require.True(t, ok, "free again after release")
	release()
}

// TestAdvisoryLocksLeaveThePoolFree: as many lock holders as the pool has connections can
// each still query through the pool (a holder that held a pooled connection would leave
// none for the others, and they would wait on each other for ever).
func TestAdvisoryLocksLeaveThePoolFree(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool := pgtest.NewPool(t)
	n := int(pool.Config().MaxConns)
	var releases []func()
	for i := range n {
		release, ok, err := pg.TryAdvisoryLock(ctx, pool, pg.AdvisoryKey(fmt.Sprintf("openwatch:test:%s:%d", t.Name(), i)))
		require.NoError(t, err)
		require.True(t, ok)
		releases = append(releases, release)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			conn, err := pool.Acquire(ctx)
			if err != nil {
				errs <- err
				return
			}
			defer conn.Release()
			_, err = conn.Exec(ctx, "SELECT pg_sleep(0.05)")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "every holder gets a pooled connection while all locks are held")
	}
	for _, r := range releases {
		r()
	}
}
