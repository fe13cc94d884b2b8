package scan_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// fixture is a running application, an admin session and a real sshd on loopback whose
// /etc is a throwaway overlay (a test may change it; this machine's /etc stays as it is).
type fixture struct {
	t     testing.TB
	env   *apitest.Env
	admin apitest.Session
	srv   *sshtest.Server
}

func newFixture(t *testing.T, addr string, opts ...apitest.Option) *fixture {
	t.Helper()
	env := apitest.New(t, opts...)
	return &fixture{t: t, env: env, admin: env.Admin(), srv: sshtest.Start(t, sshtest.Options{Addr: addr, Overlay: []string{"/etc"}})}
}

// noWorker builds an insert-only application: scans stay queued.
func noWorker(d *app.Deps) { d.Config.Worker.WithWorker = false }

var idemSeq atomic.Int64

func (f *fixture) do(s apitest.Session, method, path string, body any) *apitest.Response {
	f.t.Helper()
	req := apitest.Request{Method: method, Path: path, Token: s.AccessToken, JSON: body}
	if method == http.MethodPost {
		req.Headers = map[string]string{"Idempotency-Key": fmt.Sprintf("scan-%d", idemSeq.Add(1))}
	}
	return f.env.Do(req)
}

// host registers a host at the fixture's sshd with a root key credential.
func (f *fixture) host(name string) uuid.UUID {
	f.t.Helper()
	res := f.do(f.admin, http.MethodPost, "hosts", map[string]any{"hostname": name, "ip_address": f.srv.Host, "port": f.srv.Port})
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(f.t, &h)
	u := f.srv.User(sshtest.UserRoot)
	res = f.do(f.admin, http.MethodPost, "credentials", map[string]any{"scope": "host", "scope_id": h.Id, "name": "cred-" + name,
		"username": u.Name, "auth_method": "ssh_key", "private_key": string(u.PrivateKey)})
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
	return h.Id
}

func (f *fixture) startScan(hostID uuid.UUID, body any) api.Scan {
	f.t.Helper()
	res := f.do(f.admin, http.MethodPost, "hosts/"+hostID.String()+"/scans", body)
	require.Equal(f.t, http.StatusAccepted, res.Status, "%s", res.Body)
	var sc api.Scan
	res.Decode(f.t, &sc)
	return sc
}

// wait polls a scan until it ends.
func (f *fixture) wait(id uuid.UUID) api.Scan {
	f.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		res := f.do(f.admin, http.MethodGet, "scans/"+id.String(), nil)
		require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
		var sc api.Scan
		res.Decode(f.t, &sc)
		switch sc.Status {
		case api.ScanStatusCompleted, api.ScanStatusFailed, api.ScanStatusCancelled:
			return sc
		}
		require.True(f.t, time.Now().Before(deadline), "scan %s still %s", id, sc.Status)
		time.Sleep(50 * time.Millisecond)
	}
}

func (f *fixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	require.NoError(f.t, f.env.App.Pool.QueryRow(context.Background(), query, args...).Scan(&n))
	return n
}

func (f *fixture) evidence(scanID uuid.UUID, ruleID string) api.RuleEvidence {
	f.t.Helper()
	res := f.do(f.admin, http.MethodGet, "scans/"+scanID.String()+"/rules/"+ruleID+"/evidence", nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var ev api.RuleEvidence
	res.Decode(f.t, &ev)
	return ev
}

// rootRun runs a command as root on the target, inside its overlay.
func (f *fixture) rootRun(script string) {
	f.t.Helper()
	c := f.srv.Dial(f.t, sshtest.UserRoot)
	res, err := c.Run(context.Background(), script)
	require.NoError(f.t, err)
	require.Equal(f.t, 0, res.ExitCode, "%s%s", res.Stdout, res.Stderr)
}

const maxDaysRule = "login-defs-pass-max-days"

// TestScanThroughTheAPI scans the Debian target through the API twice, with a change made
// on the target in between: the first scan evaluates the corpus in one session; the change
// shows as one state_changed transition with the evidence of each side; unchanged results
// write nothing new; the rollups follow.
func TestScanThroughTheAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "127.0.0.1")
	id := f.host("scanned")
	f.rootRun(`sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\t99999/' /etc/login.defs`)

	first := f.wait(f.startScan(id, nil).Id)
	require.Equal(t, api.ScanStatusCompleted, first.Status, "%v", first.Error)
	require.Equal(t, 1, first.Sessions)
	require.Equal(t, "root", first.Privilege)
	require.Equal(t, "debian", first.Platform.Family)
	c := first.Counts
	require.Equal(t, first.RulesTotal, c.Pass+c.Fail+c.Skipped+c.Error)
	require.Positive(t, c.Pass)
	require.Positive(t, c.Fail)
	require.Equal(t, first.RulesTotal, first.Changed, "every result is new")
	require.Equal(t, first.Progress.RecordsTotal, first.Progress.RecordsDone)
	t.Logf("first scan: %d rules, %+v in %d ms", first.RulesTotal, c, *first.DurationMs)

	ev := f.evidence(first.Id, maxDaysRule)
	require.Equal(t, api.ResultStatusFail, ev.Status)
	require.NotNil(t, ev.Evidence)
	require.Equal(t, "config_value", ev.Evidence.Method)
	require.Equal(t, "<= 60", ev.Evidence.Expected)
	require.Contains(t, ev.Evidence.Actual, "99999")
	require.Equal(t, map[string]string{"login_defs_pass_max_days": "60"}, ev.Evidence.Variables)
	require.NotEmpty(t, ev.Evidence.Commands)
	require.Contains(t, ev.Evidence.Commands[0], "/etc/login.defs")
	require.Contains(t, ev.Evidence.Output, "PASS_MAX_DAYS")

	// The fleet score as of the first scan, which the second must replace (the cache of
	// the summaries hears of every stored scan).
	var score api.FleetScore
	scoreRes := f.do(f.admin, http.MethodGet, "fleet/score", nil)
	require.Equal(t, http.StatusOK, scoreRes.Status, "%s", scoreRes.Body)
	scoreRes.Decode(t, &score)
	require.InDelta(t, float64(c.Pass)/float64(c.Pass+c.Fail), score.PassingFraction, 1e-9)

	// The change, made on the target as a remediation would, and a site value for the
	// rule's variable.
	f.rootRun(`sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\t30/' /etc/login.defs`)
	res := f.do(f.admin, http.MethodPut, "system/scan/variables", map[string]any{"values": map[string]any{"login_defs_pass_max_days": "45"}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	second := f.wait(f.startScan(id, nil).Id)
	require.Equal(t, api.ScanStatusCompleted, second.Status, "%v", second.Error)
	require.Equal(t, first.RulesTotal, second.RulesTotal)
	require.Equal(t, 1, second.Changed, "only the changed rule changed")
	require.Equal(t, first.Counts.Pass+1, second.Counts.Pass)
	require.Equal(t, first.Counts.Fail-1, second.Counts.Fail)

	require.Equal(t, 1, f.count(`SELECT count(*) FROM rule_transitions WHERE host_id = $1 AND rule_id = $2 AND change_kind = 'state_changed'`, id, maxDaysRule))
	require.Equal(t, 1, f.count(`SELECT count(*) FROM rule_transitions WHERE scan_id = $1`, second.Id), "nothing else was written")
	require.Equal(t, first.RulesTotal, f.count(`SELECT count(*) FROM rule_states WHERE host_id = $1`, id))

	// Each scan's evidence is what it found then.
	before, after := f.evidence(first.Id, maxDaysRule), f.evidence(second.Id, maxDaysRule)
	require.Equal(t, api.ResultStatusFail, before.Status)
	require.Contains(t, before.Evidence.Actual, "99999")
	require.Equal(t, api.ResultStatusPass, after.Status)
	require.Equal(t, "30", after.Evidence.Actual)
	require.Equal(t, "<= 45", after.Evidence.Expected)
	require.Equal(t, map[string]string{"login_defs_pass_max_days": "45"}, after.Evidence.Variables)
	require.Equal(t, second.Id, after.ScanId)

	// Unchanged rules keep the evidence of the first scan, stored once.
	other := f.evidence(second.Id, "ssh-disable-root-login")
	require.Equal(t, other.RecordedAt, f.evidence(first.Id, "ssh-disable-root-login").RecordedAt)

	// Results pages, filters and the rollups.
	res = f.do(f.admin, http.MethodGet, "scans/"+second.Id.String()+"/results?status=pass&limit=200", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var page api.ScanResultPage
	res.Decode(t, &page)
	require.Len(t, page.Items, min(200, second.Counts.Pass))
	var all []api.ScanResult
	cursor := ""
	for {
		path := "scans/" + second.Id.String() + "/results?limit=97"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		res := f.do(f.admin, http.MethodGet, path, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var p api.ScanResultPage
		res.Decode(t, &p)
		all = append(all, p.Items...)
		if p.NextCursor == nil {
			break
		}
		cursor = *p.NextCursor
	}
	require.Len(t, all, second.RulesTotal)
	for i := 1; i < len(all); i++ {
		require.Less(t, all[i-1].RuleId, all[i].RuleId)
	}
	require.Equal(t, second.Counts.Pass, f.count(`SELECT pass_count FROM host_compliance WHERE host_id = $1 AND framework = 'all'`, id))
	require.Equal(t, second.Counts.Fail, f.count(`SELECT sum(fail_count)::int FROM fleet_compliance WHERE framework = 'all'`))
	require.Equal(t, second.Counts.Fail, f.count(`SELECT sum(fail_hosts)::int FROM rule_fleet`))

	want := float64(second.Counts.Pass) / float64(second.Counts.Pass+second.Counts.Fail)
	require.Eventually(t, func() bool {
		res := f.do(f.admin, http.MethodGet, "fleet/score", nil)
		var s api.FleetScore
		res.Decode(t, &s)
		return s.PassingFraction == want
	}, 10*time.Second, 20*time.Millisecond, "the cached fleet score never followed the second scan")
	f.checkPosture(id, first, second)
}

// checkPosture reads the host and fleet summaries after the two scans of
// TestScanThroughTheAPI, now and as of the first scan's end.
func (f *fixture) checkPosture(id uuid.UUID, first, second api.Scan) {
	t := f.t
	get := func(path string, v any) {
		t.Helper()
		res := f.do(f.admin, http.MethodGet, path, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s: %s", path, res.Body)
		res.Decode(t, v)
	}
	asOf := "as_of=" + first.FinishedAt.UTC().Format(time.RFC3339Nano)

	var detail api.HostDetailResponse
	get("hosts/"+id.String(), &detail)
	sum := detail.ComplianceSummary
	require.Equal(t, int64(second.Counts.Pass), sum.Passing)
	require.Equal(t, int64(second.Counts.Fail), sum.Failing)
	require.Equal(t, int64(second.Counts.Skipped), sum.Skipped)
	require.Equal(t, int64(second.RulesTotal), sum.Total)
	get("hosts/"+id.String()+"?framework=cis-ubuntu22", &detail)
	require.Positive(t, detail.ComplianceSummary.Total)
	require.Less(t, detail.ComplianceSummary.Total, sum.Total)
	res := f.do(f.admin, http.MethodGet, "hosts/"+id.String()+"?framework=cis-windows", nil)
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	require.Equal(t, "framework", res.Err(t).Error.Detail["field"])

	fraction := func(c api.ResultCounts) float64 { return float64(c.Pass) / float64(c.Pass+c.Fail) }
	var score api.FleetScore
	get("fleet/score", &score)
	require.InDelta(t, fraction(second.Counts), score.PassingFraction, 1e-9)
	require.Equal(t, int64(second.RulesTotal), score.TotalEvaluations)
	get("fleet/score?"+asOf, &score)
	require.InDelta(t, fraction(first.Counts), score.PassingFraction, 1e-9, "as of the first scan")
	get("fleet/score?as_of=2001-01-01T00:00:00Z", &score)
	require.Zero(t, score.TotalEvaluations, "before any scan")
	res = f.do(f.admin, http.MethodGet, "fleet/score?framework=nope", nil)
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)

	failingNow := func(path string) map[string]int64 {
		var rules api.FleetTopFailingRules
		get(path, &rules)
		out := map[string]int64{}
		for _, r := range rules.Items {
			out[r.RuleId] = r.FailingHostCount
		}
		return out
	}
	now := failingNow("fleet/top-failing-rules?limit=1000")
	require.Len(t, now, second.Counts.Fail)
	require.NotContains(t, now, maxDaysRule)
	then := failingNow("fleet/top-failing-rules?limit=1000&" + asOf)
	require.Len(t, then, first.Counts.Fail)
	require.Equal(t, int64(1), then[maxDaysRule])

	var hosts api.FleetTopFailingHosts
	get("fleet/top-failing-hosts", &hosts)
	require.Equal(t, []api.FleetHostFailure{{HostId: id, FailingRuleCount: int64(second.Counts.Fail)}}, hosts.Items)
	get("fleet/top-failing-hosts?"+asOf, &hosts)
	require.Equal(t, int64(first.Counts.Fail), hosts.Items[0].FailingRuleCount)

	var changes api.FleetRecentChanges
	get("fleet/recent-changes?limit=5", &changes)
	require.Len(t, changes.Items, 5)
	newest := changes.Items[0]
	require.Equal(t, maxDaysRule, newest.RuleId)
	require.Equal(t, api.StateChanged, newest.ChangeKind)
	require.Equal(t, api.ResultStatusPass, newest.Status)
	get("fleet/recent-changes?limit=1000&"+asOf, &changes)
	require.Len(t, changes.Items, first.RulesTotal)
	for _, c := range changes.Items {
		require.Equal(t, api.FirstSeen, c.ChangeKind)
	}
	get("fleet/recent-changes?framework=cis-ubuntu22&limit=1000", &changes)
	require.Less(t, len(changes.Items), first.RulesTotal+1)
}

// TestScanRequests covers what a request may get wrong and cancellation, with no worker
// running the scans.
func TestScanRequests(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "127.0.0.2", noWorker)
	id := f.host("queued")
	viewer := f.env.Login("viewer", f.env.CreateUser("viewer", authz.RoleViewer))
	path := "hosts/" + id.String() + "/scans"

	for _, tc := range []struct {
		body  any
		field string
	}{
		{map[string]any{"framework": "cis-windows"}, "framework"},
		{map[string]any{"rule_ids": []string{"ssh-disable-root-login", "no-such-rule"}}, "rule_ids"},
		{map[string]any{"framework": "all", "rule_ids": []string{"ssh-disable-root-login"}}, "rule_ids"},
	} {
		res := f.do(f.admin, http.MethodPost, path, tc.body)
		require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
		require.Equal(t, tc.field, res.Err(t).Error.Detail["field"], "%s", res.Body)
	}
	res := f.do(f.admin, http.MethodPost, "hosts/"+uuid.NewString()+"/scans", nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
	res = f.do(viewer, http.MethodPost, path, nil)
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)

	queued := f.startScan(id, map[string]any{"framework": "cis-ubuntu22"})
	require.Equal(t, api.ScanStatusQueued, queued.Status)
	require.Equal(t, "cis-ubuntu22", *queued.Framework)
	res = f.do(f.admin, http.MethodPost, path, nil)
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	e := res.Err(t)
	require.Equal(t, "scan.in_progress", e.Error.Code)
	require.Equal(t, queued.Id.String(), e.Error.Detail["scan_id"])

	// The viewer may read scans but not cancel them.
	res = f.do(viewer, http.MethodGet, "scans?host_id="+id.String(), nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var list api.ScanPage
	res.Decode(t, &list)
	require.Len(t, list.Items, 1)
	res = f.do(viewer, http.MethodPost, "scans/"+queued.Id.String()+":cancel", nil)
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)

	res = f.do(f.admin, http.MethodPost, "scans/"+queued.Id.String()+":cancel", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var cancelled api.Scan
	res.Decode(t, &cancelled)
	require.Equal(t, api.ScanStatusCancelled, cancelled.Status)
	res = f.do(f.admin, http.MethodPost, "scans/"+queued.Id.String()+":cancel", nil)
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	require.Equal(t, 1, f.count(`SELECT count(*) FROM audit_events WHERE action = 'scan.cancelled' AND resource_id = $1`, queued.Id.String()))
	require.Equal(t, 1, f.count(`SELECT count(*) FROM audit_events WHERE action = 'scan.requested' AND resource_id = $1`, queued.Id.String()))

	// Once cancelled, the host may be scanned again; a cancelled scan has no results.
	again := f.startScan(id, map[string]any{"rule_ids": []string{"ssh-disable-root-login"}})
	require.Equal(t, []string{"ssh-disable-root-login"}, *again.RuleIds)
	res = f.do(f.admin, http.MethodGet, "scans/"+queued.Id.String()+"/results", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var results api.ScanResultPage
	res.Decode(t, &results)
	require.Empty(t, results.Items)
	res = f.do(f.admin, http.MethodGet, "scans/"+queued.Id.String()+"/results?framework=nope", nil)
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	require.True(t, strings.Contains(string(res.Body), "framework"))
	res = f.do(f.admin, http.MethodGet, "scans/"+uuid.NewString(), nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
}

// TestScanVariables: the installation's values of rule variables, read and set.
func TestScanVariables(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, noWorker)
	f := &fixture{t: t, env: env, admin: env.Admin()}
	viewer := env.Login("viewer", env.CreateUser("viewer", authz.RoleViewer))

	get := func(s apitest.Session) map[string]api.ScanVariable {
		res := f.do(s, http.MethodGet, "system/scan/variables", nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var vars api.ScanVariables
		res.Decode(t, &vars)
		out := map[string]api.ScanVariable{}
		for _, v := range vars.Items {
			out[v.Name] = v
		}
		return out
	}
	vars := get(viewer)
	maxDays := vars["login_defs_pass_max_days"]
	require.Equal(t, "60", *maxDays.Default)
	require.Nil(t, maxDays.Value)
	require.Contains(t, maxDays.Rules, maxDaysRule)
	require.Nil(t, vars["banner_text"].Default, "a site-defined variable has no default")

	res := f.do(viewer, http.MethodPut, "system/scan/variables", map[string]any{"values": map[string]any{"login_defs_pass_max_days": "30"}})
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	res = f.do(f.admin, http.MethodPut, "system/scan/variables", map[string]any{"values": map[string]any{"login_defs_pass_max_days": "30", "nope": "1"}})
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	require.Equal(t, "values.nope", res.Err(t).Error.Detail["field"])
	require.Nil(t, get(f.admin)["login_defs_pass_max_days"].Value, "a refused change changes nothing")

	banner := "Authorized use only."
	res = f.do(f.admin, http.MethodPut, "system/scan/variables", map[string]any{"values": map[string]any{"login_defs_pass_max_days": "30", "banner_text": banner}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	vars = get(f.admin)
	require.Equal(t, "30", *vars["login_defs_pass_max_days"].Value)
	require.Equal(t, banner, *vars["banner_text"].Value)
	res = f.do(f.admin, http.MethodPut, "system/scan/variables", map[string]any{"values": map[string]any{"login_defs_pass_max_days": nil}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.Nil(t, get(f.admin)["login_defs_pass_max_days"].Value, "null clears the value")
	require.Equal(t, 2, f.count(`SELECT count(*) FROM audit_events WHERE action = 'system.scan_variables_changed'`))

	// The rule shows the value scans use.
	res = f.do(viewer, http.MethodGet, "rules/issue-net-configured", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var d api.RuleDetail
	res.Decode(t, &d)
	require.Len(t, d.Variables, 1)
	require.Equal(t, "banner_text", d.Variables[0].Name)
	require.Equal(t, banner, *d.Variables[0].Value)
}

// TestRulesAndFrameworks browses the corpus through the API.
func TestRulesAndFrameworks(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, noWorker)
	f := &fixture{t: t, env: env, admin: env.Admin()}
	viewer := env.Login("viewer", env.CreateUser("viewer", authz.RoleViewer))

	res := f.do(viewer, http.MethodGet, "compliance/frameworks", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var fws api.FrameworkList
	res.Decode(t, &fws)
	byID := map[string]api.Framework{}
	for _, fw := range fws.Items {
		byID[fw.Id] = fw
	}
	all := byID["all"]
	require.GreaterOrEqual(t, all.RuleCount, 400)
	require.GreaterOrEqual(t, all.Platforms.Debian, 220)
	cis := byID["cis-ubuntu22"]
	require.Equal(t, "cis", cis.Family)
	require.Equal(t, "ubuntu22", *cis.Benchmark)
	require.Positive(t, cis.RuleCount)
	require.LessOrEqual(t, cis.Platforms.Ubuntu, cis.RuleCount)
	require.Contains(t, byID, "nist-800-53")

	// Every rule, page by page, in id order.
	var ids []string
	cursor := ""
	for {
		path := "rules?limit=200"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		res := f.do(viewer, http.MethodGet, path, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var page api.RulePage
		res.Decode(t, &page)
		for _, r := range page.Items {
			ids = append(ids, r.Id)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	require.Len(t, ids, all.RuleCount)
	require.True(t, slices.IsSorted(ids))

	res = f.do(viewer, http.MethodGet, "rules?framework=cis-ubuntu22&severity=high&platform=debian-12&q=ssh+root&limit=200", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var page api.RulePage
	res.Decode(t, &page)
	require.NotEmpty(t, page.Items)
	for _, r := range page.Items {
		require.Equal(t, api.RuleSeverityHigh, r.Severity)
		require.Contains(t, r.Frameworks, "cis-ubuntu22")
	}
	require.Contains(t, ruleIDs(page.Items), "ssh-disable-root-login")

	res = f.do(viewer, http.MethodGet, "rules?framework=cis-windows", nil)
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	res = f.do(viewer, http.MethodGet, "rules?platform=windows", nil)
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)

	res = f.do(viewer, http.MethodGet, "rules/ssh-disable-root-login", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var d api.RuleDetail
	res.Decode(t, &d)
	require.NotEmpty(t, d.Rationale)
	require.Len(t, d.Implementations, 2)
	require.Equal(t, "sshd_config_d", *d.Implementations[0].When)
	require.Nil(t, d.Implementations[1].When)
	require.Equal(t, "sshd_effective_config", d.Implementations[0].Check["method"])
	require.Equal(t, "permitrootlogin", d.Implementations[0].Check["key"])
	cisRefs := d.References["cis"].(map[string]any)
	require.Contains(t, cisRefs, "ubuntu22")
	res = f.do(viewer, http.MethodGet, "rules/no-such-rule", nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
}

func ruleIDs(items []api.RuleSummary) []string {
	out := make([]string, len(items))
	for i, r := range items {
		out[i] = r.Id
	}
	return out
}
