package audit_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/pg"
)

func TestVerifyIntactChain(t *testing.T) {
	t.Parallel()
	b := setup(t)

	res := b.verify(t)
	require.True(t, res.OK, "the empty chain verifies: %s", res.Reason)
	require.Zero(t, res.Checked)
	require.Nil(t, res.FirstBrokenSeq)

	b.appendN(t, 10)
	res = b.verify(t)
	require.True(t, res.OK, res.Reason)
	require.EqualValues(t, 10, res.Checked)
	require.Nil(t, res.FirstBrokenSeq)
	require.Empty(t, res.Reason)

	// Rewriting a value with the same meaning is not tampering: jsonb re-serialises detail.
	b.tamper(t, `UPDATE audit_events SET detail = (detail::text)::jsonb`)
	require.True(t, b.verify(t).OK)
}

// TestVerifyFindsUpdateOfAnyColumn changes one column of row 5 of 10 at a time.
func TestVerifyFindsUpdateOfAnyColumn(t *testing.T) {
	t.Parallel()
	edits := map[string]string{
		"id":             `id = gen_random_uuid()`,
		"occurred_at":    `occurred_at = occurred_at + interval '1 microsecond'`,
		"recorded_at":    `recorded_at = recorded_at - interval '1 second'`,
		"correlation_id": `correlation_id = correlation_id || 'x'`,
		"action":         `action = 'user.deleted'`,
		"severity":       `severity = 'critical'`,
		"actor_type":     `actor_type = 'system'`,
		"actor_id":       `actor_id = NULL`,
		"actor_id other": `actor_id = 'mallory'`,
		"resource_type":  `resource_type = 'host'`,
		"resource_id":    `resource_id = NULL`,
		"client_addr":    `client_addr = '203.0.113.66'`,
		"detail value":   `detail = jsonb_set(detail, '{username}', '"eve"')`,
		"detail number":  `detail = jsonb_set(detail, '{n}', '1501')`,
		"detail key":     `detail = detail || '{"extra": true}'`,
		"redactions":     `redactions = array_append(redactions, 'detail.username')`,
		"prev_mac":       `prev_mac = set_byte(prev_mac, 0, get_byte(prev_mac, 0) # 1)`,
		"mac":            `mac = set_byte(mac, 31, get_byte(mac, 31) # 1)`,
	}
	for name, set := range edits {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.appendN(t, 10)
			b.tamper(t, `UPDATE audit_events SET `+set+` WHERE seq = 5`)
			requireBroken(t, b.verify(t), 5, 4)
		})
	}

	t.Run("seq", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.appendN(t, 10)
		b.tamper(t, `UPDATE audit_events SET seq = 1000 WHERE seq = 5`)
		requireBroken(t, b.verify(t), 5, 4)
	})
	t.Run("swap two rows", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.appendN(t, 10)
		b.tamper(t, `UPDATE audit_events SET seq = 1005 WHERE seq = 5`)
		b.tamper(t, `UPDATE audit_events SET seq = 5 WHERE seq = 6`)
		b.tamper(t, `UPDATE audit_events SET seq = 6 WHERE seq = 1005`)
		requireBroken(t, b.verify(t), 5, 4)
	})
}

func TestVerifyFindsDeletedMiddleRow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.appendN(t, 10)
	b.tamper(t, `DELETE FROM audit_events WHERE seq = 5`)
	res := b.verify(t)
	requireBroken(t, res, 5, 4)
	require.Contains(t, res.Reason, "missing")
}

func TestVerifyFindsDeletedMiddleRowRenumbered(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.appendN(t, 10)
	// Close the gap so seq runs on: the link from row 6 (now 5) to row 4 is broken.
	b.tamper(t, `DELETE FROM audit_events WHERE seq = 5`)
	b.tamper(t, `UPDATE audit_events SET seq = seq - 1 WHERE seq > 5`)
	requireBroken(t, b.verify(t), 5, 4)
}

func TestVerifyFindsDeletedTail(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.appendN(t, 10)
	b.tamper(t, `DELETE FROM audit_events WHERE seq >= 8`)
	res := b.verify(t)
	requireBroken(t, res, 8, 7)
	require.Contains(t, res.Reason, "checkpoint is at seq 10")
}

func TestVerifyFindsDeletedTailWithHeadMovedBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.appendN(t, 10)
	// Without the key the checkpoint cannot be recomputed; the old one does not fit.
	b.tamper(t, `DELETE FROM audit_events WHERE seq >= 8`)
	b.tamper(t, `UPDATE audit_head SET seq = 7, mac = (SELECT mac FROM audit_events WHERE seq = 7)`)
	requireBroken(t, b.verify(t), 8, 7)
}

func TestVerifyFindsForgedCheckpoint(t *testing.T) {
	t.Parallel()
	for name, set := range map[string]string{
		"flipped": `checkpoint_mac = set_byte(checkpoint_mac, 0, get_byte(checkpoint_mac, 0) # 1)`,
		"removed": `checkpoint_mac = NULL`,
		"other":   `checkpoint_mac = sha256('checkpoint')`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.appendN(t, 10)
			b.tamper(t, `UPDATE audit_head SET `+set)
			res := b.verify(t)
			requireBroken(t, res, 11, 10)
			require.Contains(t, res.Reason, "checkpoint")
		})
	}
}

func TestVerifyFindsHeadRolledBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.appendN(t, 3)
	var seq int64
	var mac, checkpoint []byte
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT seq, mac, checkpoint_mac FROM audit_head`).Scan(&seq, &mac, &checkpoint))
	b.appendN(t, 4)

	// A saved head put back: its checkpoint authenticates, but rows follow it.
	b.tamper(t, `UPDATE audit_head SET seq = $1, mac = $2, checkpoint_mac = $3`, seq, mac, checkpoint)
	requireBroken(t, b.verify(t), 4, 7)
}

func TestVerifyFindsForgedRow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.appendN(t, 3)
	b.tamper(t, `INSERT INTO audit_events (id, seq, occurred_at, action, severity, actor_type, prev_mac, mac)
		SELECT gen_random_uuid(), 4, now(), 'user.created', 'notice', 'system', mac, sha256('forged') FROM audit_head`)
	b.tamper(t, `UPDATE audit_head SET seq = 4, mac = sha256('forged')`)
	requireBroken(t, b.verify(t), 4, 3)
}

func TestVerifyWalksManyBatches(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 1234
	require.NoError(t, pg.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
		for range n {
			if err := b.w.Append(b.ctx, tx, event(audit.ActionLoginSucceeded)); err != nil {
				return err
			}
		}
		return nil
	}))
	res := b.verify(t)
	require.True(t, res.OK, res.Reason)
	require.EqualValues(t, n, res.Checked)

	b.tamper(t, `UPDATE audit_events SET client_addr = '198.51.100.1' WHERE seq = 777`)
	requireBroken(t, b.verify(t), 777, 776)
}

func TestVerifyNeedsTheKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.appendN(t, 2)
	other := audit.NewWriter(b.pool, make([]byte, audit.KeySize), nil)
	res, err := other.Verify(b.ctx)
	require.NoError(t, err)
	requireBroken(t, res, 1, 0)
}
