package scan_test

import (
	"crypto/sha256"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/scan"
)

// TestRetention applies retention (the defaults: scans 90 days, evidence 365) to a host's
// history, in batches of two rows: old ended scans no current result names are deleted,
// and old evidence nothing kept uses; current results' scans and evidence, recent ones,
// scans not ended and every transition stay. Each batch that deleted something is audited
// as the system's doing; a second run finds nothing. Evidence a kept result pointed at
// answers a clear 404.
func TestRetention(t *testing.T) {
	t.Parallel()
	f := newSchedFixture(t)
	now := time.Now().UTC().Truncate(time.Second)
	daysAgo := func(d int) time.Time { return now.AddDate(0, 0, -d) }
	host := f.schedHost("kept", 1, "reachable", daysAgo(500))
	other := f.schedHost("other", 2, "reachable", daysAgo(500))
	rules := f.env.App.Rules.Rules()
	r1, r2, r3, r4, r5 := rules[0].ID, rules[1].ID, rules[2].ID, rules[3].ID, rules[4].ID

	evidence := func(name string, created time.Time) []byte {
		h := sha256.Sum256([]byte(name))
		f.exec(`INSERT INTO evidence (hash, body, created_at) VALUES ($1, $2, $3)`, h[:], `{"status": "fail", "reason": "`+name+`"}`, created)
		return h[:]
	}
	scanAt := func(status string, created time.Time) uuid.UUID {
		return f.pastScan(host, status, created)
	}
	transition := func(scanID uuid.UUID, ruleID, kind string, ev []byte, at time.Time) {
		f.exec(`INSERT INTO rule_transitions (id, host_id, rule_id, scan_id, change_kind, status, severity, evidence_hash, occurred_at)
			VALUES ($1, $2, $3, $4, $5, 'fail', 'medium', $6, $7)`, uuid.New(), host, ruleID, scanID, kind, ev, at)
	}
	state := func(hostID uuid.UUID, ruleID string, scanID uuid.UUID, ev []byte, at time.Time) {
		f.exec(`INSERT INTO rule_states (host_id, rule_id, status, severity, evidence_hash, scan_id, first_seen_at, changed_at)
			VALUES ($1, $2, 'fail', 'medium', $3, $4, $5, $5)
			ON CONFLICT (host_id, rule_id) DO UPDATE SET evidence_hash = EXCLUDED.evidence_hash, scan_id = EXCLUDED.scan_id,
				changed_at = EXCLUDED.changed_at`, hostID, ruleID, ev, scanID, at)
	}

	evOld := evidence("old", daysAgo(450))            // used by a transition long superseded: deleted
	evStateOld := evidence("state-old", daysAgo(400)) // a current result unchanged for 400 days: kept
	ev1 := evidence("one", daysAgo(200))
	evK := evidence("k", daysAgo(190))
	ev2 := evidence("two", daysAgo(400)) // used by a transition within the period: kept
	ev3 := evidence("three", daysAgo(100))
	evOrphan := evidence("orphan", daysAgo(400))   // deleted
	evOrphan2 := evidence("orphan2", daysAgo(366)) // deleted
	evRecent := evidence("recent", daysAgo(10))    // unused but recent: kept

	s0 := scanAt("completed", daysAgo(450)) // its result was replaced: deleted
	transition(s0, r5, "first_seen", evOld, daysAgo(450))
	sA := scanAt("completed", daysAgo(400)) // wrote a current result: kept
	transition(sA, r4, "first_seen", evStateOld, daysAgo(400))
	state(host, r4, sA, evStateOld, daysAgo(400))
	s1 := scanAt("completed", daysAgo(200))
	transition(s1, r1, "first_seen", ev1, daysAgo(200))
	state(host, r1, s1, ev1, daysAgo(200))
	sK := scanAt("completed", daysAgo(190))
	transition(sK, r3, "first_seen", evK, daysAgo(190))
	state(host, r3, sK, evK, daysAgo(190))
	// A current result names this scan although no transition of it does: kept all the same.
	sX := f.pastScan(other, "completed", daysAgo(170))
	state(other, r1, sX, ev1, daysAgo(170))
	s2 := scanAt("completed", daysAgo(150)) // replaced by s3: deleted
	transition(s2, r2, "first_seen", ev2, daysAgo(150))
	s4 := scanAt("failed", daysAgo(120))
	s3 := scanAt("completed", daysAgo(100))
	transition(s3, r2, "evidence_changed", ev3, daysAgo(100))
	transition(s3, r5, "state_changed", ev3, daysAgo(100))
	state(host, r2, s3, ev3, daysAgo(100))
	state(host, r5, s3, ev3, daysAgo(100))
	s5 := scanAt("cancelled", daysAgo(95))
	s8 := scanAt("completed", daysAgo(91))
	s6 := scanAt("completed", daysAgo(10)) // recent
	sQueued := f.pastScan(other, "queued", daysAgo(100))

	transitions := f.count(`SELECT count(*) FROM rule_transitions`)
	svc := scan.NewService(f.env.App.Pool, f.env.App.Audit, f.env.App.Rules, f.env.App.SSH, f.env.App.Jobs,
		scan.Options{Now: func() time.Time { return now }, RetentionBatch: 2})
	res, err := svc.ApplyRetention(f.ctx)
	require.NoError(t, err)
	require.Equal(t, scan.RetentionResult{Scans: 5, Evidence: 3}, res)

	exists := func(table, column string, v any) bool {
		return f.count(`SELECT count(*) FROM `+table+` WHERE `+column+` = $1`, v) == 1
	}
	for _, id := range []uuid.UUID{s0, s2, s4, s5, s8} {
		require.False(t, exists("scans", "id", id), "scan %s", id)
	}
	for _, id := range []uuid.UUID{sA, s1, sK, sX, s3, s6, sQueued} {
		require.True(t, exists("scans", "id", id), "scan %s", id)
	}
	for name, h := range map[string][]byte{"old": evOld, "orphan": evOrphan, "orphan2": evOrphan2} {
		require.False(t, exists("evidence", "hash", h), name)
	}
	for name, h := range map[string][]byte{"state-old": evStateOld, "one": ev1, "k": evK, "two": ev2, "three": ev3, "recent": evRecent} {
		require.True(t, exists("evidence", "hash", h), name)
	}
	require.Equal(t, transitions, f.count(`SELECT count(*) FROM rule_transitions`), "transitions are history")

	// Audited per batch that deleted something: scans in four of six batches, evidence in
	// two of two; always the system.
	require.Equal(t, 6, f.count(`SELECT count(*) FROM audit_events WHERE action = 'system.scan_retention_applied'`))
	require.Zero(t, f.count(`SELECT count(*) FROM audit_events WHERE action = 'system.scan_retention_applied' AND actor_type <> 'system'`))
	require.Equal(t, 5, f.count(`SELECT COALESCE(sum((detail->>'scans')::int), 0) FROM audit_events WHERE action = 'system.scan_retention_applied'`))
	require.Equal(t, 3, f.count(`SELECT COALESCE(sum((detail->>'evidence')::int), 0) FROM audit_events WHERE action = 'system.scan_retention_applied'`))

	again, err := svc.ApplyRetention(f.ctx)
	require.NoError(t, err)
	require.Zero(t, again)
	require.Equal(t, 6, f.count(`SELECT count(*) FROM audit_events WHERE action = 'system.scan_retention_applied'`), "nothing deleted, nothing audited")

	// sK kept its result of r5 as it stood then, whose evidence is gone: a 404 that says
	// so. The current result of r5 still has its evidence; a deleted scan is not found.
	res404 := f.do(f.admin, http.MethodGet, "scans/"+sK.String()+"/rules/"+r5+"/evidence", nil)
	require.Equal(t, http.StatusNotFound, res404.Status, "%s", res404.Body)
	require.Contains(t, res404.Err(t).Error.HumanMessage, "deleted by retention")
	ok := f.do(f.admin, http.MethodGet, "scans/"+s3.String()+"/rules/"+r5+"/evidence", nil)
	require.Equal(t, http.StatusOK, ok.Status, "%s", ok.Body)
	gone := f.do(f.admin, http.MethodGet, "scans/"+s0.String()+"/rules/"+r5+"/evidence", nil)
	require.Equal(t, http.StatusNotFound, gone.Status, "%s", gone.Body)
	require.NotContains(t, gone.Err(t).Error.HumanMessage, "retention")
}

// TestRetentionKeepsEvidenceUsedAgain: evidence a scan stores again moves its created_at
// forward, so retention keeps it even when nothing referenced it when retention looked.
func TestRetentionKeepsEvidenceUsedAgain(t *testing.T) {
	t.Parallel()
	f := newSchedFixture(t)
	now := time.Now().UTC().Truncate(time.Second)
	old := sha256.Sum256([]byte("shared"))
	f.exec(`INSERT INTO evidence (hash, body, created_at) VALUES ($1, '{"status": "pass"}', $2)`, old[:], now.AddDate(-2, 0, 0))
	// A scan's store finds it stored (with new evidence beside it).
	fresh := sha256.Sum256([]byte("fresh"))
	require.NoError(t, dbq.New(f.env.App.Pool).EvidenceInsert(f.ctx, dbq.EvidenceInsertParams{
		Hashes: [][]byte{fresh[:], old[:]}, Bodies: [][]byte{[]byte(`{"status": "fail"}`), []byte(`{"status": "pass"}`)}, CreatedAt: now}))
	require.Equal(t, 2, f.count(`SELECT count(*) FROM evidence WHERE created_at = $1`, now))
	svc := scan.NewService(f.env.App.Pool, f.env.App.Audit, f.env.App.Rules, f.env.App.SSH, f.env.App.Jobs,
		scan.Options{Now: func() time.Time { return now }})
	res, err := svc.ApplyRetention(f.ctx)
	require.NoError(t, err)
	require.Zero(t, res.Evidence)
	require.Equal(t, 2, f.count(`SELECT count(*) FROM evidence`))
}
