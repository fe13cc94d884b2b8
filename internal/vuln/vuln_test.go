package vuln_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
	"github.com/openwatch/openwatch/internal/vuln"
)

// fixture is a running application, an admin session and a real sshd on loopback.
type fixture struct {
	t     *testing.T
	env   *apitest.Env
	admin apitest.Session
	srv   *sshtest.Server
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := apitest.New(t)
	return &fixture{t: t, env: env, admin: env.Admin(), srv: sshtest.Start(t, sshtest.Options{Addr: "127.0.0.1"})}
}

var idemSeq atomic.Int64

func (f *fixture) do(s apitest.Session, method, path string, body any) *apitest.Response {
	f.t.Helper()
	req := apitest.Request{Method: method, Path: path, Token: s.AccessToken, JSON: body}
	if method == http.MethodPost {
		req.Headers = map[string]string{"Idempotency-Key": fmt.Sprintf("v-%d", idemSeq.Add(1))}
	}
	return f.env.Do(req)
}

// host registers a host at the fixture's sshd, runs discovery and collects intelligence:
// its inventory is this machine's.
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
	res = f.do(f.admin, http.MethodPost, "hosts/"+h.Id.String()+"/discovery:run", nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	res = f.do(f.admin, http.MethodPost, "hosts/"+h.Id.String()+"/intelligence:collect", nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	return h.Id
}

// installed is a package of the host as matching sees it.
type installed struct{ name, version string }

// packages returns the host's matching packages with a plain version (no epoch), several
// binaries' worth, so the test picks real packages of the target.
func (f *fixture) packages(hostID uuid.UUID) (string, []installed) {
	f.t.Helper()
	rows, err := f.env.App.Pool.Query(context.Background(),
		`SELECT release, name, version FROM vuln_host_packages WHERE host_id = $1 AND version NOT LIKE '%:%' ORDER BY name`, hostID)
	require.NoError(f.t, err)
	var rel string
	var out []installed
	for rows.Next() {
		var p installed
		require.NoError(f.t, rows.Scan(&rel, &p.name, &p.version))
		out = append(out, p)
	}
	require.NoError(f.t, rows.Err())
	require.GreaterOrEqual(f.t, len(out), 4, "the test target has packages")
	return rel, out
}

type exposure struct {
	Advisory, Package, Installed string
	Fixed                        *string
	Resolution                   *string
	Open                         bool
}

func (f *fixture) exposures(hostID uuid.UUID) map[string]exposure {
	f.t.Helper()
	rows, err := f.env.App.Pool.Query(context.Background(), `SELECT advisory_id, package, installed_version, fixed_version,
		resolution, resolved_at IS NULL FROM vuln_exposures WHERE host_id = $1`, hostID)
	require.NoError(f.t, err)
	out := map[string]exposure{}
	for rows.Next() {
		var e exposure
		require.NoError(f.t, rows.Scan(&e.Advisory, &e.Package, &e.Installed, &e.Fixed, &e.Resolution, &e.Open))
		out[e.Advisory] = e
	}
	require.NoError(f.t, rows.Err())
	return out
}

func ptr(s string) *string { return &s }

// TestMatchEndToEnd collects the inventory of a real host (sshtest), imports OSV records
// written here and validated against the OSV schema, for packages the host has, with the
// boundary cases (epochs, tildes, revisions, last_affected, explicit versions, withdrawn
// records, another release, an introduced version above the installed one, an invalid
// record), then updates records and the inventory and follows exposure.
func TestMatchEndToEnd(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	hostID := f.host("vuln-target")
	rel, pkgs := f.packages(hostID)
	require.Equal(t, "Debian:12", rel, "the sshtest target is this Debian 12 machine")
	eco := "Debian:12"
	a, b, c, d := pkgs[0], pkgs[1], pkgs[2], pkgs[3]
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	specs := []osvSpec{
		{ID: "DLA-OWT-EPOCH", Ecosystem: eco, Package: a.name, Modified: t0, Ranges: []osvRange{{Introduced: "0", Fixed: "1:0.1"}},
			Severity: "high", CVSS: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Aliases: []string{"CVE-2026-0001"}},
		{ID: "DLA-OWT-TILDE", Ecosystem: eco, Package: a.name, Modified: t0, Ranges: []osvRange{{Introduced: "0", Fixed: a.version + "~rc1"}}},
		{ID: "DLA-OWT-OTHER-RELEASE", Ecosystem: "Debian:11", Package: a.name, Modified: t0, Ranges: []osvRange{{Introduced: "0", Fixed: "99:1"}}},
		{ID: "DLA-OWT-LAST", Ecosystem: eco, Package: b.name, Modified: t0, Ranges: []osvRange{{Introduced: "0", LastAffected: b.version}}},
		{ID: "DLA-OWT-LAST-BELOW", Ecosystem: eco, Package: b.name, Modified: t0, Ranges: []osvRange{{Introduced: "0", LastAffected: b.version + "~"}}},
		{ID: "DLA-OWT-WITHDRAWN", Ecosystem: eco, Package: c.name, Modified: t0, Withdrawn: true, Ranges: []osvRange{{Introduced: "0", Fixed: "99:1"}}},
		{ID: "DLA-OWT-VERSIONS", Ecosystem: eco, Package: c.name, Modified: t0, Versions: []string{"0.0.1", c.version}},
		{ID: "DLA-OWT-REVISION", Ecosystem: eco, Package: d.name, Modified: t0, Ranges: []osvRange{{Introduced: "0", Fixed: d.version + "+deb12u1"}}},
		{ID: "DLA-OWT-INTRO-LATER", Ecosystem: eco, Package: d.name, Modified: t0, Ranges: []osvRange{{Introduced: "99:1", Fixed: "99:2"}}},
	}
	files := map[string][]byte{}
	for _, s := range specs {
		files["debian/"+s.ID+".json"] = validRecord(t, s.record())
	}
	// A record the schema refuses too (no modified time) is rejected, not fatal.
	bad := specs[0].record()
	bad["id"] = "DLA-OWT-BAD"
	delete(bad, "modified")
	badJSON, err := json.Marshal(bad)
	require.NoError(t, err)
	inst, err := jsonschemaUnmarshal(badJSON)
	require.NoError(t, err)
	require.Error(t, osvSchema(t).Validate(inst), "the invalid record is invalid for the schema as well")
	files["debian/DLA-OWT-BAD.json"] = badJSON

	dir := t.TempDir()
	feed := filepath.Join(dir, "feed.zip")
	writeZip(t, feed, files)
	ctx := context.Background()
	svc := f.env.App.Vuln
	res, err := svc.ImportPath(ctx, nil, feed, "debian-test")
	require.NoError(t, err)
	imp := res.Import
	require.Equal(t, "succeeded", imp.Status)
	require.EqualValues(t, 8, imp.Added)
	require.EqualValues(t, 1, imp.Withdrawn)
	require.EqualValues(t, 1, imp.Rejected)
	require.Len(t, res.Rejections, 1)
	require.Equal(t, "DLA-OWT-BAD", res.Rejections[0].ID)
	require.Contains(t, res.Rejections[0].Reason, "modified")

	got := f.exposures(hostID)
	open := map[string]exposure{}
	for id, e := range got {
		if e.Open {
			open[id] = e
		}
	}
	require.ElementsMatch(t, []string{"DLA-OWT-EPOCH", "DLA-OWT-LAST", "DLA-OWT-VERSIONS", "DLA-OWT-REVISION"}, keys(open))
	require.Equal(t, ptr("1:0.1"), open["DLA-OWT-EPOCH"].Fixed)
	require.Equal(t, a.version, open["DLA-OWT-EPOCH"].Installed)
	require.Nil(t, open["DLA-OWT-LAST"].Fixed, "last_affected names no fix")
	require.Nil(t, open["DLA-OWT-VERSIONS"].Fixed)
	require.Equal(t, ptr(d.version+"+deb12u1"), open["DLA-OWT-REVISION"].Fixed)
	var sev string
	var score *float64
	require.NoError(t, f.env.App.Pool.QueryRow(ctx, `SELECT severity, cvss_score FROM vuln_advisories WHERE id = 'DLA-OWT-EPOCH'`).Scan(&sev, &score))
	require.Equal(t, "high", sev, "the distribution's urgency wins over the CVSS band")
	require.NotNil(t, score)
	require.InDelta(t, 9.8, *score, 0.001)

	// The same feed again: nothing is newer, nothing is rewritten.
	res, err = svc.ImportPath(ctx, nil, feed, "debian-test")
	require.NoError(t, err)
	require.EqualValues(t, 0, res.Import.Added+res.Import.Updated+res.Import.Withdrawn)
	require.EqualValues(t, 9, res.Import.Unchanged)
	require.EqualValues(t, 0, res.Import.RematchedPackages)

	// An update lowers the fix below the installed version; another withdraws a record.
	t1 := t0.Add(time.Hour)
	upd := specs[0]
	upd.Modified, upd.Ranges = t1, []osvRange{{Introduced: "0", Fixed: a.version + "~"}}
	wd := specs[3]
	wd.Modified, wd.Withdrawn = t1, true
	// A stale copy (older modified) of the versions record changes nothing.
	stale := specs[6]
	stale.Modified, stale.Versions = t0.Add(-time.Hour), []string{"0.0.1"}
	feed2 := filepath.Join(dir, "update.zip")
	writeZip(t, feed2, map[string][]byte{"a.json": validRecord(t, upd.record()), "b.json": validRecord(t, wd.record()),
		"c.json": validRecord(t, stale.record())})
	res, err = svc.ImportPath(ctx, nil, feed2, "debian-test")
	require.NoError(t, err)
	require.EqualValues(t, 1, res.Import.Updated)
	require.EqualValues(t, 1, res.Import.Withdrawn)
	require.EqualValues(t, 1, res.Import.Unchanged)
	require.EqualValues(t, 2, res.Import.ExposuresResolved)
	got = f.exposures(hostID)
	require.False(t, got["DLA-OWT-EPOCH"].Open)
	require.Equal(t, ptr(vuln.ResolutionNotAffected), got["DLA-OWT-EPOCH"].Resolution)
	require.False(t, got["DLA-OWT-LAST"].Open)
	require.Equal(t, ptr(vuln.ResolutionWithdrawn), got["DLA-OWT-LAST"].Resolution)
	require.True(t, got["DLA-OWT-VERSIONS"].Open)

	// The host's inventory changes (d upgraded past the fix): only that host is matched
	// again, from the stored inventory.
	var raw []byte
	require.NoError(t, f.env.App.Pool.QueryRow(ctx, `SELECT value FROM host_intel_categories WHERE host_id = $1 AND category = 'packages'`,
		hostID).Scan(&raw))
	var inv map[string]map[string]any
	require.NoError(t, json.Unmarshal(raw, &inv))
	n := 0
	for k, p := range inv {
		bin := strings.SplitN(k, ":", 2)[0]
		if p["source"] == d.name || (p["source"] == nil && bin == d.name) {
			p["version"], p["source_version"] = "99:1", "99:1"
			n++
		}
	}
	require.Positive(t, n)
	raw, err = json.Marshal(inv)
	require.NoError(t, err)
	require.NoError(t, pg.WithTx(ctx, f.env.App.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE host_intel_categories SET value = $2, value_hash = 'changed' WHERE host_id = $1 AND category = 'packages'`,
			hostID, raw); err != nil {
			return err
		}
		return svc.HostInventoryChangedTx(ctx, tx, hostID)
	}))
	got = f.exposures(hostID)
	require.False(t, got["DLA-OWT-REVISION"].Open)
	require.Equal(t, ptr(vuln.ResolutionFixed), got["DLA-OWT-REVISION"].Resolution)
	require.True(t, got["DLA-OWT-VERSIONS"].Open)

	// A full match from the stored state finds nothing to change.
	st, err := svc.MatchAll(ctx)
	require.NoError(t, err)
	require.Zero(t, st.Opened+st.Resolved+st.Updated)

	// The audit trail has each import.
	var audited int
	require.NoError(t, f.env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'vulnerability.feed_imported'`).Scan(&audited))
	require.Equal(t, 3, audited)
	_ = os.Remove(feed)

	// The API: fleet list, detail, hosts, host tab, upload and history.
	res2 := f.do(f.admin, http.MethodGet, "vulnerabilities?q=OWT-VERSIONS", nil)
	require.Equal(t, http.StatusOK, res2.Status, "%s", res2.Body)
	var list api.VulnerabilityPage
	res2.Decode(t, &list)
	require.Len(t, list.Items, 1)
	require.Equal(t, "DLA-OWT-VERSIONS", list.Items[0].Id)
	require.EqualValues(t, 1, list.Items[0].HostCount)
	res2 = f.do(f.admin, http.MethodGet, "vulnerabilities?severity=bogus", nil)
	require.Equal(t, http.StatusBadRequest, res2.Status)
	res2 = f.do(f.admin, http.MethodGet, "vulnerabilities/DLA-OWT-VERSIONS", nil)
	require.Equal(t, http.StatusOK, res2.Status, "%s", res2.Body)
	var det api.VulnerabilityDetail
	res2.Decode(t, &det)
	require.Equal(t, []string{"0.0.1", c.version}, det.Affected[0].Versions)
	res2 = f.do(f.admin, http.MethodGet, "vulnerabilities/NOPE-1", nil)
	require.Equal(t, http.StatusNotFound, res2.Status)
	res2 = f.do(f.admin, http.MethodGet, "vulnerabilities/DLA-OWT-VERSIONS/hosts", nil)
	require.Equal(t, http.StatusOK, res2.Status, "%s", res2.Body)
	var hosts api.VulnerableHostPage
	res2.Decode(t, &hosts)
	require.Len(t, hosts.Items, 1)
	require.Equal(t, hostID, hosts.Items[0].HostId)
	require.False(t, hosts.Items[0].FixInstallable)
	res2 = f.do(f.admin, http.MethodGet, "hosts/"+hostID.String()+"/vulnerabilities", nil)
	require.Equal(t, http.StatusOK, res2.Status, "%s", res2.Body)
	var hv api.HostVulnerabilityPage
	res2.Decode(t, &hv)
	// d at 99:1 is now inside the range introduced at 99:1 (fixed 99:2).
	require.Len(t, hv.Items, 2)

	up := osvSpec{ID: "DLA-OWT-UPLOAD", Ecosystem: eco, Package: d.name, Modified: t1, Severity: "critical",
		Ranges: []osvRange{{Introduced: "0", Fixed: "99:2"}}}
	res2 = f.env.Do(apitest.Request{Method: http.MethodPost, Path: "vulnerabilities/feeds:import?source=upload-test&file_name=one.json",
		Token: f.admin.AccessToken, Body: validRecord(t, up.record()), Headers: map[string]string{"Content-Type": "application/octet-stream"}})
	require.Equal(t, http.StatusOK, res2.Status, "%s", res2.Body)
	var fi api.FeedImport
	res2.Decode(t, &fi)
	require.Equal(t, 1, fi.Added)
	require.Equal(t, 1, fi.ExposuresOpened)
	res2 = f.env.Do(apitest.Request{Method: http.MethodPost, Path: "vulnerabilities/feeds:import", Token: f.admin.AccessToken,
		Body: []byte{}, Headers: map[string]string{"Content-Type": "application/octet-stream"}})
	require.Equal(t, http.StatusBadRequest, res2.Status, "%s", res2.Body)
	res2 = f.do(f.admin, http.MethodGet, "vulnerabilities?severity=critical", nil)
	require.Equal(t, http.StatusOK, res2.Status, "%s", res2.Body)
	res2.Decode(t, &list)
	require.Len(t, list.Items, 1)
	require.Equal(t, "DLA-OWT-UPLOAD", list.Items[0].Id)
	res2 = f.do(f.admin, http.MethodGet, "vulnerabilities/feeds/imports?limit=2", nil)
	require.Equal(t, http.StatusOK, res2.Status, "%s", res2.Body)
	var imps api.FeedImportPage
	res2.Decode(t, &imps)
	require.Len(t, imps.Items, 2)
	require.Equal(t, "upload-test", imps.Items[0].Source)
	require.NotNil(t, imps.NextCursor)
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
