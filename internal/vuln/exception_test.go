package vuln_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/exception"
	"github.com/openwatch/openwatch/internal/pg"
)

// user adds a user with role and returns its session and principal.
func (f *fixture) user(name, role string) (apitest.Session, *authz.Principal) {
	f.t.Helper()
	pw := f.env.CreateUser(name, role)
	var id uuid.UUID
	require.NoError(f.t, f.env.App.Pool.QueryRow(context.Background(), `SELECT id FROM users WHERE username = $1`, name).Scan(&id))
	return f.env.Login(name, pw), &authz.Principal{UserID: id, Username: name}
}

// criticalAlerts counts the vulnerability_critical alerts of a host and advisory in a
// state, and the occurrences of the live one.
func (f *fixture) criticalAlerts(host uuid.UUID, advisory, state string) (n, occurrences int) {
	f.t.Helper()
	require.NoError(f.t, f.env.App.Pool.QueryRow(context.Background(), `SELECT count(*), COALESCE(max(occurrence_count), 0)
		FROM alerts WHERE alert_type = 'vulnerability_critical' AND host_id = $1 AND tags->>'advisory_id' = $2 AND state = $3`,
		host, advisory, state).Scan(&n, &occurrences))
	return n, occurrences
}

func (f *fixture) listed(id string) api.Vulnerability {
	f.t.Helper()
	res := f.do(f.admin, http.MethodGet, "vulnerabilities?q="+id, nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var page api.VulnerabilityPage
	res.Decode(f.t, &page)
	require.Len(f.t, page.Items, 1)
	return page.Items[0]
}

func (f *fixture) advisoryHosts(id string) map[uuid.UUID]api.VulnerableHost {
	f.t.Helper()
	res := f.do(f.admin, http.MethodGet, "vulnerabilities/"+id+"/hosts", nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var page api.VulnerableHostPage
	res.Decode(f.t, &page)
	out := map[uuid.UUID]api.VulnerableHost{}
	for _, h := range page.Items {
		out[h.HostId] = h
	}
	return out
}

func (f *fixture) hostExposure(host uuid.UUID, id string) api.HostVulnerability {
	f.t.Helper()
	res := f.do(f.admin, http.MethodGet, "hosts/"+host.String()+"/vulnerabilities", nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var page api.HostVulnerabilityPage
	res.Decode(f.t, &page)
	for _, v := range page.Items {
		if v.Id == id {
			return v
		}
	}
	f.t.Fatalf("host %s is not exposed to %s", host, id)
	return api.HostVulnerability{}
}

// TestVulnerabilityExceptions follows exceptions of vulnerabilities and the critical
// exposure alert through the API on two real hosts (sshtest): alias matching, host and
// fleet scope, four eyes, counts and statuses, revocation and expiry without rematching,
// an alert raised once per new critical exposure (never for a high or an excepted one),
// resolved when excepted or fixed, and the 400s of a body mixing the two kinds.
func TestVulnerabilityExceptions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	h1, h2 := f.host("vx-one"), f.host("vx-two")
	_, pkgs := f.packages(h1)
	a, b, c := pkgs[0], pkgs[1], pkgs[2]
	sam, samP := f.user("sam", authz.RoleSecurityAdmin)
	var adminID uuid.UUID
	ctx := context.Background()
	require.NoError(t, f.env.App.Pool.QueryRow(ctx, `SELECT id FROM users WHERE username = 'admin'`).Scan(&adminID))
	adminP := &authz.Principal{UserID: adminID, Username: "admin"}

	eco := "Debian:12"
	t0 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	crit := osvSpec{ID: "DSA-OWTX-CRIT", Ecosystem: eco, Package: a.name, Modified: t0, Severity: "critical",
		Ranges: []osvRange{{Introduced: "0", Fixed: "99:1"}}, Aliases: []string{"CVE-2026-1111"}}
	high := osvSpec{ID: "DSA-OWTX-HIGH", Ecosystem: eco, Package: b.name, Modified: t0, Severity: "high",
		Ranges: []osvRange{{Introduced: "0", Fixed: "99:1"}}, Aliases: []string{"CVE-2026-2222"}}
	dir := t.TempDir()
	feed := filepath.Join(dir, "feed.zip")
	writeZip(t, feed, map[string][]byte{"crit.json": validRecord(t, crit.record()), "high.json": validRecord(t, high.record())})
	svc := f.env.App.Vuln
	res, err := svc.ImportPath(ctx, nil, feed, "owtx")
	require.NoError(t, err)
	require.Equal(t, 2, res.CriticalAlerts, "one alert per host of the critical advisory")
	for _, h := range []uuid.UUID{h1, h2} {
		n, occ := f.criticalAlerts(h, crit.ID, "active")
		require.Equal(t, 1, n)
		require.Equal(t, 1, occ)
		n, _ = f.criticalAlerts(h, high.ID, "active")
		require.Zero(t, n, "a high exposure raises no alert")
	}
	// The same exposures matched again (a full match) raise nothing more.
	_, err = svc.MatchAll(ctx)
	require.NoError(t, err)
	n, occ := f.criticalAlerts(h1, crit.ID, "active")
	require.Equal(t, 1, n)
	require.Equal(t, 1, occ, "raised once")

	future := time.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339)
	// Bad input: each a 400 naming its field.
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"rule_id on a vulnerability exception", map[string]any{"kind": "vulnerability", "advisory_id": crit.ID, "rule_id": "x",
			"scope": "fleet", "reason": "r", "expires_at": future}, "rule_id"},
		{"advisory_id on a rule exception", map[string]any{"kind": "rule", "advisory_id": crit.ID, "rule_id": "x",
			"scope": "fleet", "reason": "r", "expires_at": future}, "advisory_id"},
		{"advisory_id without kind", map[string]any{"advisory_id": crit.ID, "scope": "fleet", "reason": "r", "expires_at": future}, "advisory_id"},
		{"no advisory_id", map[string]any{"kind": "vulnerability", "scope": "fleet", "reason": "r", "expires_at": future}, "advisory_id"},
		{"unknown advisory", map[string]any{"kind": "vulnerability", "advisory_id": "CVE-1999-0000", "scope": "fleet", "reason": "r",
			"expires_at": future}, "advisory_id"},
		{"bad kind", map[string]any{"kind": "galaxy", "advisory_id": crit.ID, "scope": "fleet", "reason": "r", "expires_at": future}, "kind"},
		{"blank reason", map[string]any{"kind": "vulnerability", "advisory_id": crit.ID, "scope": "fleet", "reason": " ",
			"expires_at": future}, "reason"},
	} {
		r := f.do(f.admin, http.MethodPost, "compliance/exceptions", tc.body)
		require.Equal(t, http.StatusBadRequest, r.Status, "%s: %s", tc.name, r.Body)
		require.Contains(t, string(r.Body), tc.field, tc.name)
	}

	// A host exception named by the CVE id covers the DSA record aliasing it.
	r := f.do(f.admin, http.MethodPost, "hosts/"+h1.String()+"/exceptions", map[string]any{"kind": "vulnerability",
		"advisory_id": "CVE-2026-1111", "reason": "isolated network segment", "expires_at": future})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var hostExc api.Exception
	r.Decode(t, &hostExc)
	require.Equal(t, api.ExceptionKindVulnerability, hostExc.Kind)
	require.Equal(t, "CVE-2026-1111", *hostExc.AdvisoryId)
	require.Nil(t, hostExc.RuleId)
	require.Equal(t, api.ExceptionStatus("pending"), hostExc.Status)
	r = f.do(f.admin, http.MethodPost, "hosts/"+h1.String()+"/exceptions", map[string]any{"kind": "vulnerability",
		"advisory_id": "CVE-2026-1111", "reason": "again", "expires_at": future})
	require.Equal(t, http.StatusConflict, r.Status, "%s", r.Body)
	require.Equal(t, api.ExposureStatusExposed, f.hostExposure(h1, crit.ID).Status, "pending excepts nothing")

	// Four eyes: the requester cannot approve.
	r = f.do(f.admin, http.MethodPost, "exceptions/"+hostExc.Id.String()+":approve", map[string]string{"reason": "mine"})
	require.Equal(t, http.StatusForbidden, r.Status, "%s", r.Body)
	require.Contains(t, string(r.Body), "four_eyes")
	r = f.do(sam, http.MethodPost, "exceptions/"+hostExc.Id.String()+":approve", map[string]string{"reason": "agreed"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

	v := f.listed(crit.ID)
	require.EqualValues(t, 1, v.HostCount)
	require.EqualValues(t, 1, v.ExceptedHostCount)
	hosts := f.advisoryHosts(crit.ID)
	require.Equal(t, api.ExposureStatusExcepted, hosts[h1].Status)
	require.Equal(t, hostExc.Id, *hosts[h1].ExceptionId)
	require.Equal(t, api.ExposureStatusExposed, hosts[h2].Status)
	require.Nil(t, hosts[h2].ExceptionId)
	hv := f.hostExposure(h1, crit.ID)
	require.Equal(t, api.ExposureStatusExcepted, hv.Status)
	require.Equal(t, hostExc.Id, *hv.ExceptionId)
	r = f.do(f.admin, http.MethodGet, "vulnerabilities/"+crit.ID, nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var det api.VulnerabilityDetail
	r.Decode(t, &det)
	require.EqualValues(t, 1, det.HostCount)
	require.EqualValues(t, 1, det.ExceptedHostCount)
	n, _ = f.criticalAlerts(h1, crit.ID, "resolved")
	require.Equal(t, 1, n, "excepting resolves the alert")
	// A patch job from the advisory leaves the excepted host out (the app's own wiring).
	r = f.do(f.admin, http.MethodGet, "vulnerabilities/"+crit.ID+"/patch-plan", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var plan api.VulnerabilityPatchPlan
	r.Decode(t, &plan)
	var excluded, targeted []uuid.UUID
	for _, x := range plan.Excluded {
		if x.Reason != nil && *x.Reason == api.VulnerabilityPatchHostReasonExcepted {
			excluded = append(excluded, x.HostId)
		}
	}
	for _, x := range plan.Hosts {
		targeted = append(targeted, x.HostId)
	}
	require.Equal(t, []uuid.UUID{h1}, excluded, "%s", r.Body)
	require.NotContains(t, targeted, h1)
	n, _ = f.criticalAlerts(h2, crit.ID, "active")
	require.Equal(t, 1, n, "the other host stays alerted")

	// Fleet scope by the advisory id, requested by one and approved by the other.
	r = f.do(sam, http.MethodPost, "compliance/exceptions", map[string]any{"kind": "vulnerability", "advisory_id": high.ID,
		"scope": "fleet", "reason": "vendor backport verified", "expires_at": future})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var fleetExc api.Exception
	r.Decode(t, &fleetExc)
	r = f.do(f.admin, http.MethodPost, "exceptions/"+fleetExc.Id.String()+":approve", map[string]string{"reason": "ok"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	v = f.listed(high.ID)
	require.EqualValues(t, 0, v.HostCount)
	require.EqualValues(t, 2, v.ExceptedHostCount)
	require.Equal(t, api.ExposureStatusExcepted, f.hostExposure(h2, high.ID).Status)

	// The list filters by kind; rule exceptions are untouched by these.
	var page api.ExceptionPage
	r = f.do(f.admin, http.MethodGet, "compliance/exceptions?kind=vulnerability", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r.Decode(t, &page)
	require.Len(t, page.Items, 2)
	r = f.do(f.admin, http.MethodGet, "compliance/exceptions?kind=rule", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	r.Decode(t, &page)
	require.Empty(t, page.Items)
	r = f.do(f.admin, http.MethodGet, "compliance/exceptions?kind=nope", nil)
	require.Equal(t, http.StatusBadRequest, r.Status, "%s", r.Body)

	// Revocation: the exposure counts again at once, and alerts again.
	r = f.do(sam, http.MethodPost, "exceptions/"+hostExc.Id.String()+":revoke", map[string]string{"reason": "segment merged"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	v = f.listed(crit.ID)
	require.EqualValues(t, 2, v.HostCount)
	require.EqualValues(t, 0, v.ExceptedHostCount)
	require.Equal(t, api.ExposureStatusExposed, f.hostExposure(h1, crit.ID).Status)
	n, _ = f.criticalAlerts(h1, crit.ID, "active")
	require.Equal(t, 1, n, "the revoked exception's exposure alerts again")

	// Expiry (the job, on a clock of its own): a fleet exception of the CVE excepts a new
	// record aliasing it as well, which therefore raises no alert.
	now := time.Now()
	clock := exception.NewService(f.env.App.Pool, f.env.App.Audit, f.env.App.Compliance, exception.Options{
		Now: func() time.Time { return now }})
	e, err := clock.Request(ctx, adminP, exception.Request{Kind: exception.KindVulnerability, AdvisoryID: "CVE-2026-1111",
		Scope: exception.ScopeFleet, Reason: "maintenance freeze", ExpiresAt: now.Add(time.Hour)}, false)
	require.NoError(t, err)
	_, err = clock.Decide(ctx, samP, e.ID, exception.Approve, "until the freeze ends")
	require.NoError(t, err)
	for _, h := range []uuid.UUID{h1, h2} {
		n, _ = f.criticalAlerts(h, crit.ID, "active")
		require.Zero(t, n)
	}
	crit2 := osvSpec{ID: "USN-OWTX-CRIT2", Ecosystem: eco, Package: c.name, Modified: t0, Severity: "critical",
		Ranges: []osvRange{{Introduced: "0", Fixed: "99:1"}}, Aliases: []string{"CVE-2026-1111"}}
	feed2 := filepath.Join(dir, "feed2.zip")
	writeZip(t, feed2, map[string][]byte{"crit2.json": validRecord(t, crit2.record())})
	res, err = svc.ImportPath(ctx, nil, feed2, "owtx")
	require.NoError(t, err)
	require.EqualValues(t, 1, res.Import.Added)
	require.Zero(t, res.CriticalAlerts, "an excepted critical exposure raises no alert")
	require.Equal(t, api.ExposureStatusExcepted, f.hostExposure(h2, crit2.ID).Status)

	now = now.Add(2 * time.Hour)
	expired, err := clock.ExpireDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, expired)
	for _, h := range []uuid.UUID{h1, h2} {
		for _, id := range []string{crit.ID, crit2.ID} {
			n, _ = f.criticalAlerts(h, id, "active")
			require.Equal(t, 1, n, "%s on %s alerts again after the expiry", id, h)
		}
	}
	require.Equal(t, api.ExposureStatusExposed, f.hostExposure(h2, crit2.ID).Status)
	v = f.listed(crit2.ID)
	require.EqualValues(t, 2, v.HostCount)

	// Fixed: h2's inventory moves a past the fix; its exposure and alert resolve.
	var raw []byte
	require.NoError(t, f.env.App.Pool.QueryRow(ctx, `SELECT value FROM host_intel_categories WHERE host_id = $1 AND category = 'packages'`,
		h2).Scan(&raw))
	var inv map[string]map[string]any
	require.NoError(t, json.Unmarshal(raw, &inv))
	for k, p := range inv {
		bin := strings.SplitN(k, ":", 2)[0]
		if p["source"] == a.name || (p["source"] == nil && bin == a.name) {
			p["version"], p["source_version"] = "99:1", "99:1"
		}
	}
	raw, err = json.Marshal(inv)
	require.NoError(t, err)
	require.NoError(t, pg.WithTx(ctx, f.env.App.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE host_intel_categories SET value = $2, value_hash = 'fixed' WHERE host_id = $1 AND category = 'packages'`,
			h2, raw); err != nil {
			return err
		}
		return svc.HostInventoryChangedTx(ctx, tx, h2)
	}))
	n, _ = f.criticalAlerts(h2, crit.ID, "active")
	require.Zero(t, n, "fixed: the alert resolved")
	n, _ = f.criticalAlerts(h1, crit.ID, "active")
	require.Equal(t, 1, n)
	v = f.listed(crit.ID)
	require.EqualValues(t, 1, v.HostCount)

	// Group scope: an exception of the group holding h2 excepts h2 alone.
	r = f.do(f.admin, http.MethodPost, "groups", map[string]string{"name": "vx-group"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var g struct{ ID uuid.UUID }
	r.Decode(t, &g)
	r = f.do(f.admin, http.MethodPut, "groups/"+g.ID.String()+"/members/"+h2.String(), nil)
	require.Less(t, r.Status, 300, "%s", r.Body)
	r = f.do(f.admin, http.MethodPost, "compliance/exceptions", map[string]any{"kind": "vulnerability", "advisory_id": crit2.ID,
		"scope": "group", "group_id": g.ID, "reason": "lab group", "expires_at": future})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var groupExc api.Exception
	r.Decode(t, &groupExc)
	r = f.do(sam, http.MethodPost, "exceptions/"+groupExc.Id.String()+":approve", map[string]string{"reason": "ok"})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	hosts = f.advisoryHosts(crit2.ID)
	require.Equal(t, api.ExposureStatusExcepted, hosts[h2].Status)
	require.Equal(t, groupExc.Id, *hosts[h2].ExceptionId)
	require.Equal(t, api.ExposureStatusExposed, hosts[h1].Status)
	n, _ = f.criticalAlerts(h2, crit2.ID, "active")
	require.Zero(t, n)
	n, _ = f.criticalAlerts(h1, crit2.ID, "active")
	require.Equal(t, 1, n)
}
