package alert_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/alert"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/config"
	"github.com/openwatch/openwatch/internal/pg"
)

// live returns the live alert of key, nil when none.
func (f *fixture) live(key string) *dbq.Alert {
	f.t.Helper()
	var out *dbq.Alert
	require.NoError(f.t, pg.WithTx(context.Background(), f.env.App.Pool, func(tx pgx.Tx) error {
		m, err := alert.LiveTx(context.Background(), tx, []string{key})
		if a, ok := m[key]; ok {
			out = &a
		}
		return err
	}))
	return out
}

func tagsOf(t *testing.T, a *dbq.Alert) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(a.Tags, &m))
	return m
}

// TestJudgeScore walks one key through the score rules: a drop of the threshold raises
// (medium), a further fall counts an occurrence, a partial recovery changes nothing, a
// recovery to within the threshold of the baseline resolves; a score below the floor
// raises with the floor's severity and resolves above it.
func TestJudgeScore(t *testing.T) {
	t.Parallel()
	f := setup(t)
	judge := func(key string, value float64, baseline *float64) alert.ScoreVerdict {
		t.Helper()
		var v alert.ScoreVerdict
		require.NoError(t, pg.WithTx(context.Background(), f.env.App.Pool, func(tx pgx.Tx) error {
			live, err := alert.LiveTx(context.Background(), tx, []string{key})
			if err != nil {
				return err
			}
			var l *dbq.Alert
			if a, ok := live[key]; ok {
				l = &a
			}
			v, err = alert.JudgeScoreTx(context.Background(), tx, f.env.App.Audit, l, alert.Score{
				DedupKey: key, AlertType: "score_drop", Value: value, Baseline: baseline,
				DropPoints: 10, FloorPercent: 70, Severity: "medium", FloorSeverity: "high",
				Subject: "CIS on the host", Tags: map[string]any{"framework": "cis"}})
			return err
		}))
		return v
	}
	p := func(v float64) *float64 { return &v }

	require.Equal(t, alert.ScoreQuiet, judge("drop", 0.95, p(0.99)), "a drop under the threshold")
	require.Nil(t, f.live("drop"))
	require.Equal(t, alert.ScoreRaised, judge("drop", 0.80, p(0.90)), "ten points exactly")
	a := f.live("drop")
	require.NotNil(t, a)
	require.Equal(t, "medium", a.Severity)
	require.Equal(t, "score_drop", a.AlertType)
	require.Contains(t, a.Title, "80.0%")
	tags := tagsOf(t, a)
	require.Equal(t, 0.9, tags["baseline_score"])
	require.Equal(t, 0.8, tags["score"])
	require.Equal(t, "cis", tags["framework"])

	require.Equal(t, alert.ScoreRaised, judge("drop", 0.78, p(0.80)), "a further fall, measured from the alert's baseline")
	a = f.live("drop")
	require.EqualValues(t, 2, a.OccurrenceCount)
	require.Equal(t, 0.9, tagsOf(t, a)["baseline_score"], "the baseline the alert was raised with stays")
	require.Equal(t, alert.ScoreQuiet, judge("drop", 0.79, p(0.78)), "still 11 points down: nothing new")
	require.EqualValues(t, 2, f.live("drop").OccurrenceCount)
	require.Equal(t, alert.ScoreResolved, judge("drop", 0.81, p(0.79)), "within 10 points of 90%")
	require.Nil(t, f.live("drop"))
	require.Equal(t, 1, f.audited(a.ID, "alert.resolved"))

	require.Equal(t, alert.ScoreRaised, judge("floor", 0.65, nil), "below the floor without a baseline")
	a = f.live("floor")
	require.Equal(t, "high", a.Severity)
	require.NotContains(t, tagsOf(t, a), "baseline_score")
	require.Equal(t, alert.ScoreQuiet, judge("floor", 0.69, p(0.65)), "better, still below the floor")
	require.Equal(t, alert.ScoreResolved, judge("floor", 0.70, p(0.69)), "at the floor")
	require.Nil(t, f.live("floor"))
}

// failingVerifier cannot read the chain.
type failingVerifier struct{}

func (failingVerifier) Verify(context.Context) (audit.Result, error) {
	return audit.Result{}, errors.New("database unavailable")
}

// TestAuditChainCheck verifies the real chain: intact raises nothing; tampered raises one
// critical alert with the verdict in its tags, counted again while still broken; repaired
// (the edited column put back) resolves it.
func TestAuditChainCheck(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(d *app.Deps) { d.Config.Alerts.AuditVerifyInterval = config.Duration{} })
	f := &fixture{t: t, env: env, admin: env.Admin()}
	ctx := context.Background()
	svc := alert.NewService(env.App.Pool, env.App.Audit, alert.Options{Chain: env.App.Audit})
	integrity := func() api.AuditIntegrityStatus {
		t.Helper()
		res := env.Do(apitest.Request{Method: http.MethodGet, Path: "audit/integrity", Token: f.admin.AccessToken})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var s api.AuditIntegrityStatus
		res.Decode(t, &s)
		return s
	}
	require.Nil(t, integrity().VerifiedAt, "not verified yet")

	res, err := svc.VerifyChain(ctx)
	require.NoError(t, err)
	require.True(t, res.OK, res.Reason)
	require.Nil(t, f.live(alert.AlertAuditChainBroken))
	good := integrity()
	require.NotNil(t, good.VerifiedAt)
	require.True(t, *good.Ok)
	require.Positive(t, good.Checked)
	require.Equal(t, good.VerifiedAt, good.LastOkAt)

	var severity string
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT severity FROM audit_events WHERE seq = 1`).Scan(&severity))
	f.tamper(`UPDATE audit_events SET severity = 'critical' WHERE seq = 1`)
	res, err = svc.VerifyChain(ctx)
	require.NoError(t, err)
	require.False(t, res.OK)
	a := f.live(alert.AlertAuditChainBroken)
	require.NotNil(t, a)
	require.Equal(t, "critical", a.Severity)
	require.Equal(t, alert.AlertAuditChainBroken, a.AlertType)
	require.Equal(t, alert.AlertAuditChainBroken, a.DedupKey)
	require.Nil(t, a.HostID)
	tags := tagsOf(t, a)
	require.EqualValues(t, 1, tags["first_broken_seq"])
	require.Equal(t, false, tags["ok"])
	require.Contains(t, tags["reason"], "seq 1 was altered")
	bad := integrity()
	require.False(t, *bad.Ok)
	require.EqualValues(t, 1, *bad.FirstBrokenSeq)
	require.Contains(t, *bad.Reason, "seq 1 was altered")
	require.Equal(t, good.VerifiedAt, bad.LastOkAt, "last verified intact before")

	_, err = svc.VerifyChain(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 2, f.live(alert.AlertAuditChainBroken).OccurrenceCount, "still broken: one more occurrence")

	f.tamper(`UPDATE audit_events SET severity = $1 WHERE seq = 1`, severity)
	res, err = svc.VerifyChain(ctx)
	require.NoError(t, err)
	require.True(t, res.OK, res.Reason)
	require.Nil(t, f.live(alert.AlertAuditChainBroken))
	require.True(t, *integrity().Ok)
	require.Equal(t, 1, f.audited(a.ID, "alert.resolved"))
	got := f.get(a.ID)
	require.Nil(t, got.ResolvedBy, "resolved by the system")
}

// tamper runs sql past the audit tables' append-only triggers, as their owner can.
func (f *fixture) tamper(sql string, args ...any) {
	f.t.Helper()
	ctx := context.Background()
	require.NoError(f.t, pg.WithTx(ctx, f.env.App.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `ALTER TABLE audit_events DISABLE TRIGGER USER`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, sql, args...); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `ALTER TABLE audit_events ENABLE TRIGGER USER`)
		return err
	}))
}

// TestAuditChainCheckUnreadable: a verification that cannot read the chain is an error,
// not a verdict: nothing is raised.
func TestAuditChainCheckUnreadable(t *testing.T) {
	t.Parallel()
	f := setup(t)
	svc := alert.NewService(f.env.App.Pool, f.env.App.Audit, alert.Options{Chain: failingVerifier{}})
	_, err := svc.VerifyChain(context.Background())
	require.Error(t, err)
	require.Nil(t, f.live(alert.AlertAuditChainBroken))
}

// TestAlertsConfigAPI reads and changes the thresholds through the API: the defaults come
// from the configuration file; a viewer reads but cannot change them; a value out of
// bounds is a 400 naming the field that changes nothing; a change is audited with the
// values before and after, and LoadConfig (what the sources read) sees it.
func TestAlertsConfigAPI(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(d *app.Deps) { d.Config.Alerts.ScanFailures = 5 })
	f := &fixture{t: t, env: env, admin: env.Admin()}
	viewer := env.Login("viewer", env.CreateUser("viewer", authz.RoleViewer))
	get := func() api.AlertsConfigResponse {
		t.Helper()
		res := env.Do(apitest.Request{Method: http.MethodGet, Path: "system/alerts/config", Token: viewer.AccessToken})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var c api.AlertsConfigResponse
		res.Decode(t, &c)
		return c
	}
	c := get()
	require.Equal(t, api.AlertsConfig{ScoreDropPoints: 10, ScoreFloorPercent: 70, FleetScoreDropPoints: 10,
		FleetScoreFloorPercent: 70, FleetScoreWindowHours: 24, ScanFailures: 5}, c.Defaults, "[alerts] of the configuration")
	require.Equal(t, c.Defaults, c.Config)

	want := api.AlertsConfig{ScoreDropPoints: 5, ScoreFloorPercent: 0, FleetScoreDropPoints: 20,
		FleetScoreFloorPercent: 50, FleetScoreWindowHours: 48, ScanFailures: 2}
	put := func(s apitest.Session, body any) *apitest.Response {
		return env.Do(apitest.Request{Method: http.MethodPut, Path: "system/alerts/config", Token: s.AccessToken, JSON: body})
	}
	require.Equal(t, http.StatusForbidden, put(viewer, want).Status)
	for _, tc := range []struct {
		field string
		v     any
	}{
		{"score_drop_points", 0}, {"score_floor_percent", 101}, {"fleet_score_drop_points", 101},
		{"fleet_score_floor_percent", -1}, {"fleet_score_window_hours", 721}, {"scan_failures", 0},
		{"scan_failures", nil}, {"scan_failures", "3"},
	} {
		raw, err := json.Marshal(want)
		require.NoError(t, err)
		var body map[string]any
		require.NoError(t, json.Unmarshal(raw, &body))
		if tc.v == nil {
			delete(body, tc.field)
		} else {
			body[tc.field] = tc.v
		}
		res := put(f.admin, body)
		require.Equal(t, http.StatusBadRequest, res.Status, "%s=%v: %s", tc.field, tc.v, res.Body)
		require.Equal(t, tc.field, res.Err(t).Error.Detail["field"], "%s", res.Body)
	}
	require.Equal(t, c.Defaults, get().Config, "a refused change changes nothing")
	require.NoError(t, alert.Config{ScoreDropPoints: 1, FleetScoreDropPoints: 1, FleetScoreWindowHours: 1, ScanFailures: 1}.Validate())
	require.Error(t, alert.Config{}.Validate())

	res := put(f.admin, want)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var got api.AlertsConfigResponse
	res.Decode(t, &got)
	require.Equal(t, want, got.Config)
	require.Equal(t, c.Defaults, got.Defaults)
	require.Equal(t, want, get().Config)
	loaded, err := alert.LoadConfig(context.Background(), env.App.Pool, alert.DefaultConfig)
	require.NoError(t, err)
	require.Equal(t, 2, loaded.ScanFailures)
	require.Equal(t, 48, loaded.FleetScoreWindowHours)

	var detail map[string]map[string]any
	var actor string
	require.NoError(t, env.App.Pool.QueryRow(context.Background(),
		`SELECT detail, actor_type FROM audit_events WHERE action = 'system.alert_config_changed'`).Scan(&detail, &actor))
	require.Equal(t, "user", actor)
	require.EqualValues(t, 5, detail["before"]["scan_failures"])
	require.EqualValues(t, 2, detail["after"]["scan_failures"])
}
