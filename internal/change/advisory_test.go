package change_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
)

// exceptedHosts stands in for vulnerability exceptions, which the change service asks
// about through Deps.VulnExcepted: the hosts it holds are excepted from every advisory.
type exceptedHosts struct {
	mu    sync.Mutex
	hosts map[uuid.UUID]bool
	asked [][]string
}

func (e *exceptedHosts) check(_ context.Context, advisories []string, hosts []uuid.UUID) (map[uuid.UUID]bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.asked = append(e.asked, advisories)
	out := map[uuid.UUID]bool{}
	for _, h := range hosts {
		if e.hosts[h] {
			out[h] = true
		}
	}
	return out, nil
}

// TestPatchJobFromAdvisory: the plan and the patch job of a CVE (named by alias, so two
// advisories) target exactly the live exposed hosts with an installable fix and no
// exception, and upgrade exactly the installed binaries of the affected packages; the job
// goes through approval like any patch job and names the advisories in its reason and
// audit event. No host to patch is a 409, an unknown advisory a 404, bad input a 400, and
// a caller without vulnerability:read or patch:request a 403.
func TestPatchJobFromAdvisory(t *testing.T) {
	t.Parallel()
	exc := &exceptedHosts{hosts: map[uuid.UUID]bool{}}
	env := apitest.New(t, func(d *app.Deps) { d.ChangeVulnExcepted = exc.check })
	admin := env.Admin()
	ctx := context.Background()
	now := time.Now().UTC()
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := env.App.Pool.Exec(ctx, sql, args...)
		require.NoError(t, err, sql)
	}
	host := func(name string) uuid.UUID {
		id := uuid.New()
		exec(`INSERT INTO hosts (id, hostname, ip_address, environment) VALUES ($1, $2, '127.0.0.1', 'production')`, id, name)
		return id
	}
	a, b, c, d, gone := host("alpha"), host("bravo"), host("charlie"), host("delta"), host("echo")
	exec(`UPDATE hosts SET deleted_at = now() WHERE id = $1`, gone)
	exc.hosts[c] = true
	for _, adv := range []struct{ id, alias string }{{"DSA-1-1", "CVE-2026-1"}, {"DLA-1-1", "CVE-2026-1"}, {"DSA-2-1", "CVE-2026-2"},
		{"DSA-3-1", "CVE-2026-3"}} {
		exec(`INSERT INTO vuln_advisories (id, aliases, severity, modified, source, imported_at, updated_at)
			VALUES ($1, ARRAY[$2], 'high', $3, 'debian-test', $3, $3)`, adv.id, adv.alias, now)
	}
	fix := "3.0.15-1"
	expose := func(h uuid.UUID, adv, pkg string, binaries []string, fixed *string) {
		t.Helper()
		exec(`INSERT INTO vuln_exposures (host_id, advisory_id, package, release, installed_version, binaries, fixed_version,
			first_seen, updated_at) VALUES ($1, $2, $3, 'Debian:12', '3.0.11-1', $4, $5, $6, $6)`, h, adv, pkg, binaries, fixed, now)
	}
	expose(a, "DSA-1-1", "openssl", []string{"libssl3", "openssl"}, &fix)
	expose(a, "DSA-2-1", "zlib", []string{"zlib1g"}, &fix) // another advisory: not in the job
	expose(b, "DSA-1-1", "openssl", []string{"libssl3"}, nil)
	expose(c, "DSA-1-1", "openssl", []string{"libssl3"}, &fix)
	expose(d, "DLA-1-1", "openssl", []string{"libssl3", "openssl-provider-legacy"}, &fix)
	expose(gone, "DSA-1-1", "openssl", []string{"openssl"}, &fix)
	expose(b, "DSA-3-1", "curl", []string{"curl"}, nil)
	exec(`INSERT INTO vuln_exposures (host_id, advisory_id, package, release, installed_version, binaries, fixed_version,
		first_seen, updated_at, resolved_at, resolution) VALUES ($1, 'DSA-1-1', 'gnutls28', 'Debian:12', '1', ARRAY['libgnutls30'],
		'2', $2, $2, $2, 'fixed')`, d, now)

	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "vulnerabilities/CVE-2026-1/patch-plan", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var plan api.VulnerabilityPatchPlan
	res.Decode(t, &plan)
	require.Equal(t, "CVE-2026-1", plan.VulnerabilityId)
	require.Equal(t, []string{"DLA-1-1", "DSA-1-1"}, plan.AdvisoryIds)
	require.Equal(t, []string{"libssl3", "openssl", "openssl-provider-legacy"}, plan.Packages)
	names := func(hs []api.VulnerabilityPatchHost) map[string]string {
		out := map[string]string{}
		for _, h := range hs {
			r := ""
			if h.Reason != nil {
				r = string(*h.Reason)
			}
			out[h.Hostname] = r
		}
		return out
	}
	require.Equal(t, map[string]string{"alpha": "", "delta": ""}, names(plan.Hosts))
	require.Equal(t, map[string]string{"bravo": "no_fix", "charlie": "excepted"}, names(plan.Excluded))
	require.Len(t, plan.Hosts[0].Packages, 1, "alpha's zlib exposure is another advisory's")
	require.Equal(t, api.VulnerabilityPatchPackage{AdvisoryId: "DSA-1-1", Package: "openssl", Binaries: []string{"libssl3", "openssl"},
		InstalledVersion: "3.0.11-1", FixedVersion: &fix}, plan.Hosts[0].Packages[0])

	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "vulnerabilities/CVE-2026-1:patch", Token: admin.AccessToken,
		JSON: map[string]any{"reason": "monthly", "waves": map[string]any{"canary": 1}}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var j api.ChangeJob
	res.Decode(t, &j)
	require.Equal(t, api.ChangeJobStatusPendingApproval, j.Status, "production hosts need approval: nothing bypasses it")
	require.Equal(t, "Advisory DLA-1-1, DSA-1-1 (CVE-2026-1): monthly", j.Reason)
	require.Equal(t, "Patch CVE-2026-1 on 2 hosts", j.Name)
	hostNames := append([]string(nil), j.HostNames...)
	sort.Strings(hostNames)
	require.Equal(t, []string{"alpha", "delta"}, hostNames)
	require.NotNil(t, j.Patch)
	require.Equal(t, api.PatchSpecMode("packages"), j.Patch.Mode)
	var ops []string
	for _, p := range *j.Patch.Packages {
		require.Equal(t, api.PatchPackageOpOp("upgrade"), p.Op)
		require.Nil(t, p.Version, "the newest available version, at least the fixed one")
		ops = append(ops, p.Name)
	}
	require.Equal(t, []string{"libssl3", "openssl", "openssl-provider-legacy"}, ops)
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "jobs/" + j.Id.String() + "/hosts", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var jh api.ChangeJobHostList
	res.Decode(t, &jh)
	got := map[uuid.UUID]bool{}
	for _, h := range jh.Items {
		got[h.HostId] = true
	}
	require.Equal(t, map[uuid.UUID]bool{a: true, d: true}, got)
	var detail []byte
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT detail FROM audit_events WHERE action = 'change_job.requested'
		AND resource_id = $1`, j.Id.String()).Scan(&detail))
	var det struct {
		AdvisoryIDs []string `json:"advisory_ids"`
		Hosts       int      `json:"hosts"`
	}
	require.NoError(t, json.Unmarshal(detail, &det))
	require.Equal(t, []string{"DLA-1-1", "DSA-1-1"}, det.AdvisoryIDs)
	require.Equal(t, 2, det.Hosts)

	// By advisory id: only that advisory's hosts.
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "vulnerabilities/DLA-1-1/patch-plan", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &plan)
	require.Equal(t, map[string]string{"delta": ""}, names(plan.Hosts))

	// Nothing to patch, unknown, bad input.
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "vulnerabilities/DSA-3-1:patch", Token: admin.AccessToken, JSON: map[string]any{}})
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "vulnerabilities/CVE-1999-0001:patch", Token: admin.AccessToken, JSON: map[string]any{}})
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "vulnerabilities/CVE-1999-0001/patch-plan", Token: admin.AccessToken})
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
	for _, body := range []map[string]any{{"reboot": "sometimes"}, {"hosts": []string{"x"}}, {"ignore_windows": true},
		{"waves": map[string]any{"canary": 0, "growth": 20}}} {
		res = env.Do(apitest.Request{Method: http.MethodPost, Path: "vulnerabilities/CVE-2026-1:patch", Token: admin.AccessToken, JSON: body})
		require.Equal(t, http.StatusBadRequest, res.Status, "%v: %s", body, res.Body)
	}

	// Permissions: patch:request (the route) and vulnerability:read (the service).
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "roles:create", Token: admin.AccessToken, JSON: map[string]any{
		"id": "patcher", "description": "Patches without vulnerability data", "permissions": []string{"account:self", "patch:request", "patch:read"}}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	patcher := env.Login("patcher", env.CreateUser("patcher", "patcher"))
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "vulnerabilities/CVE-2026-1:patch", Token: patcher.AccessToken, JSON: map[string]any{}})
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	require.Equal(t, "vulnerability:read", res.Err(t).Error.Detail["required_permission"])
	viewer := env.Login("viewer", env.CreateUser("viewer", "viewer"))
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "vulnerabilities/CVE-2026-1:patch", Token: viewer.AccessToken, JSON: map[string]any{}})
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	require.Equal(t, "patch:request", res.Err(t).Error.Detail["required_permission"])
}
