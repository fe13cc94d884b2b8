package audit_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
	"github.com/openwatch/openwatch/internal/seal"
)

// bundle is what most tests need: a fresh database with the audit key made, and a writer.
type bundle struct {
	ctx     context.Context
	pool    *pgxpool.Pool
	keyring *seal.Keyring
	key     []byte
	w       *audit.Writer
}

func setup(t testing.TB) *bundle {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	keyring, err := seal.LoadOrCreate(filepath.Join(t.TempDir(), "seal.json"))
	require.NoError(t, err)
	key, err := audit.LoadOrCreateKey(ctx, pool, keyring)
	require.NoError(t, err)
	return &bundle{ctx: ctx, pool: pool, keyring: keyring, key: key, w: audit.NewWriter(pool, key, time.Now)}
}

// event returns a valid event for user alice acting on a user resource.
func event(action audit.Action) audit.Event {
	return audit.Event{
		Action:        action,
		ActorType:     audit.ActorUser,
		ActorID:       "0190a3f4-0000-7000-8000-00000000a11c",
		ResourceType:  "user",
		ResourceID:    "0190a3f4-0000-7000-8000-0000000000b0",
		CorrelationID: "01J9Z3T6W5X8Y7Z6A5B4C3D2E1",
		ClientAddr:    "192.0.2.10",
		Detail:        map[string]any{"username": "bob", "n": 1500},
	}
}

// appendN appends n events in one transaction each.
func (b *bundle) appendN(t testing.TB, n int) {
	t.Helper()
	for range n {
		require.NoError(t, pg.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
			return b.w.Append(b.ctx, tx, event(audit.ActionUserUpdated))
		}))
	}
}

// tamper runs sql as someone with write access to the database who gets past the
// append-only triggers: the tables' owner, switching them off for the transaction.
func (b *bundle) tamper(t testing.TB, sql string, args ...any) {
	t.Helper()
	require.NoError(t, pg.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
		for _, stmt := range []string{
			`ALTER TABLE audit_events DISABLE TRIGGER USER`,
			`ALTER TABLE audit_head DISABLE TRIGGER USER`,
		} {
			if _, err := tx.Exec(b.ctx, stmt); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(b.ctx, sql, args...); err != nil {
			return err
		}
		for _, stmt := range []string{
			`ALTER TABLE audit_events ENABLE TRIGGER USER`,
			`ALTER TABLE audit_head ENABLE TRIGGER USER`,
		} {
			if _, err := tx.Exec(b.ctx, stmt); err != nil {
				return err
			}
		}
		return nil
	}))
}

// verify runs Verify and fails the test on an error.
func (b *bundle) verify(t testing.TB) audit.Result {
	t.Helper()
	res, err := b.w.Verify(b.ctx)
	require.NoError(t, err)
	return res
}

// requireBroken asserts that the chain is broken first at seq, after checked good rows.
func requireBroken(t testing.TB, res audit.Result, seq, checked int64) {
	t.Helper()
	require.False(t, res.OK, "chain should be broken")
	require.NotNil(t, res.FirstBrokenSeq, res.Reason)
	require.Equal(t, seq, *res.FirstBrokenSeq, res.Reason)
	require.Equal(t, checked, res.Checked, res.Reason)
	require.NotEmpty(t, res.Reason)
}
