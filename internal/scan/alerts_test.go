package scan_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// alertsOf lists the alerts of a type, of one host (nil: any).
func (f *fixture) alertsOf(typ string, hostID *uuid.UUID) []api.Alert {
	f.t.Helper()
	path := "alerts?limit=200"
	if hostID != nil {
		path += "&host_id=" + hostID.String()
	}
	res := f.do(f.admin, http.MethodGet, path, nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var p api.AlertsPage
	res.Decode(f.t, &p)
	var out []api.Alert
	for _, a := range p.Items {
		if a.AlertType == typ {
			out = append(out, a)
		}
	}
	return out
}

// TestScanFailingAlert: a host's scans failing alerts.scan_failing (here 2) times in a row
// raise one high scan_failing alert for the host, each further failure counts an
// occurrence, and a completed scan resolves it.
func TestScanFailingAlert(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "127.0.0.1", func(d *app.Deps) { d.Config.Alerts.ScanFailures = 2 })
	id := f.plainHost("failing", nil) // no credential: its scans fail at once
	fail := func() api.Scan {
		t.Helper()
		sc := f.wait(f.startScan(id, nil).Id)
		require.Equal(t, api.ScanStatusFailed, sc.Status)
		return sc
	}
	fail()
	require.Empty(t, f.alertsOf("scan_failing", &id), "one failure is not a streak")
	second := fail()
	items := f.alertsOf("scan_failing", &id)
	require.Len(t, items, 1)
	a := items[0]
	require.Equal(t, "scan_failing:"+id.String(), a.DedupKey)
	require.Equal(t, api.Severity("high"), a.Severity)
	require.Equal(t, api.AlertState("active"), a.State)
	require.Equal(t, id, *a.HostId)
	require.Equal(t, second.Id.String(), (*a.Tags)["scan_id"])
	require.EqualValues(t, 2, (*a.Tags)["consecutive_failures"])
	require.Contains(t, a.Title, "2 times")

	fail()
	items = f.alertsOf("scan_failing", &id)
	require.Len(t, items, 1, "a recurrence counts on the live alert")
	require.EqualValues(t, 2, (*items[0].Tags)["occurrence_count"])
	require.EqualValues(t, 3, (*items[0].Tags)["consecutive_failures"])

	// Point the host at the target with a credential: the next scan completes.
	res := f.do(f.admin, http.MethodPatch, "hosts/"+id.String(), map[string]any{"ip_address": f.srv.Host, "port": f.srv.Port})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	u := f.srv.User(sshtest.UserRoot)
	res = f.do(f.admin, http.MethodPost, "credentials", map[string]any{"scope": "host", "scope_id": id, "name": "cred-failing",
		"username": u.Name, "auth_method": "ssh_key", "private_key": string(u.PrivateKey)})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	done := f.wait(f.startScan(id, nil).Id)
	require.Equal(t, api.ScanStatusCompleted, done.Status, "%v", done.Error)
	items = f.alertsOf("scan_failing", &id)
	require.Len(t, items, 1)
	require.Equal(t, api.AlertState("resolved"), items[0].State)
	require.Nil(t, items[0].ResolvedBy, "resolved by the system")
}

// TestHostScoreDropAlert scans one rule, so that its frameworks' scores go from 100 % to
// 0 % and back: with the floor off (alerts.score_floor_percent 0) the drop raises a medium
// score_drop alert per framework of the rule (the framework, the scan and the baseline in
// its tags), and the rule passing again resolves them.
func TestHostScoreDropAlert(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "127.0.0.1", func(d *app.Deps) { d.Config.Alerts.ScoreFloorPercent = 0 })
	id := f.host("dropping")
	scan := func(days string) api.Scan {
		t.Helper()
		f.rootRun(`sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\t` + days + `/' /etc/login.defs`)
		sc := f.wait(f.startScan(id, map[string]any{"rule_ids": []string{maxDaysRule}}).Id)
		require.Equal(t, api.ScanStatusCompleted, sc.Status, "%v", sc.Error)
		return sc
	}
	scan("30")
	require.Empty(t, f.alertsOf("score_drop", &id), "a first scan has nothing to drop from, and the floor is off")

	second := scan("99999")
	raised := f.alertsOf("score_drop", &id)
	// One per framework of the rule the host is scored on: the Debian target is not judged
	// on the CIS and STIG benchmarks written for RHEL and Ubuntu releases, which the rule
	// also belongs to.
	require.Contains(t, f.env.App.Rules.FrameworksOf(maxDaysRule), "cis-rhel9")
	frameworks := []string{"all", "nist-800-53"}
	var got []string
	for _, a := range raised {
		fw, _ := (*a.Tags)["framework"].(string)
		got = append(got, fw)
	}
	require.ElementsMatch(t, frameworks, got)
	for _, a := range raised {
		tags := *a.Tags
		fw, _ := tags["framework"].(string)
		require.Contains(t, frameworks, fw)
		require.Equal(t, "score_drop:"+id.String()+":"+fw, a.DedupKey)
		require.Equal(t, api.Severity("medium"), a.Severity, "above the floor (off)")
		require.Equal(t, api.AlertState("active"), a.State)
		require.Equal(t, second.Id.String(), tags["scan_id"])
		require.EqualValues(t, 10, tags["drop_points"])
		require.EqualValues(t, 0, tags["floor_percent"], "the configured floor")
		require.EqualValues(t, 1, tags["baseline_score"])
		require.EqualValues(t, 0, tags["score"])
		require.True(t, strings.HasPrefix(a.Title, "Compliance score of "), a.Title)
		require.Contains(t, a.Title, "0.0%")
	}

	scan("30")
	after := f.alertsOf("score_drop", &id)
	require.Len(t, after, len(raised))
	for _, a := range after {
		require.Equal(t, api.AlertState("resolved"), a.State, a.DedupKey)
	}
}

// TestFleetScoreDropAlert: the snapshot job judges the fleet's recorded score of a
// framework against the highest within the window and the floor: a 20-point drop raises
// fleet_score_drop (high, baseline in its tags), a further fall below the floor counts an
// occurrence, and recovery resolves it; thresholds come from the configuration.
func TestFleetScoreDropAlert(t *testing.T) {
	t.Parallel()
	f := newReadFixture(t)
	ctx := context.Background()
	const fw = "cis-ubuntu22"
	snapshot := func() {
		t.Helper()
		_, err := f.env.App.Compliance.SnapshotFleet(ctx)
		require.NoError(t, err)
	}
	set := func(pass, fail int) {
		t.Helper()
		f.exec(`INSERT INTO fleet_compliance (framework, shard, pass_count, fail_count) VALUES ($1, 0, $2, $3)
			ON CONFLICT (framework, shard) DO UPDATE SET pass_count = $2, fail_count = $3`, fw, pass, fail)
		snapshot()
	}
	// Two hours ago the fleet passed 90 %.
	f.exec(`INSERT INTO fleet_compliance_history (framework, at, pass_count, fail_count, skipped_count, error_count)
		VALUES ($1, $2, 9, 1, 0, 0)`, fw, time.Now().Add(-2*time.Hour))
	set(85, 15)
	require.Empty(t, f.alertsOf("fleet_score_drop", nil), "5 points down, above the floor")
	set(7, 3)
	items := f.alertsOf("fleet_score_drop", nil)
	require.Len(t, items, 1)
	a := items[0]
	require.Equal(t, "fleet_score_drop:"+fw, a.DedupKey)
	require.Equal(t, api.Severity("high"), a.Severity)
	require.Nil(t, a.HostId)
	require.Equal(t, fw, (*a.Tags)["framework"])
	require.InDelta(t, 0.9, (*a.Tags)["baseline_score"], 1e-9)
	require.InDelta(t, 0.7, (*a.Tags)["score"], 1e-9)

	set(6, 4)
	items = f.alertsOf("fleet_score_drop", nil)
	require.Len(t, items, 1)
	require.EqualValues(t, 2, (*items[0].Tags)["occurrence_count"], "lower still: one more occurrence")
	set(65, 35)
	require.EqualValues(t, 2, (*f.alertsOf("fleet_score_drop", nil)[0].Tags)["occurrence_count"], "better, still down: nothing new")
	set(82, 18)
	items = f.alertsOf("fleet_score_drop", nil)
	require.Len(t, items, 1)
	require.Equal(t, api.AlertState("resolved"), items[0].State, "within 10 points of 90 % and above the floor")

}

// TestFleetScoreDropThresholds: alerts.fleet_score_drop_points 30 and no floor let a
// 20-point drop to 70 % pass and raise at 35 points.
func TestFleetScoreDropThresholds(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, noWorker, func(d *app.Deps) {
		d.Config.Alerts.FleetScoreDropPoints, d.Config.Alerts.FleetScoreFloorPercent = 30, 0
	})
	f := &fixture{t: t, env: env, admin: env.Admin()}
	const fw = "all"
	f.exec(`INSERT INTO fleet_compliance_history (framework, at, pass_count, fail_count, skipped_count, error_count)
		VALUES ($1, $2, 9, 1, 0, 0)`, fw, time.Now().Add(-2*time.Hour))
	set := func(pass, fail int) {
		t.Helper()
		f.exec(`INSERT INTO fleet_compliance (framework, shard, pass_count, fail_count) VALUES ($1, 0, $2, $3)
			ON CONFLICT (framework, shard) DO UPDATE SET pass_count = $2, fail_count = $3`, fw, pass, fail)
		_, err := env.App.Compliance.SnapshotFleet(context.Background())
		require.NoError(t, err)
	}
	set(7, 3)
	require.Empty(t, f.alertsOf("fleet_score_drop", nil))
	set(55, 45)
	items := f.alertsOf("fleet_score_drop", nil)
	require.Len(t, items, 1)
	require.EqualValues(t, 30, (*items[0].Tags)["drop_points"])
	require.Equal(t, api.Severity("high"), items[0].Severity)
}
