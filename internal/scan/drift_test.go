package scan_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
)

// TestComplianceDrift: a rule going pass → fail on a host raises one compliance_drift
// alert for the host and rule (the rule's severity, the scan in its tags); the rule
// passing again resolves it.
func TestComplianceDrift(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "127.0.0.1")
	id := f.host("drifting")
	f.rootRun(`sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\t30/' /etc/login.defs`)
	first := f.wait(f.startScan(id, nil).Id)
	require.Equal(t, api.ScanStatusCompleted, first.Status, "%v", first.Error)
	alerts := func() []api.Alert {
		t.Helper()
		res := f.do(f.admin, http.MethodGet, "alerts?host_id="+id.String(), nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var p api.AlertsPage
		res.Decode(t, &p)
		var drift []api.Alert // the host's scores raise score_drop alerts of their own
		for _, a := range p.Items {
			if a.AlertType == "compliance_drift" {
				drift = append(drift, a)
			}
		}
		return drift
	}
	require.Empty(t, alerts(), "a first scan is no drift")

	f.rootRun(`sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\t99999/' /etc/login.defs`)
	second := f.wait(f.startScan(id, nil).Id)
	require.Equal(t, api.ScanStatusCompleted, second.Status, "%v", second.Error)
	items := alerts()
	require.Len(t, items, 1)
	a := items[0]
	require.Equal(t, "compliance_drift", a.AlertType)
	require.Equal(t, "compliance_drift:"+id.String()+":"+maxDaysRule, a.DedupKey)
	require.Equal(t, maxDaysRule, *a.RuleId)
	require.Equal(t, api.AlertState("active"), a.State)
	ev := f.evidence(second.Id, maxDaysRule)
	require.Equal(t, string(ev.Severity), string(a.Severity), "the rule's severity")
	require.Equal(t, second.Id.String(), (*a.Tags)["scan_id"])
	require.Equal(t, "pass", (*a.Tags)["previous_status"])

	f.rootRun(`sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\t30/' /etc/login.defs`)
	third := f.wait(f.startScan(id, nil).Id)
	require.Equal(t, api.ScanStatusCompleted, third.Status, "%v", third.Error)
	items = alerts()
	require.Len(t, items, 1)
	require.Equal(t, api.AlertState("resolved"), items[0].State)
	require.Nil(t, items[0].ResolvedBy, "resolved by the system")
}
