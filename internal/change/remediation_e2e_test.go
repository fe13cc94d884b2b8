package change_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

const maxDaysRule = "login-defs-pass-max-days"

// scanRule scans one rule of a host and returns its result once the scan ends.
func (f *fixture) scanRule(host uuid.UUID, ruleID string) api.RuleEvidence {
	f.t.Helper()
	res := f.do(f.admin, http.MethodPost, "hosts/"+host.String()+"/scans", map[string]any{"rule_ids": []string{ruleID}})
	require.Equal(f.t, http.StatusAccepted, res.Status, "%s", res.Body)
	var sc api.Scan
	res.Decode(f.t, &sc)
	return f.ruleResult(sc.Id, ruleID)
}

// ruleResult waits for a scan to end and returns its result of a rule.
func (f *fixture) ruleResult(scanID uuid.UUID, ruleID string) api.RuleEvidence {
	f.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		res := f.do(f.admin, http.MethodGet, "scans/"+scanID.String(), nil)
		require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
		var sc api.Scan
		res.Decode(f.t, &sc)
		if sc.Status == api.ScanStatusCompleted {
			break
		}
		require.NotEqual(f.t, api.ScanStatusFailed, sc.Status)
		require.True(f.t, time.Now().Before(deadline), "scan %s still %s", scanID, sc.Status)
		time.Sleep(50 * time.Millisecond)
	}
	res := f.do(f.admin, http.MethodGet, "scans/"+scanID.String()+"/rules/"+ruleID+"/evidence", nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var ev api.RuleEvidence
	res.Decode(f.t, &ev)
	return ev
}

func (f *fixture) waitRemediation(id uuid.UUID, done func(api.ChangeJob) bool) api.ChangeJob {
	f.t.Helper()
	return f.waitPath("remediation/requests/"+id.String(), done)
}

func (f *fixture) remediationHost(id uuid.UUID) api.ChangeJobHost {
	f.t.Helper()
	res := f.do(f.admin, http.MethodGet, "remediation/requests/"+id.String()+"/hosts", nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var l api.ChangeJobHostList
	res.Decode(f.t, &l)
	require.Len(f.t, l.Items, 1)
	return l.Items[0]
}

func (f *fixture) remediationSteps(id uuid.UUID, phase string) []api.ChangeStep {
	f.t.Helper()
	res := f.do(f.admin, http.MethodGet, "remediation/requests/"+id.String()+"/steps?limit=1000&phase="+phase, nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var p api.ChangeStepPage
	res.Decode(f.t, &p)
	return p.Items
}

// TestRemediationEndToEnd remediates a rule that fails on a namespaced target: request →
// approval by a second person → plan → dry run (the diff, no change) → execute → the
// re-scan passes → rollback → the rule fails again, each step with its evidence.
func TestRemediationEndToEnd(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(d *app.Deps) { d.ChangePlanners = nil })
	host, srv := f.target("remediate-me")
	read := func() string {
		c := srv.Dial(t, sshtest.UserRoot)
		defer c.Close()
		res, err := c.Run(t.Context(), "cat /etc/login.defs")
		require.NoError(t, err)
		return string(res.Stdout)
	}
	c := srv.Dial(t, sshtest.UserRoot)
	_, err := c.Run(t.Context(), `sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\t99999/' /etc/login.defs`)
	require.NoError(t, err)
	before := read()
	require.Equal(t, api.ResultStatusFail, f.scanRule(host, maxDaysRule).Status)
	approver := f.env.Login("approver", f.env.CreateUser("approver", "admin"))

	res := f.do(f.admin, http.MethodPost, "remediation/requests", map[string]any{"host_ids": []uuid.UUID{host},
		"rule_ids": []string{maxDaysRule}, "reason": "CIS 5.4.1.1", "ignore_windows": true, "override_reason": "test target"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var j api.ChangeJob
	res.Decode(t, &j)
	id := j.Id
	require.Equal(t, api.ChangeJobStatusPendingApproval, j.Status)
	require.Equal(t, []string{maxDaysRule}, *j.RuleIds)

	// The plan before any host is probed: the rule's mechanism and its exact change.
	res = f.do(f.admin, http.MethodGet, "remediation/requests/"+id.String()+"/plan", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var plan api.RemediationPlan
	res.Decode(t, &plan)
	require.Len(t, plan.Rules, 1)
	require.True(t, plan.Rules[0].Automatic)
	require.Equal(t, "config_set", plan.Rules[0].Implementations[0].Mechanism)
	require.Contains(t, plan.Rules[0].Implementations[0].Actions[0].Summary, "/etc/login.defs")

	// Nothing runs before approval; the requester cannot approve.
	res = f.do(f.admin, http.MethodPost, "remediation/requests/"+id.String()+":execute", nil)
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	res = f.do(f.admin, http.MethodPost, "remediation/requests/"+id.String()+":approve", map[string]any{"reason": "self"})
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	res = f.do(approver, http.MethodPost, "remediation/requests/"+id.String()+":approve", map[string]any{"reason": "reviewed the plan"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &j)
	require.Equal(t, api.ChangeJobStatusApproved, j.Status, "an approved request waits for execute")

	// The dry run shows the diff and changes nothing.
	res = f.do(f.admin, http.MethodPost, "remediation/requests/"+id.String()+":dry-run", nil)
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	var dry []api.ChangeStep
	require.Eventually(t, func() bool {
		dry = f.remediationSteps(id, "dry_run")
		for _, st := range dry {
			if st.Name[:6] == "would " {
				return true
			}
		}
		return false
	}, time.Minute, 100*time.Millisecond)
	diff := ""
	for _, st := range dry {
		if st.Name[:6] == "would " {
			diff = st.Stdout
			require.True(t, st.Ok, "%s", st.Stderr)
		}
	}
	require.Contains(t, diff, "-PASS_MAX_DAYS")
	require.Contains(t, diff, "+PASS_MAX_DAYS")
	require.Equal(t, before, read(), "the dry run changed nothing")
	h := f.remediationHost(id)
	require.Len(t, h.Actions, 1, "the host's exact actions are fixed by the dry run's probe")
	require.Equal(t, api.ChangeHostStatusPending, h.Status)

	// Execute: the host is changed and its rule re-scanned.
	res = f.do(f.admin, http.MethodPost, "remediation/requests/"+id.String()+":execute", nil)
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	j = f.waitRemediation(id, func(j api.ChangeJob) bool { return j.Status != api.ChangeJobStatusRunning })
	require.Equal(t, api.ChangeJobStatusCompleted, j.Status)
	h = f.remediationHost(id)
	require.Equal(t, api.ChangeHostStatusSucceeded, h.Status, "%v", h.Error)
	require.NotEqual(t, before, read())
	require.NotNil(t, h.ScanId, "the re-scan is linked")
	ev := f.ruleResult(*h.ScanId, maxDaysRule)
	require.Equal(t, api.ResultStatusPass, ev.Status, ev.Reason)
	require.NotEmpty(t, f.remediationSteps(id, "capture"))
	require.NotEmpty(t, f.remediationSteps(id, "apply"))

	// Rollback: the captured file comes back, and the rule fails again.
	res = f.do(f.admin, http.MethodPost, "remediation/requests/"+id.String()+":rollback", map[string]any{"reason": "undo"})
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	j = f.waitRemediation(id, func(j api.ChangeJob) bool { return j.Status != api.ChangeJobStatusRollingBack })
	require.Equal(t, api.ChangeJobStatusRolledBack, j.Status)
	require.Equal(t, before, read(), "byte-identical after the rollback")
	h = f.remediationHost(id)
	require.Equal(t, api.ChangeHostStatusRolledBack, h.Status)
	require.NotNil(t, h.RollbackScanId)
	require.Equal(t, api.ResultStatusFail, f.ruleResult(*h.RollbackScanId, maxDaysRule).Status)
	require.NotEmpty(t, f.remediationSteps(id, "rollback"))
}
