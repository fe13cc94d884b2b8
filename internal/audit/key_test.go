package audit_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
	"github.com/openwatch/openwatch/internal/seal"
)

func TestLoadOrCreateKeyIsStable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.Len(t, b.key, audit.KeySize)

	again, err := audit.LoadOrCreateKey(b.ctx, b.pool, b.keyring)
	require.NoError(t, err)
	require.Equal(t, b.key, again)

	var n int
	var sealed []byte
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT count(*), (array_agg(sealed_key))[1] FROM audit_keys`).Scan(&n, &sealed))
	require.Equal(t, 1, n)
	require.NotContains(t, string(sealed), string(b.key), "stored sealed")
	require.Contains(t, string(sealed), "ow1:"+b.keyring.ActiveKeyID()+":")
}

func TestLoadOrCreateKeyConcurrentStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	keyring, err := seal.LoadOrCreate(filepath.Join(t.TempDir(), "seal.json"))
	require.NoError(t, err)

	const n = 6
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = audit.LoadOrCreateKey(ctx, pool, keyring) })
	}
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, keys[0], keys[i])
	}
	var rows int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM audit_keys`).Scan(&rows))
	require.Equal(t, 1, rows)

	res, err := audit.NewWriter(pool, keys[0], nil).Verify(ctx)
	require.NoError(t, err)
	require.True(t, res.OK, "the empty chain is signed: %s", res.Reason)
}

func TestLoadOrCreateKeyWithAnotherKeyFile(t *testing.T) {
	t.Parallel()
	b := setup(t)
	other, err := seal.LoadOrCreate(filepath.Join(t.TempDir(), "other.json"))
	require.NoError(t, err)
	_, err = audit.LoadOrCreateKey(b.ctx, b.pool, other)
	require.ErrorIs(t, err, seal.ErrUnknownKey)
	require.Contains(t, err.Error(), "key file")
}

func TestSealedKeyIsBoundToItsRow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// A sealed key copied into another (older, so preferred) row does not open there.
	_, err := b.pool.Exec(b.ctx, `INSERT INTO audit_keys (id, sealed_key, created_at)
		SELECT $1, sealed_key, created_at - interval '1 day' FROM audit_keys`, uuid.New())
	require.NoError(t, err)
	_, err = audit.LoadOrCreateKey(b.ctx, b.pool, b.keyring)
	require.ErrorIs(t, err, seal.ErrNotAuthentic)
}

func TestNewWriterRefusesShortKey(t *testing.T) {
	t.Parallel()
	require.Panics(t, func() { audit.NewWriter(nil, []byte("short"), nil) })
}
