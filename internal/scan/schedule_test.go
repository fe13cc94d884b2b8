package scan_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/scan"
)

// TestBandOf: the band of a host from its results of every rule, at each threshold.
func TestBandOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pass, fail, critical int
		want                 scan.Band
	}{
		{0, 0, 0, scan.BandUnknown},
		{0, 0, 1, scan.BandUnknown}, // counts of nothing checked
		{0, 1, 0, scan.BandCritical},
		{49, 51, 0, scan.BandCritical},
		{99, 1, 1, scan.BandCritical}, // a failing critical rule, however high the score
		{1, 1, 0, scan.BandLow},       // exactly a half
		{79, 21, 0, scan.BandLow},
		{4, 1, 0, scan.BandPartial}, // exactly 80 %
		{94, 6, 0, scan.BandPartial},
		{19, 1, 0, scan.BandCompliant}, // exactly 95 %
		{1, 0, 0, scan.BandCompliant},
	} {
		require.Equal(t, tc.want, scan.BandOf(tc.pass, tc.fail, tc.critical), "%+v", tc)
	}
}

// TestScheduleConfigValidate: the defaults are valid; each bound and the order of the
// intervals is checked, naming the field.
func TestScheduleConfigValidate(t *testing.T) {
	t.Parallel()
	require.NoError(t, scan.DefaultScheduleConfig.Validate())
	for _, tc := range []struct {
		field string
		set   func(c *scan.ScheduleConfig, v int)
		lo    int
		hi    int
	}{
		{"interval_minutes.unknown", func(c *scan.ScheduleConfig, v int) { c.IntervalMinutes.Unknown = v }, 15, 10080},
		{"interval_minutes.critical", func(c *scan.ScheduleConfig, v int) { c.IntervalMinutes.Critical = v }, 15, 10080},
		{"interval_minutes.low", func(c *scan.ScheduleConfig, v int) { c.IntervalMinutes.Low = v }, 15, 10080},
		{"interval_minutes.partial", func(c *scan.ScheduleConfig, v int) { c.IntervalMinutes.Partial = v }, 15, 10080},
		{"interval_minutes.compliant", func(c *scan.ScheduleConfig, v int) { c.IntervalMinutes.Compliant = v }, 15, 10080},
		{"rate_limit_per_minute", func(c *scan.ScheduleConfig, v int) { c.RateLimitPerMinute = v }, 1, 600},
		{"max_concurrent", func(c *scan.ScheduleConfig, v int) { c.MaxConcurrent = v }, 1, 500},
		{"scan_retention_days", func(c *scan.ScheduleConfig, v int) { c.ScanRetentionDays = v }, 7, 3650},
		{"evidence_retention_days", func(c *scan.ScheduleConfig, v int) { c.EvidenceRetentionDays = v }, 7, 3650},
	} {
		// The bounds are checked before the order, so one interval out of bounds is named
		// whatever the others are.
		for _, v := range []int{tc.lo - 1, tc.hi + 1} {
			c := scan.DefaultScheduleConfig
			tc.set(&c, v)
			requireInvalid(t, c.Validate(), tc.field)
		}
		// Each bound is accepted (equal intervals are in order).
		for _, v := range []int{tc.lo, tc.hi} {
			c := scan.DefaultScheduleConfig
			if strings.HasPrefix(tc.field, "interval_minutes.") {
				c.IntervalMinutes = scan.Intervals{Unknown: v, Critical: v, Low: v, Partial: v, Compliant: v}
			}
			tc.set(&c, v)
			require.NoError(t, c.Validate(), "%s = %d", tc.field, v)
		}
	}

	// A worse band is never scanned less often than a better one; equal is fine, and the
	// unknown band is outside the order.
	for _, tc := range []struct {
		iv    scan.Intervals
		field string
	}{
		{scan.Intervals{Unknown: 60, Critical: 240, Low: 239, Partial: 720, Compliant: 1440}, "interval_minutes.low"},
		{scan.Intervals{Unknown: 60, Critical: 240, Low: 480, Partial: 479, Compliant: 1440}, "interval_minutes.partial"},
		{scan.Intervals{Unknown: 60, Critical: 240, Low: 480, Partial: 720, Compliant: 719}, "interval_minutes.compliant"},
		{scan.Intervals{Unknown: 60, Critical: 1440, Low: 15, Partial: 720, Compliant: 1440}, "interval_minutes.low"},
		{scan.Intervals{Unknown: 10080, Critical: 240, Low: 240, Partial: 240, Compliant: 240}, ""},
	} {
		c := scan.DefaultScheduleConfig
		c.IntervalMinutes = tc.iv
		if tc.field == "" {
			require.NoError(t, c.Validate(), "%+v", tc.iv)
			continue
		}
		requireInvalid(t, c.Validate(), tc.field)
	}
}

func requireInvalid(t *testing.T, err error, field string) {
	t.Helper()
	require.Error(t, err, field)
	require.True(t, apperr.Is(err, apperr.CodeValidationFailed), "%v", err)
	require.Equal(t, field, apperr.As(err).Detail["field"], "%v", err)
}

// TestNextScan: a host is due its band's interval after its last scan; a host never
// scanned is due from its creation.
func TestNextScan(t *testing.T) {
	t.Parallel()
	c := scan.DefaultScheduleConfig
	c.IntervalMinutes = scan.Intervals{Unknown: 30, Critical: 60, Low: 120, Partial: 180, Compliant: 240}
	created := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	last := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	require.Equal(t, created, c.NextScan(scan.BandCritical, nil, created))
	require.Equal(t, created, c.NextScan(scan.BandUnknown, nil, created))
	for band, minutes := range map[scan.Band]int{scan.BandUnknown: 30, scan.BandCritical: 60, scan.BandLow: 120,
		scan.BandPartial: 180, scan.BandCompliant: 240} {
		require.Equal(t, last.Add(time.Duration(minutes)*time.Minute), c.NextScan(band, &last, created), band)
	}
}

// schedFixture is an insert-only application (nothing runs the scans it queues) whose
// hosts the tests place by SQL: liveness, maintenance, results and past scans.
type schedFixture struct {
	*fixture
	ctx context.Context
}

func newSchedFixture(t *testing.T) *schedFixture {
	env := apitest.New(t, noWorker)
	return &schedFixture{fixture: &fixture{t: t, env: env, admin: env.Admin()}, ctx: context.Background()}
}

func (f *schedFixture) exec(sql string, args ...any) {
	f.t.Helper()
	_, err := f.env.App.Pool.Exec(f.ctx, sql, args...)
	require.NoError(f.t, err)
}

// schedHost registers a host at a loopback address (nothing dials it) created at
// createdAt, reachable or not by the liveness poller's account ("reachable",
// "unreachable", or "unknown": never probed).
func (f *schedFixture) schedHost(name string, n int, reach string, createdAt time.Time) uuid.UUID {
	f.t.Helper()
	res := f.do(f.admin, http.MethodPost, "hosts", map[string]any{"hostname": name, "ip_address": fmt.Sprintf("127.0.9.%d", n), "port": 22})
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(f.t, &h)
	f.exec(`UPDATE hosts SET created_at = $2 WHERE id = $1`, h.Id, createdAt)
	f.exec(`UPDATE host_liveness SET reachability_status = $2 WHERE host_id = $1`, h.Id, reach)
	return h.Id
}

// results gives a host its rollup of every rule.
func (f *schedFixture) results(id uuid.UUID, pass, fail, critical int) {
	f.t.Helper()
	f.exec(`INSERT INTO host_compliance (host_id, framework, pass_count, fail_count, skipped_count, error_count, critical_failing, updated_at)
		VALUES ($1, 'all', $2, $3, 1, 0, $4, now())`, id, pass, fail, critical)
}

// pastScan records a scan of the host requested at createdAt.
func (f *schedFixture) pastScan(id uuid.UUID, status string, createdAt time.Time) uuid.UUID {
	f.t.Helper()
	scanID := uuid.Must(uuid.NewV7())
	var finished *time.Time
	if status != "queued" && status != "running" {
		end := createdAt.Add(time.Minute)
		finished = &end
	}
	f.exec(`INSERT INTO scans (id, host_id, status, trigger, requested_by, created_at, finished_at) VALUES ($1, $2, $3, 'manual', '', $4, $5)`,
		scanID, id, status, createdAt, finished)
	return scanID
}

func (f *schedFixture) setConfig(c scan.ScheduleConfig) {
	f.t.Helper()
	res := f.do(f.admin, http.MethodPut, "system/scan/config", c)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
}

func queuedHosts(rows []dbq.Scan) []uuid.UUID {
	out := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		out[i] = r.HostID
	}
	return out
}

// TestScheduleTick runs scheduler ticks at a fixed instant over hosts in every situation:
// a tick queues exactly the due, schedulable hosts, most overdue first, capped by the rate
// and by max_concurrent; the next tick queues none of them again; a disabled scheduler
// queues nothing; a manual request racing a tick wins without an error on either side.
func TestScheduleTick(t *testing.T) {
	t.Parallel()
	f := newSchedFixture(t)
	now := time.Now().UTC().Truncate(time.Second)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	day := 24 * time.Hour

	// Due: never scanned (from their creation), and scanned longer ago than their band's
	// interval (default intervals: unknown 60, critical 240, partial 720, compliant 1440).
	neverOld := f.schedHost("never-old", 1, "reachable", ago(10*day))
	neverNew := f.schedHost("never-new", 2, "reachable", ago(2*day))
	compliant := f.schedHost("compliant", 3, "reachable", ago(30*day))
	f.results(compliant, 99, 1, 0)
	f.pastScan(compliant, "completed", ago(26*time.Hour)) // due 2 h ago
	critical := f.schedHost("critical", 4, "reachable", ago(30*day))
	f.results(critical, 90, 10, 1)
	f.pastScan(critical, "completed", ago(8*day))
	f.pastScan(critical, "completed", ago(5*time.Hour)) // the latest: due 1 h ago
	partial := f.schedHost("partial", 5, "reachable", ago(30*day))
	f.results(partial, 90, 10, 0)
	f.pastScan(partial, "completed", ago(12*time.Hour+40*time.Minute)) // due 40 min ago
	failing := f.schedHost("failing", 6, "reachable", ago(30*day))
	f.pastScan(failing, "failed", ago(80*time.Minute)) // no result: unknown, due 20 min ago

	// Not due yet.
	low := f.schedHost("low", 7, "reachable", ago(30*day))
	f.results(low, 70, 30, 0)
	f.pastScan(low, "completed", ago(7*time.Hour)) // due in 1 h
	fresh := f.schedHost("fresh", 8, "reachable", ago(30*day))
	f.results(fresh, 100, 0, 0)
	f.pastScan(fresh, "cancelled", ago(time.Hour))

	// Due but not schedulable.
	unreachable := f.schedHost("unreachable", 9, "unreachable", ago(10*day))
	unprobed := f.schedHost("unprobed", 10, "unknown", ago(10*day))
	ownMaint := f.schedHost("own-maintenance", 11, "reachable", ago(10*day))
	f.exec(`UPDATE hosts SET maintenance_mode = true WHERE id = $1`, ownMaint)
	groupMaint := f.schedHost("group-maintenance", 12, "reachable", ago(10*day))
	group := uuid.New()
	f.exec(`INSERT INTO host_groups (id, name, maintenance_mode) VALUES ($1, 'paused', true)`, group)
	f.exec(`UPDATE hosts SET group_id = $2 WHERE id = $1`, groupMaint, group)
	busy := f.schedHost("busy", 13, "reachable", ago(10*day))
	f.pastScan(busy, "running", ago(3*day))
	deleted := f.schedHost("deleted", 14, "reachable", ago(10*day))
	f.exec(`UPDATE hosts SET deleted_at = now() WHERE id = $1`, deleted)

	svc := scan.NewService(f.env.App.Pool, f.env.App.Audit, f.env.App.Rules, f.env.App.SSH, f.env.App.Jobs,
		scan.Options{Now: func() time.Time { return now }})
	wantOrder := []uuid.UUID{neverOld, neverNew, compliant, critical, partial, failing}

	// The preview's arithmetic agrees with the Go definitions for every host.
	p, err := svc.Preview(f.ctx, 100)
	require.NoError(t, err)
	require.Equal(t, int64(len(wantOrder)), p.DueNow)
	require.Equal(t, int64(4), p.NotSchedulable, "unreachable, never probed, in maintenance (own and group's)")
	require.Equal(t, map[scan.Band]int64{scan.BandUnknown: 4, scan.BandCritical: 1, scan.BandLow: 1, scan.BandPartial: 1,
		scan.BandCompliant: 2}, p.HostsByBand, "never scanned twice, failing, busy; the host with a scan running counts")
	require.Len(t, p.Items, 8, "the schedulable hosts: not the busy one")
	var hostsSeen []uuid.UUID
	for _, it := range p.Items {
		hostsSeen = append(hostsSeen, it.HostID)
		var pass, fail, crit int
		var created time.Time
		require.NoError(t, f.env.App.Pool.QueryRow(f.ctx, `SELECT COALESCE(c.pass_count, 0), COALESCE(c.fail_count, 0),
			COALESCE(c.critical_failing, 0), h.created_at
			FROM hosts h LEFT JOIN host_compliance c ON c.host_id = h.id AND c.framework = 'all' WHERE h.id = $1`,
			it.HostID).Scan(&pass, &fail, &crit, &created))
		require.Equal(t, scan.BandOf(pass, fail, crit), it.Band, it.Hostname)
		requireInstant(t, scan.DefaultScheduleConfig.NextScan(it.Band, it.LastScanAt, created), it.NextScanAt, it.Hostname)
	}
	require.Equal(t, append(slices.Clone(wantOrder), low, fresh), hostsSeen, "soonest first")

	jobsOf := func(rows []dbq.Scan) int {
		ids := make([]uuid.UUID, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
		}
		return f.count(`SELECT count(*) FROM river_job WHERE kind = 'compliance_scan' AND (args->>'scan_id')::uuid = ANY($1)`, ids)
	}
	eventsOf := func(rows []dbq.Scan) int {
		ids := make([]string, len(rows))
		for i, r := range rows {
			ids[i] = r.ID.String()
		}
		return f.count(`SELECT count(*) FROM events WHERE topic = 'scans' AND type = 'scan.queued' AND data->>'scan_id' = ANY($1)`, ids)
	}

	// The rate allows four a minute, max_concurrent five at once.
	cfg := scan.DefaultScheduleConfig
	cfg.RateLimitPerMinute, cfg.MaxConcurrent = 4, 5
	f.setConfig(cfg)
	first, err := svc.ScheduleTick(f.ctx)
	require.NoError(t, err)
	require.Equal(t, wantOrder[:4], queuedHosts(first), "most overdue first, four by the rate")
	for _, r := range first {
		require.Equal(t, "queued", r.Status)
		require.Equal(t, "scheduled", r.Trigger)
		require.Equal(t, "system", r.RequestedBy)
		require.Nil(t, r.Framework, "every rule")
		require.Nil(t, r.RuleIds)
		requireInstant(t, now, r.CreatedAt, "created now")
	}
	require.Equal(t, 4, jobsOf(first), "each with its job")
	require.Equal(t, 4, eventsOf(first), "each announced")

	// Right after: the queued hosts are busy; max_concurrent leaves room for one more
	// (the manual scan of the busy host does not count).
	second, err := svc.ScheduleTick(f.ctx)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{partial}, queuedHosts(second))
	require.Equal(t, 1, jobsOf(second))

	cfg.Enabled, cfg.MaxConcurrent = false, 20
	f.setConfig(cfg)
	none, err := svc.ScheduleTick(f.ctx)
	require.NoError(t, err)
	require.Empty(t, none, "disabled")

	cfg.Enabled = true
	f.setConfig(cfg)
	third, err := svc.ScheduleTick(f.ctx)
	require.NoError(t, err)
	require.Equal(t, []uuid.UUID{failing}, queuedHosts(third))
	none, err = svc.ScheduleTick(f.ctx)
	require.NoError(t, err)
	require.Empty(t, none, "nothing else is due")
	for _, id := range []uuid.UUID{low, fresh, unreachable, unprobed, ownMaint, groupMaint, deleted} {
		require.Zero(t, f.count(`SELECT count(*) FROM scans WHERE host_id = $1 AND trigger = 'scheduled'`, id))
	}
	require.Equal(t, 1, f.count(`SELECT count(*) FROM scans WHERE host_id = $1`, busy), "the busy host keeps its one scan")
	require.Equal(t, 6, f.count(`SELECT count(*) FROM scans WHERE trigger = 'scheduled'`))

	// A manual request commits while a tick is inserting a scan of the same host: the tick
	// waits for it, then leaves the host to it, without an error.
	racer := f.schedHost("racer", 15, "reachable", ago(day))
	tx, err := f.env.App.Pool.Begin(f.ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(f.ctx) }()
	manual := uuid.Must(uuid.NewV7())
	_, err = tx.Exec(f.ctx, `INSERT INTO scans (id, host_id, status, trigger, requested_by, created_at) VALUES ($1, $2, 'queued', 'manual', 'someone', now())`,
		manual, racer)
	require.NoError(t, err)
	type tickResult struct {
		rows []dbq.Scan
		err  error
	}
	done := make(chan tickResult, 1)
	go func() {
		rows, err := svc.ScheduleTick(f.ctx)
		done <- tickResult{rows, err}
	}()
	require.Eventually(t, func() bool {
		return f.count(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO scans%'`) == 1
	}, 30*time.Second, 10*time.Millisecond, "the tick waits for the manual request")
	require.NoError(t, tx.Commit(f.ctx))
	res := <-done
	require.NoError(t, res.err)
	require.Empty(t, res.rows)
	var active uuid.UUID
	require.NoError(t, f.env.App.Pool.QueryRow(f.ctx, `SELECT id FROM scans WHERE host_id = $1 AND status IN ('queued', 'running')`, racer).Scan(&active))
	require.Equal(t, manual, active)
	require.Equal(t, 1, f.count(`SELECT count(*) FROM scans WHERE host_id = $1`, racer))
}

func requireInstant(t *testing.T, want, got time.Time, msg string) {
	t.Helper()
	require.True(t, want.Equal(got), "%s: want %s, got %s", msg, want, got)
}

// TestScanConfigAPI reads and changes the configuration through the API: the viewer may
// read it but not change it; a value out of bounds or intervals out of order are a 400
// naming the field that changes nothing; a change is audited with the values before and
// after.
func TestScanConfigAPI(t *testing.T) {
	t.Parallel()
	f := newSchedFixture(t)
	viewer := f.env.Login("viewer", f.env.CreateUser("viewer", authz.RoleViewer))

	get := func() api.ScanConfigResponse {
		t.Helper()
		res := f.do(viewer, http.MethodGet, "system/scan/config", nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var c api.ScanConfigResponse
		res.Decode(t, &c)
		return c
	}
	c := get()
	require.Equal(t, c.Defaults, c.Config)
	require.Equal(t, api.ScanConfig{Enabled: true,
		IntervalMinutes:    api.ScanIntervals{Unknown: 60, Critical: 240, Low: 480, Partial: 720, Compliant: 1440},
		RateLimitPerMinute: 60, MaxConcurrent: 20, ScanRetentionDays: 90, EvidenceRetentionDays: 365}, c.Defaults)

	want := api.ScanConfig{Enabled: false,
		IntervalMinutes:    api.ScanIntervals{Unknown: 30, Critical: 120, Low: 120, Partial: 600, Compliant: 2880},
		RateLimitPerMinute: 10, MaxConcurrent: 5, ScanRetentionDays: 30, EvidenceRetentionDays: 180}
	res := f.do(viewer, http.MethodPut, "system/scan/config", want)
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)

	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"low under critical", withIntervals(want, map[string]any{"low": 119}), "interval_minutes.low"},
		{"compliant under partial", withIntervals(want, map[string]any{"compliant": 599}), "interval_minutes.compliant"},
		{"interval too short", withIntervals(want, map[string]any{"unknown": 14}), "interval_minutes.unknown"},
		{"interval too long", withIntervals(want, map[string]any{"compliant": 10081}), "interval_minutes.compliant"},
		{"rate zero", withField(want, "rate_limit_per_minute", 0), "rate_limit_per_minute"},
		{"rate too high", withField(want, "rate_limit_per_minute", 601), "rate_limit_per_minute"},
		{"concurrency too high", withField(want, "max_concurrent", 501), "max_concurrent"},
		{"scans kept too briefly", withField(want, "scan_retention_days", 6), "scan_retention_days"},
		{"evidence kept too long", withField(want, "evidence_retention_days", 3651), "evidence_retention_days"},
		{"missing field", withField(want, "max_concurrent", nil), "max_concurrent"},
	} {
		res := f.do(f.admin, http.MethodPut, "system/scan/config", tc.body)
		require.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", tc.name, res.Body)
		require.Equal(t, tc.field, res.Err(t).Error.Detail["field"], "%s: %s", tc.name, res.Body)
	}
	require.Equal(t, c.Defaults, get().Config, "a refused change changes nothing")
	require.Zero(t, f.count(`SELECT count(*) FROM audit_events WHERE action = 'system.scan_config_changed'`))

	res = f.do(f.admin, http.MethodPut, "system/scan/config", want)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var put api.ScanConfigResponse
	res.Decode(t, &put)
	require.Equal(t, want, put.Config)
	require.Equal(t, c.Defaults, put.Defaults)
	require.Equal(t, want, get().Config)

	var detail map[string]map[string]any
	var actor string
	require.NoError(t, f.env.App.Pool.QueryRow(f.ctx, `SELECT detail, actor_type FROM audit_events WHERE action = 'system.scan_config_changed'`).
		Scan(&detail, &actor))
	require.Equal(t, "user", actor)
	require.Equal(t, true, detail["before"]["enabled"])
	require.Equal(t, float64(60), detail["before"]["rate_limit_per_minute"])
	require.Equal(t, false, detail["after"]["enabled"])
	require.Equal(t, float64(10), detail["after"]["rate_limit_per_minute"])
	require.Equal(t, float64(2880), detail["after"]["interval_minutes"].(map[string]any)["compliant"])
}

// withField returns the configuration as JSON with one field changed (nil removes it).
func withField(c api.ScanConfig, field string, v any) map[string]any {
	m := configJSON(c)
	if v == nil {
		delete(m, field)
	} else {
		m[field] = v
	}
	return m
}

// withIntervals returns the configuration as JSON with some intervals changed.
func withIntervals(c api.ScanConfig, iv map[string]any) map[string]any {
	m := configJSON(c)
	for k, v := range iv {
		m["interval_minutes"].(map[string]any)[k] = v
	}
	return m
}

func configJSON(c api.ScanConfig) map[string]any {
	iv := c.IntervalMinutes
	return map[string]any{"enabled": c.Enabled, "rate_limit_per_minute": c.RateLimitPerMinute, "max_concurrent": c.MaxConcurrent,
		"scan_retention_days": c.ScanRetentionDays, "evidence_retention_days": c.EvidenceRetentionDays,
		"interval_minutes": map[string]any{"unknown": iv.Unknown, "critical": iv.Critical, "low": iv.Low, "partial": iv.Partial,
			"compliant": iv.Compliant}}
}

// TestSchedulePreviewAPI reads the preview through the API: its counts, and its items
// soonest first, limited, with their band, score and last scan.
func TestSchedulePreviewAPI(t *testing.T) {
	t.Parallel()
	f := newSchedFixture(t)
	viewer := f.env.Login("viewer", f.env.CreateUser("viewer", authz.RoleViewer))
	now := time.Now().UTC()
	day := 24 * time.Hour

	never := f.schedHost("never", 1, "reachable", now.Add(-3*day))
	crit := f.schedHost("crit", 2, "reachable", now.Add(-30*day))
	f.results(crit, 30, 70, 0)
	critLast := now.Add(-10 * time.Hour).Truncate(time.Second)
	f.pastScan(crit, "completed", critLast) // due 6 h ago
	good := f.schedHost("good", 3, "reachable", now.Add(-30*day))
	f.results(good, 96, 4, 0)
	f.pastScan(good, "completed", now.Add(-time.Hour)) // due in 23 h
	mid := f.schedHost("mid", 4, "reachable", now.Add(-30*day))
	f.results(mid, 85, 15, 0)
	f.pastScan(mid, "completed", now.Add(-2*time.Hour)) // due in 10 h
	f.schedHost("down", 5, "unreachable", now.Add(-30*day))

	get := func(path string) api.ScanSchedulePreview {
		t.Helper()
		res := f.do(viewer, http.MethodGet, path, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var p api.ScanSchedulePreview
		res.Decode(t, &p)
		return p
	}
	p := get("system/scan/schedule-preview")
	require.True(t, p.Enabled)
	require.WithinDuration(t, time.Now(), p.GeneratedAt, time.Minute)
	require.Equal(t, int64(2), p.DueNow)
	require.Equal(t, int64(1), p.NotSchedulable)
	require.Equal(t, int64(1), p.HostsByBand.Unknown)
	require.Equal(t, int64(1), p.HostsByBand.Critical)
	require.Equal(t, int64(0), p.HostsByBand.Low)
	require.Equal(t, int64(1), p.HostsByBand.Partial)
	require.Equal(t, int64(1), p.HostsByBand.Compliant)
	ids := make([]uuid.UUID, len(p.Items))
	for i, it := range p.Items {
		ids[i] = it.HostId
	}
	require.Equal(t, []uuid.UUID{never, crit, mid, good}, ids)
	require.True(t, slices.IsSortedFunc(p.Items, func(a, b api.ScanScheduleItem) int { return a.NextScanAt.Compare(b.NextScanAt) }))

	first := p.Items[0]
	require.Equal(t, "never", first.Hostname)
	require.Equal(t, api.ScanBandUnknown, first.Band)
	require.Nil(t, first.LastScanAt)
	require.Nil(t, first.PassingFraction)
	second := p.Items[1]
	require.Equal(t, api.ScanBandCritical, second.Band)
	require.InDelta(t, 0.3, *second.PassingFraction, 1e-9)
	requireInstant(t, critLast, *second.LastScanAt, "last scan")
	requireInstant(t, critLast.Add(240*time.Minute), second.NextScanAt, "next scan")
	require.Equal(t, api.ScanBandPartial, p.Items[2].Band)
	require.Equal(t, api.ScanBandCompliant, p.Items[3].Band)

	require.Len(t, get("system/scan/schedule-preview?limit=1").Items, 1)
	for _, bad := range []string{"0", "1001", "x"} {
		res := f.do(viewer, http.MethodGet, "system/scan/schedule-preview?limit="+bad, nil)
		require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
		require.Equal(t, "limit", res.Err(t).Error.Detail["field"])
	}

	// Disabled, the preview says so and still computes the schedule.
	cfg := scan.DefaultScheduleConfig
	cfg.Enabled = false
	f.setConfig(cfg)
	p = get("system/scan/schedule-preview?limit=2")
	require.False(t, p.Enabled)
	require.Len(t, p.Items, 2)
	require.Equal(t, int64(2), p.DueNow)
	require.Zero(t, f.count(`SELECT count(*) FROM scans WHERE trigger = 'scheduled'`), "a preview queues nothing")
}
