package scan_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
	"github.com/openwatch/openwatch/internal/rule"
	"github.com/openwatch/openwatch/internal/scan"
)

// newReadFixture is an application without workers (nothing is scanned or dialled):
// tests write the history they read.
func newReadFixture(t *testing.T) *fixture {
	env := apitest.New(t, noWorker)
	return &fixture{t: t, env: env, admin: env.Admin()}
}

func (f *fixture) exec(sql string, args ...any) {
	f.t.Helper()
	_, err := f.env.App.Pool.Exec(context.Background(), sql, args...)
	require.NoError(f.t, err)
}

func (f *fixture) trend(path string, q url.Values) api.ComplianceTrend {
	f.t.Helper()
	res := f.do(f.admin, http.MethodGet, path+"?"+q.Encode(), nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var tr api.ComplianceTrend
	res.Decode(f.t, &tr)
	return tr
}

func (f *fixture) trend400(path string, q url.Values, field string) {
	f.t.Helper()
	res := f.do(f.admin, http.MethodGet, path+"?"+q.Encode(), nil)
	require.Equal(f.t, http.StatusBadRequest, res.Status, "%s: %s", q.Encode(), res.Body)
	if field != "" {
		require.Equal(f.t, field, res.Err(f.t).Error.Detail["field"], "%s: %s", q.Encode(), res.Body)
	}
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func span(since, until time.Time, interval string) url.Values {
	return url.Values{"since": {rfc(since)}, "until": {rfc(until)}, "interval": {interval}}
}

// pt is a point with its score, computed here by the formula: pass / (pass + fail).
func pt(at time.Time, pass, fail, skipped, errs int64) api.CompliancePoint {
	p := api.CompliancePoint{At: at, Pass: pass, Fail: fail, Skipped: skipped, Error: errs}
	if pass+fail > 0 {
		f := float64(pass) / float64(pass+fail)
		p.PassingFraction = &f
	}
	return p
}

// trendBase is an hour well in the past, so series around it do not depend on the clock.
func trendBase() time.Time { return time.Now().UTC().Truncate(time.Hour).Add(-10 * 24 * time.Hour) }

// TestHostComplianceTrend reads a host's trend over history rows written at known times:
// each point is the latest row at or before its end, zeros before the first.
func TestHostComplianceTrend(t *testing.T) {
	t.Parallel()
	f := newReadFixture(t)
	id := f.plainHost("trended", map[string]any{"ip_address": "127.0.0.4"})
	other := f.plainHost("other", map[string]any{"ip_address": "127.0.0.5"})
	base := trendBase()
	h := func(n int) time.Time { return base.Add(time.Duration(n) * time.Hour) }
	insert := func(host uuid.UUID, framework string, at time.Time, pass, fail, skipped, errs, critical int) {
		f.exec(`INSERT INTO host_compliance_history (host_id, framework, valid_from, pass_count, fail_count, skipped_count,
			error_count, critical_failing) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, host, framework, at, pass, fail, skipped, errs, critical)
	}
	insert(id, "all", h(2), 3, 1, 0, 0, 0)
	insert(id, "all", h(5), 2, 2, 1, 1, 1)
	insert(id, "cis-ubuntu22", h(1), 1, 0, 0, 0, 0)
	insert(other, "all", h(1), 100, 100, 0, 0, 0)
	path := "hosts/" + id.String() + "/compliance/trend"

	tr := f.trend(path, span(h(0), h(6), "hour"))
	require.Equal(t, api.ComplianceTrend{Framework: "all", Interval: api.ComplianceTrendIntervalHour, Since: h(0), Until: h(6),
		Points: []api.CompliancePoint{pt(h(0), 0, 0, 0, 0), pt(h(1), 0, 0, 0, 0), pt(h(2), 3, 1, 0, 0), pt(h(3), 3, 1, 0, 0),
			pt(h(4), 3, 1, 0, 0), pt(h(5), 2, 2, 1, 1), pt(h(6), 2, 2, 1, 1)}}, tr)
	require.Nil(t, tr.Points[0].PassingFraction, "no score before the first scan")
	require.Equal(t, 0.75, *tr.Points[2].PassingFraction)

	// Bucket ends are aligned on until: a since between two ends drops the earlier one.
	tr = f.trend(path, span(h(0).Add(30*time.Minute), h(6), "hour"))
	require.Equal(t, []api.CompliancePoint{pt(h(1), 0, 0, 0, 0), pt(h(2), 3, 1, 0, 0), pt(h(3), 3, 1, 0, 0), pt(h(4), 3, 1, 0, 0),
		pt(h(5), 2, 2, 1, 1), pt(h(6), 2, 2, 1, 1)}, tr.Points)
	tr = f.trend(path, span(h(1).Add(30*time.Minute), h(4).Add(30*time.Minute), "hour"))
	require.Equal(t, []api.CompliancePoint{pt(h(1).Add(30*time.Minute), 0, 0, 0, 0), pt(h(2).Add(30*time.Minute), 3, 1, 0, 0),
		pt(h(3).Add(30*time.Minute), 3, 1, 0, 0), pt(h(4).Add(30*time.Minute), 3, 1, 0, 0)}, tr.Points, "since itself is an end when on the grid")

	tr = f.trend(path, url.Values{"framework": {"cis-ubuntu22"}, "since": {rfc(h(0))}, "until": {rfc(h(2))}, "interval": {"hour"}})
	require.Equal(t, "cis-ubuntu22", tr.Framework)
	require.Equal(t, []api.CompliancePoint{pt(h(0), 0, 0, 0, 0), pt(h(1), 1, 0, 0, 0), pt(h(2), 1, 0, 0, 0)}, tr.Points)
	tr = f.trend(path, url.Values{"framework": {"nist-800-53"}, "since": {rfc(h(0))}, "until": {rfc(h(6))}})
	require.Equal(t, []api.CompliancePoint{pt(h(6), 0, 0, 0, 0)}, tr.Points, "a framework the host has no results of")

	day, week := 24*time.Hour, 7*24*time.Hour
	tr = f.trend(path, span(h(6).Add(-2*day), h(6), "day"))
	require.Equal(t, []api.CompliancePoint{pt(h(6).Add(-2*day), 0, 0, 0, 0), pt(h(6).Add(-day), 0, 0, 0, 0), pt(h(6), 2, 2, 1, 1)}, tr.Points)
	tr = f.trend(path, span(h(6).Add(-20*day), h(6).Add(week), "week"))
	require.Equal(t, api.ComplianceTrendIntervalWeek, tr.Interval)
	require.Equal(t, []api.CompliancePoint{pt(h(6).Add(-2*week), 0, 0, 0, 0), pt(h(6).Add(-week), 0, 0, 0, 0), pt(h(6), 2, 2, 1, 1),
		pt(h(6).Add(week), 2, 2, 1, 1)}, tr.Points)

	// Defaults: a point a day over the 30 days up to now.
	before := time.Now()
	tr = f.trend(path, nil)
	require.Equal(t, api.ComplianceTrendIntervalDay, tr.Interval)
	require.False(t, tr.Until.Before(before.Truncate(time.Microsecond)))
	require.Equal(t, tr.Until.Add(-30*day), tr.Since)
	require.Len(t, tr.Points, 31)
	require.True(t, tr.Since.Equal(tr.Points[0].At))
	require.True(t, tr.Until.Equal(tr.Points[30].At))
	require.Equal(t, pt(tr.Points[0].At, 0, 0, 0, 0), tr.Points[0])
	require.Equal(t, pt(tr.Until, 2, 2, 1, 1), tr.Points[30])
	tr = f.trend(path, url.Values{"until": {rfc(h(6))}})
	require.Equal(t, h(6).Add(-30*day), tr.Since)

	// At most 1000 points.
	require.Len(t, f.trend(path, span(h(6).Add(-999*time.Hour), h(6), "hour")).Points, 1000)
	f.trend400(path, span(h(6).Add(-1000*time.Hour), h(6), "hour"), "interval")
	require.Len(t, f.trend(path, url.Values{"interval": {"hour"}}).Points, 30*24+1, "30 days of hours fit")
	f.trend400(path, span(h(6), h(6), "hour"), "since")
	f.trend400(path, span(h(7), h(6), "hour"), "since")
	f.trend400(path, url.Values{"since": {rfc(time.Now().Add(time.Hour))}}, "since")
	f.trend400(path, url.Values{"framework": {"cis-windows"}}, "framework")
	f.trend400(path, url.Values{"interval": {"month"}}, "")

	res := f.do(f.admin, http.MethodGet, "hosts/"+uuid.NewString()+"/compliance/trend", nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
	res = f.do(f.admin, http.MethodDelete, "hosts/"+id.String(), nil)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	res = f.do(f.admin, http.MethodGet, path, nil)
	require.Equal(t, http.StatusNotFound, res.Status, "a deleted host: %s", res.Body)
}

// TestFleetComplianceTrend reads the fleet's trend over recorded totals at known times,
// then records the current totals as the periodic job does and finds the trend's last
// point agreeing with GET /fleet/score, for a framework with results and one without.
func TestFleetComplianceTrend(t *testing.T) {
	t.Parallel()
	f := newReadFixture(t)
	base := trendBase()
	h := func(n int) time.Time { return base.Add(time.Duration(n) * time.Hour) }
	insert := func(framework string, at time.Time, pass, fail, skipped, errs int) {
		f.exec(`INSERT INTO fleet_compliance_history (framework, at, pass_count, fail_count, skipped_count, error_count)
			VALUES ($1, $2, $3, $4, $5, $6)`, framework, at, pass, fail, skipped, errs)
	}
	insert("all", h(2), 30, 10, 0, 0)
	insert("all", h(5), 20, 20, 5, 5)
	insert("cis-ubuntu22", h(1), 1, 1, 0, 0)
	const path = "fleet/compliance/trend"

	tr := f.trend(path, span(h(0), h(6), "hour"))
	require.Equal(t, api.ComplianceTrend{Framework: "all", Interval: api.ComplianceTrendIntervalHour, Since: h(0), Until: h(6),
		Points: []api.CompliancePoint{pt(h(0), 0, 0, 0, 0), pt(h(1), 0, 0, 0, 0), pt(h(2), 30, 10, 0, 0), pt(h(3), 30, 10, 0, 0),
			pt(h(4), 30, 10, 0, 0), pt(h(5), 20, 20, 5, 5), pt(h(6), 20, 20, 5, 5)}}, tr)
	tr = f.trend(path, url.Values{"framework": {"cis-ubuntu22"}, "since": {rfc(h(0))}, "until": {rfc(h(2))}, "interval": {"hour"}})
	require.Equal(t, []api.CompliancePoint{pt(h(0), 0, 0, 0, 0), pt(h(1), 1, 1, 0, 0), pt(h(2), 1, 1, 0, 0)}, tr.Points)
	f.trend400(path, span(h(6), h(5), "day"), "since")
	f.trend400(path, span(h(6).Add(-1001*time.Hour), h(6), "hour"), "interval")
	f.trend400(path, url.Values{"framework": {"nope"}}, "framework")

	// The fleet now, as scans left it in the shards. Before the job records it, a series
	// ending now (no until) already ends with it; one ending at a given instant does not.
	f.exec(`INSERT INTO fleet_compliance (framework, shard, pass_count, fail_count, skipped_count, error_count)
		VALUES ('all', 0, 5, 1, 0, 0), ('all', 7, 2, 2, 1, 0), ('cis-ubuntu22', 3, 2, 1, 0, 0)`)
	live := f.trend(path, url.Values{"interval": {"day"}})
	require.Len(t, live.Points, 31)
	last := live.Points[len(live.Points)-1]
	require.Equal(t, pt(last.At, 7, 3, 1, 0), last, "the live totals end a series ending now")
	require.Equal(t, pt(live.Points[29].At, 20, 20, 5, 5), live.Points[29], "earlier points stay what was recorded")
	atNow := time.Now()
	tr = f.trend(path, url.Values{"since": {rfc(atNow.Add(-time.Hour))}, "until": {rfc(atNow)}})
	require.Equal(t, pt(atNow.UTC().Truncate(time.Microsecond), 20, 20, 5, 5), tr.Points[len(tr.Points)-1], "an explicit until reads the record")
	n, err := f.env.App.Compliance.SnapshotFleet(context.Background())
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	n, err = f.env.App.Compliance.SnapshotFleet(context.Background())
	require.NoError(t, err)
	require.Zero(t, n, "nothing changed since")
	for _, fw := range []string{"all", "cis-ubuntu22", "nist-800-53"} {
		now := time.Now()
		tr := f.trend(path, url.Values{"framework": {fw}, "since": {rfc(now.Add(-time.Hour))}, "until": {rfc(now)}})
		last := tr.Points[len(tr.Points)-1]
		var score api.FleetScore
		res := f.do(f.admin, http.MethodGet, "fleet/score?framework="+fw, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		res.Decode(t, &score)
		require.Equal(t, score.TotalEvaluations, last.Pass+last.Fail+last.Skipped+last.Error, fw)
		if last.PassingFraction == nil {
			require.Zero(t, score.PassingFraction, fw)
			require.Zero(t, score.TotalEvaluations, fw)
		} else {
			require.Equal(t, score.PassingFraction, *last.PassingFraction, fw)
		}
	}
	now := time.Now()
	tr = f.trend(path, url.Values{"since": {rfc(now.Add(-time.Hour))}, "until": {rfc(now)}})
	require.Equal(t, pt(now.UTC().Truncate(time.Microsecond), 7, 3, 1, 0), tr.Points[len(tr.Points)-1])
}

// TestFleetSnapshot runs the fleet's snapshot (the periodic job's work) against shards
// written by hand, on a clock the test moves: a row per framework whose totals changed
// since its last row, under the minute, none when nothing changed, and a second change
// within a minute replacing that minute's row.
func TestFleetSnapshot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	corpus, err := rule.Embedded()
	require.NoError(t, err)
	clock := time.Date(2026, 5, 4, 12, 0, 30, 0, time.UTC)
	svc := scan.NewService(pool, nil, scan.NewCatalog(corpus), nil, nil, scan.Options{Now: func() time.Time { return clock }})
	exec := func(sql string) {
		t.Helper()
		_, err := pool.Exec(ctx, sql)
		require.NoError(t, err)
	}
	type row struct {
		Framework                  string
		At                         time.Time
		Pass, Fail, Skipped, Error int64
	}
	history := func() []row {
		t.Helper()
		rows, err := pool.Query(ctx, `SELECT framework, at, pass_count, fail_count, skipped_count, error_count
			FROM fleet_compliance_history ORDER BY framework, at`)
		require.NoError(t, err)
		defer rows.Close()
		var out []row
		for rows.Next() {
			var r row
			require.NoError(t, rows.Scan(&r.Framework, &r.At, &r.Pass, &r.Fail, &r.Skipped, &r.Error))
			r.At = r.At.UTC()
			out = append(out, r)
		}
		require.NoError(t, rows.Err())
		return out
	}
	snapshot := func(at time.Time) int64 {
		t.Helper()
		clock = at
		n, err := svc.SnapshotFleet(ctx)
		require.NoError(t, err)
		return n
	}
	minute := func(m int) time.Time { return time.Date(2026, 5, 4, 12, m, 0, 0, time.UTC) }

	require.Zero(t, snapshot(clock), "no fleet yet")
	require.Empty(t, history())

	exec(`INSERT INTO fleet_compliance (framework, shard, pass_count, fail_count, skipped_count, error_count)
		VALUES ('all', 0, 5, 1, 0, 0), ('all', 3, 2, 2, 1, 0), ('cis-ubuntu22', 0, 1, 1, 0, 0)`)
	require.EqualValues(t, 2, snapshot(minute(0).Add(30*time.Second)))
	want := []row{{"all", minute(0), 7, 3, 1, 0}, {"cis-ubuntu22", minute(0), 1, 1, 0, 0}}
	require.Equal(t, want, history())

	require.Zero(t, snapshot(minute(1).Add(10*time.Second)), "nothing changed")
	require.Equal(t, want, history())

	exec(`UPDATE fleet_compliance SET pass_count = pass_count + 1, fail_count = fail_count - 1 WHERE framework = 'all' AND shard = 3`)
	require.EqualValues(t, 1, snapshot(minute(2).Add(5*time.Second)))
	want = []row{{"all", minute(0), 7, 3, 1, 0}, {"all", minute(2), 8, 2, 1, 0}, {"cis-ubuntu22", minute(0), 1, 1, 0, 0}}
	require.Equal(t, want, history())

	exec(`UPDATE fleet_compliance SET pass_count = pass_count + 1, fail_count = fail_count - 1 WHERE framework = 'all' AND shard = 0`)
	require.EqualValues(t, 1, snapshot(minute(2).Add(40*time.Second)))
	want[1] = row{"all", minute(2), 9, 1, 1, 0}
	require.Equal(t, want, history(), "the minute's row holds its last totals")

	// A host leaving the fleet takes its counts off the shards (to zero here): recorded too.
	exec(`UPDATE fleet_compliance SET pass_count = 0, fail_count = 0, skipped_count = 0, error_count = 0 WHERE framework = 'cis-ubuntu22'`)
	require.EqualValues(t, 1, snapshot(minute(3)))
	require.Equal(t, row{"cis-ubuntu22", minute(3), 0, 0, 0, 0}, history()[3])
	require.Zero(t, snapshot(minute(4)))
}
