package idempotency_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/idempotency"
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
