package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/pg"
)

func TestAppendCommitsWithTheChange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	occurred := time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.FixedZone("CET", 3600))
	e := event(audit.ActionUserCreated)
	e.OccurredAt = occurred
	require.NoError(t, pg.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
		return b.w.Append(b.ctx, tx, e)
	}))

	page, err := b.w.List(b.ctx, audit.Filter{}, cursor.First(b.w.Cursors(), 200))
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	got := page.Items[0]
	require.EqualValues(t, 1, got.Seq)
	require.Equal(t, audit.ActionUserCreated, got.Action)
	require.Equal(t, audit.SeverityNotice, got.Severity)
	require.Equal(t, audit.ActorUser, got.ActorType)
	require.Equal(t, e.ActorID, *got.ActorID)
	require.Equal(t, "user", *got.ResourceType)
	require.Equal(t, e.ResourceID, *got.ResourceID)
	require.Equal(t, e.CorrelationID, got.CorrelationID)
	require.Equal(t, e.ClientAddr, got.ClientAddr)
	require.True(t, occurred.Truncate(time.Microsecond).Equal(got.OccurredAt), "stored to the microsecond: %v", got.OccurredAt)
	require.WithinDuration(t, time.Now(), got.RecordedAt, time.Minute)
	require.Equal(t, map[string]any{"username": "bob", "n": json.Number("1500")}, got.Detail)
	require.Empty(t, got.Redactions)
	require.NotNil(t, got.Redactions)
}

func TestAppendRollsBackWithTheChange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.appendN(t, 1)
	boom := errors.New("the change failed")
	err := pg.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
		if err := b.w.Append(b.ctx, tx, event(audit.ActionUserDeleted)); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)

	page, err := b.w.List(b.ctx, audit.Filter{}, cursor.First(b.w.Cursors(), 200))
	require.NoError(t, err)
	require.Len(t, page.Items, 1, "the event went with the change")
	b.appendN(t, 1)
	res := b.verify(t)
	require.True(t, res.OK, res.Reason)
	require.EqualValues(t, 2, res.Checked, "no gap where the rolled-back event was")
}

func TestAppendRefusesBadEvents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	bad := map[string]audit.Event{
		"unregistered action": {Action: "user.teleported", ActorType: audit.ActorSystem},
		"no action":           {ActorType: audit.ActorSystem},
		"bad actor type":      {Action: audit.ActionUserCreated, ActorType: "robot"},
		"no actor type":       {Action: audit.ActionUserCreated},
		"detail not JSON":     {Action: audit.ActionUserCreated, ActorType: audit.ActorSystem, Detail: map[string]any{"f": func() {}}},
	}
	for name, e := range bad {
		err := b.w.AppendAlone(b.ctx, e)
		require.Error(t, err, name)
	}
	err := b.w.AppendAlone(b.ctx, audit.Event{Action: "user.teleported", ActorType: audit.ActorSystem})
	require.ErrorIs(t, err, audit.ErrUnknownAction)

	page, err := b.w.List(b.ctx, audit.Filter{}, cursor.First(b.w.Cursors(), 200))
	require.NoError(t, err)
	require.Empty(t, page.Items)
}

func TestAppendAloneSurvivesCancelledContext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithCancel(b.ctx)
	cancel()
	e := event(audit.ActionAuthzDenied)
	e.ActorType, e.ActorID = audit.ActorAnonymous, ""
	require.NoError(t, b.w.AppendAlone(ctx, e))

	page, err := b.w.List(b.ctx, audit.Filter{}, cursor.First(b.w.Cursors(), 200))
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	require.Equal(t, audit.SeverityWarning, page.Items[0].Severity)
	require.Nil(t, page.Items[0].ActorID, "an empty actor id is stored as NULL")
}

func TestAppendDefaultsOccurredAtToTheClock(t *testing.T) {
	t.Parallel()
	b := setup(t)
	at := time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)
	w := audit.NewWriter(b.pool, b.key, func() time.Time { return at })
	require.NoError(t, w.AppendAlone(b.ctx, event(audit.ActionLogout)))
	page, err := w.List(b.ctx, audit.Filter{}, cursor.First(w.Cursors(), 200))
	require.NoError(t, err)
	require.True(t, at.Equal(page.Items[0].OccurredAt))
}

// TestDetailSurvivesPostgres stores detail that jsonb spells differently from Go (number
// forms, escapes, key order, characters it cannot hold) and checks the chain still verifies.
func TestDetailSurvivesPostgres(t *testing.T) {
	t.Parallel()
	b := setup(t)
	type item struct {
		Name  string `json:"name"`
		Token string `json:"token"`
	}
	detail := map[string]any{
		"zeta":         1,
		"alpha":        "<b>&\u2028</b> ünïcödé 🎉",
		"big":          int64(1) << 62,
		"float":        1e21,
		"tiny":         1e-7,
		"negzero":      -0.0,
		"decimal":      json.Number("1500.00"),
		"raw":          json.RawMessage(`{"b":1.50,"a":[1e2,0.0]}`),
		"nul":          "a\x00b",
		"bad utf8":     "\xff\xfe",
		"nested":       map[string]any{"deep": []any{nil, true, false, []any{}, map[string]any{}}},
		"items":        []item{{Name: "ci", Token: "ow_secret"}},
		"new_password": "hunter2",
		"a.b":          map[string]any{"Cookie": "sid=1"},
	}
	require.NoError(t, b.w.AppendAlone(b.ctx, audit.Event{Action: audit.ActionTokenCreated, ActorType: audit.ActorSystem, Detail: detail}))

	res := b.verify(t)
	require.True(t, res.OK, res.Reason)

	page, err := b.w.List(b.ctx, audit.Filter{}, cursor.First(b.w.Cursors(), 200))
	require.NoError(t, err)
	got := page.Items[0]
	require.Equal(t, []string{`detail["a.b"].Cookie`, "detail.items[0].token", "detail.new_password"}, got.Redactions)
	require.Equal(t, audit.Redacted, got.Detail["new_password"])
	require.Equal(t, []any{map[string]any{"name": "ci", "token": audit.Redacted}}, got.Detail["items"])
	require.Equal(t, "a\uFFFDb", got.Detail["nul"])
	require.Equal(t, "\uFFFD\uFFFD", got.Detail["bad utf8"])
	require.Equal(t, "<b>&\u2028</b> ünïcödé 🎉", got.Detail["alpha"])
	require.Equal(t, json.Number("4611686018427387904"), got.Detail["big"], "large integers keep every digit")
	raw, err := json.Marshal(got.Detail)
	require.NoError(t, err)
	require.NotContains(t, string(raw), "hunter2")
	require.NotContains(t, string(raw), "ow_secret")
	require.NotContains(t, string(raw), "sid=1")
}

func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const writers, each = 8, 25
	errs := make(chan error, writers*each)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for range each {
				errs <- b.w.AppendAlone(b.ctx, event(audit.ActionLoginSucceeded))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	res := b.verify(t)
	require.True(t, res.OK, res.Reason)
	require.EqualValues(t, writers*each, res.Checked)

	var minSeq, maxSeq, n int64
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT min(seq), max(seq), count(*) FROM audit_events`).Scan(&minSeq, &maxSeq, &n))
	require.Equal(t, []int64{1, writers * each, writers * each}, []int64{minSeq, maxSeq, n})
	var recordedInOrder bool
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT bool_and(recorded_at >= prev) FROM (
		SELECT recorded_at, lag(recorded_at, 1, '-infinity') OVER (ORDER BY seq) AS prev FROM audit_events) x`).Scan(&recordedInOrder))
	require.True(t, recordedInOrder, "recorded_at follows seq")
}

func TestTrailIsAppendOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.appendN(t, 2)
	for _, sql := range []string{
		`UPDATE audit_events SET client_addr = 'x'`,
		`DELETE FROM audit_events WHERE seq = 2`,
		`TRUNCATE audit_events`,
		`DELETE FROM audit_head`,
	} {
		_, err := b.pool.Exec(b.ctx, sql)
		require.Error(t, err, sql)
		require.Contains(t, err.Error(), "append-only", sql)
	}
	require.True(t, b.verify(t).OK)
}

// TestAppendedRaises: the append's check raises (so an append sent with COMMIT stops it)
// unless exactly one head row moved.
func TestAppendedRaises(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.pool.Exec(b.ctx, `SELECT audit_appended(1)`)
	require.NoError(t, err)
	for _, moved := range []int{0, 2} {
		_, err = b.pool.Exec(b.ctx, `SELECT audit_appended($1)`, moved)
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr)
		require.Equal(t, "OW001", pgErr.Code)
	}
}

// TestAppendsInOneTransaction: events appended one after another in a transaction chain
// one after another (the earlier, queued for the commit, is sent before the next locks
// the head).
func TestAppendsInOneTransaction(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, pg.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
		for range 3 {
			if err := b.w.Append(b.ctx, tx, event(audit.ActionUserCreated)); err != nil {
				return err
			}
		}
		return nil
	}))
	res, err := b.w.Verify(b.ctx)
	require.NoError(t, err)
	require.True(t, res.OK, "%+v", res)
	require.EqualValues(t, 3, res.Checked)
}

// TestHeadIsReadByItsKey: every append leaves a dead version of the head row, and a
// transaction holding the horizon back spreads them over pages the table keeps. Appending
// (and verifying) must still find the head through its key, never by scanning the table.
func TestHeadIsReadByItsKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	// Two thousand versions of the head in a transaction that rolls back: the table keeps
	// their pages.
	tx, err := b.pool.Begin(b.ctx)
	require.NoError(t, err)
	_, err = tx.Exec(b.ctx, `DO $$ BEGIN FOR i IN 1..2000 LOOP UPDATE audit_head SET seq = seq; END LOOP; END $$`)
	require.NoError(t, err)
	require.NoError(t, tx.Rollback(b.ctx))
	var pages int64
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT pg_relation_size('audit_head') / 8192`).Scan(&pages))
	require.Greater(t, pages, int64(10), "the head table did not grow: the test proves nothing")

	// The backend's counts of scans not yet reported, so compared before and after.
	scans := func(tx pgx.Tx) (seq, idx int64) {
		t.Helper()
		require.NoError(t, tx.QueryRow(b.ctx, `SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables
			WHERE relname = 'audit_head'`).Scan(&seq, &idx))
		return seq, idx
	}
	require.NoError(t, pg.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
		seq0, idx0 := scans(tx)
		for range 2 {
			if err := b.w.Append(b.ctx, tx, event(audit.ActionUserUpdated)); err != nil {
				return err
			}
		}
		seq, idx := scans(tx)
		require.Equal(t, seq0, seq, "an append scanned the whole head table")
		require.Greater(t, idx, idx0)
		return nil
	}))
	require.NoError(t, pg.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
		seq0, _ := scans(tx)
		_, err := dbq.New(tx).AuditHeadGet(b.ctx)
		require.NoError(t, err)
		seq, _ := scans(tx)
		require.Equal(t, seq0, seq, "reading the head scanned the whole table")
		return nil
	}))
}
