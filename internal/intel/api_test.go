package intel_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/intel"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// fixture is a running application, an admin session and a real sshd on loopback.
type fixture struct {
	t     *testing.T
	env   *apitest.Env
	admin apitest.Session
	srv   *sshtest.Server
}

func newFixture(t *testing.T, opts ...apitest.Option) *fixture {
	t.Helper()
	env := apitest.New(t, opts...)
	return &fixture{t: t, env: env, admin: env.Admin(), srv: sshtest.Start(t, sshtest.Options{Addr: "127.0.0.1"})}
}

// noWorker builds an insert-only application: jobs stay queued for the test to inspect.
func noWorker(d *app.Deps) { d.Config.Worker.WithWorker = false }

var idemSeq atomic.Int64

func (f *fixture) do(s apitest.Session, method, path string, body any) *apitest.Response {
	f.t.Helper()
	req := apitest.Request{Method: method, Path: path, Token: s.AccessToken, JSON: body}
	if method == http.MethodPost {
		req.Headers = map[string]string{"Idempotency-Key": fmt.Sprintf("k-%d", idemSeq.Add(1))}
	}
	return f.env.Do(req)
}

// host registers a host at the fixture's sshd with a credential of the test user kind.
func (f *fixture) host(name string, kind sshtest.UserKind) uuid.UUID {
	f.t.Helper()
	id := f.bareHost(name, f.srv.Host, f.srv.Port)
	u := f.srv.User(kind)
	body := map[string]any{"scope": "host", "scope_id": id, "name": "cred-" + name, "username": u.Name,
		"auth_method": "ssh_key", "private_key": string(u.PrivateKey)}
	res := f.do(f.admin, http.MethodPost, "credentials", body)
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
	return id
}

// bareHost registers a host without a credential.
func (f *fixture) bareHost(name, ip string, port int) uuid.UUID {
	f.t.Helper()
	res := f.do(f.admin, http.MethodPost, "hosts", map[string]any{"hostname": name, "ip_address": ip, "port": port})
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(f.t, &h)
	return h.Id
}

func (f *fixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	require.NoError(f.t, f.env.App.Pool.QueryRow(context.Background(), query, args...).Scan(&n))
	return n
}

// osRelease reads a key of the local machine's os-release, as the tests' sshd is this
// machine.
func osRelease(t *testing.T, key string) string {
	t.Helper()
	data, err := os.ReadFile("/etc/os-release")
	require.NoError(t, err)
	for l := range strings.SplitSeq(string(data), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && k == key {
			return strings.Trim(v, `"'`)
		}
	}
	return ""
}

func uname(t *testing.T, flag string) string {
	t.Helper()
	out, err := exec.Command("uname", flag).Output()
	require.NoError(t, err)
	return strings.TrimSpace(string(out))
}

// TestDiscovery runs discovery against the local sshd: the real OS facts come back, are
// stored, copied onto the host and audited; errors and permissions are checked.
func TestDiscovery(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	viewer := f.env.Login("viewer", f.env.CreateUser("viewer", authz.RoleViewer))
	id := f.host("disco", sshtest.UserSudo)

	res := f.do(viewer, http.MethodGet, "hosts/"+id.String()+"/system-info", nil)
	require.Equal(t, http.StatusNotFound, res.Status, "no system info before discovery: %s", res.Body)
	res = f.do(viewer, http.MethodPost, "hosts/"+id.String()+"/discovery:run", nil)
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)

	res = f.do(f.admin, http.MethodPost, "hosts/"+id.String()+"/discovery:run", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var si api.HostSystemInfo
	res.Decode(t, &si)
	require.Equal(t, id, si.HostId)
	require.Equal(t, osRelease(t, "ID"), *si.OsId)
	require.Equal(t, osRelease(t, "VERSION_ID"), *si.OsVersion)
	require.Equal(t, osRelease(t, "PRETTY_NAME"), *si.OsPrettyName)
	require.Equal(t, uname(t, "-r"), *si.KernelRelease)
	require.Equal(t, uname(t, "-m"), *si.Architecture)
	require.Equal(t, "Linux", *si.KernelName)
	require.Equal(t, uname(t, "-n"), *si.Hostname)
	require.Positive(t, *si.MemTotalMb)
	require.NotNil(t, si.DiskTotalGb)
	require.NotNil(t, si.OsFamily)
	require.NotNil(t, si.PlatformIdentifier)
	require.NotNil(t, si.SelinuxStatus)

	res = f.do(viewer, http.MethodGet, "hosts/"+id.String()+"/system-info", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var stored api.HostSystemInfo
	res.Decode(t, &stored)
	require.Equal(t, si, stored)

	res = f.do(viewer, http.MethodGet, "hosts/"+id.String(), nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var detail api.HostDetailResponse
	res.Decode(t, &detail)
	h := detail.Host
	require.Equal(t, si.OsFamily, h.OsFamily)
	require.Equal(t, si.OsVersion, h.OsVersion)
	require.Equal(t, si.Architecture, h.Architecture)
	require.Equal(t, si.PlatformIdentifier, h.PlatformIdentifier)
	require.NotNil(t, h.OsDiscoveredAt)

	// A second discovery finds the same facts: one row, one "discovered" event, two audits.
	res = f.do(f.admin, http.MethodPost, "hosts/"+id.String()+"/discovery:run", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.Equal(t, 1, f.count(`SELECT count(*) FROM host_system_info WHERE host_id = $1`, id))
	require.Equal(t, 1, f.count(`SELECT count(*) FROM events WHERE topic = 'discovery' AND host_id = $1`, id))
	require.Equal(t, 2, f.count(`SELECT count(*) FROM audit_events WHERE action = 'host.discovery_run' AND resource_id = $1`, id.String()))
	require.Equal(t, 2, f.count(`SELECT count(*) FROM audit_events WHERE action = 'host.discovery_run' AND resource_id = $1
		AND detail->>'ssh_sessions' = '1'`, id.String()), "each discovery opens one SSH session")

	// Unknown host, unreachable host, host without credential.
	res = f.do(f.admin, http.MethodPost, "hosts/"+uuid.Must(uuid.NewV7()).String()+"/discovery:run", nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
	closed := f.bareHost("closed", "127.0.0.1", freePort(t))
	f.do(f.admin, http.MethodPost, "credentials", map[string]any{"scope": "host", "scope_id": closed, "name": "c",
		"username": "x", "auth_method": "password", "password": "secret-password"})
	res = f.do(f.admin, http.MethodPost, "hosts/"+closed.String()+"/discovery:run", nil)
	require.Equal(t, http.StatusBadGateway, res.Status, "%s", res.Body)
	env := res.Err(t)
	require.Equal(t, "host.unreachable", env.Error.Code)
	require.Equal(t, "connection_refused", env.Error.Detail["error_type"])
	nocred := f.bareHost("nocred", f.srv.Host, f.srv.Port)
	res = f.do(f.admin, http.MethodPost, "hosts/"+nocred.String()+"/discovery:run", nil)
	require.Equal(t, http.StatusBadGateway, res.Status, "%s", res.Body)
	require.Equal(t, "no_credential", res.Err(t).Error.Detail["error_type"])
	res = f.do(viewer, http.MethodGet, "hosts/"+nocred.String()+"/system-info", nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
}

// TestDiscoveryBusy holds the host's discovery lock as another process would and sees
// 409 host.busy.
func TestDiscoveryBusy(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.host("busy", sshtest.UserSudo)
	conn, err := f.env.App.Pool.Acquire(context.Background())
	require.NoError(t, err)
	defer conn.Release()
	var ok bool
	require.NoError(t, conn.QueryRow(context.Background(), `SELECT pg_try_advisory_lock($1)`, intel.LockKey("discovery", id)).Scan(&ok))
	require.True(t, ok)
	res := f.do(f.admin, http.MethodPost, "hosts/"+id.String()+"/discovery:run", nil)
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	require.Equal(t, "host.busy", res.Err(t).Error.Code)
	_, err = conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, intel.LockKey("discovery", id))
	require.NoError(t, err)
	res = f.do(f.admin, http.MethodPost, "hosts/"+id.String()+"/discovery:run", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

func randomName(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return "owtest-intel-" + hex.EncodeToString(b)
}

func (f *fixture) events(s apitest.Session, query url.Values) api.IntelligenceEventsPage {
	f.t.Helper()
	res := f.do(s, http.MethodGet, "intelligence/events?"+query.Encode(), nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var page api.IntelligenceEventsPage
	res.Decode(f.t, &page)
	return page
}

func (f *fixture) collect(id uuid.UUID) api.IntelligenceState {
	f.t.Helper()
	res := f.do(f.admin, http.MethodPost, "hosts/"+id.String()+"/intelligence:collect", nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var st api.IntelligenceState
	res.Decode(f.t, &st)
	return st
}

// TestIntelligence collects the local machine twice (a baseline, then nothing new but
// what other tests running on this machine change), then adds a user and a listening
// port on it and sees user_created and port_opened events in the event list, the state,
// the activity feed and the live event log.
func TestIntelligence(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.host("intel", sshtest.UserSudo)
	q := url.Values{"host_id": {id.String()}}

	st := f.collect(id)
	require.Equal(t, id, st.HostId)
	for _, cat := range intel.Categories {
		entry, ok := st.Snapshot[cat].(map[string]any)
		require.True(t, ok, "category %s in the snapshot", cat)
		require.Contains(t, entry, "collected_at")
		if cat == intel.CatServices && entry["fresh"] == false {
			continue // a container without an init system may have no service manager
		}
		require.Equal(t, true, entry["fresh"], "%s: %v", cat, entry["error"])
	}
	users := st.Snapshot[intel.CatUsers].(map[string]any)["value"].(map[string]any)
	require.Equal(t, false, users["root"].(map[string]any)["locked"] == nil, "lock state is read as root")
	require.Empty(t, f.events(f.admin, q).Items, "the first collection is a baseline")
	require.Equal(t, 1, f.count(`SELECT count(*) FROM audit_events WHERE action = 'host.intelligence_collected' AND resource_id = $1
		AND detail->>'ssh_sessions' = '1'`, id.String()), "a collection opens one SSH session")

	f.collect(id)
	for _, e := range f.events(f.admin, q).Items {
		// Other tests open and close ports on this machine meanwhile; nothing else changes.
		require.Contains(t, []api.IntelligenceEventCode{"port_opened", "port_closed"}, e.EventCode, "%+v", e)
	}

	name := randomName(t)
	out, err := exec.Command("useradd", "--no-create-home", "--shell", "/bin/sh", name).CombinedOutput()
	require.NoError(t, err, "useradd: %s", out)
	t.Cleanup(func() { _ = exec.Command("userdel", name).Run() })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	port := l.Addr().(*net.TCPAddr).Port

	st = f.collect(id)
	created := f.events(f.admin, url.Values{"host_id": {id.String()}, "event_code": {"user_created"}})
	require.Len(t, created.Items, 1)
	ev := created.Items[0]
	require.Equal(t, name, (*ev.Detail)["user"])
	require.Equal(t, api.Severity("medium"), ev.Severity)
	require.NotEmpty(t, ev.CorrelationId)
	users = st.Snapshot[intel.CatUsers].(map[string]any)["value"].(map[string]any)
	require.Contains(t, users, name)

	opened := f.events(f.admin, url.Values{"host_id": {id.String()}, "event_code": {"port_opened"}, "limit": {"200"}})
	var found bool
	for _, e := range opened.Items {
		found = found || ((*e.Detail)["port"] == float64(port) && (*e.Detail)["address"] == "127.0.0.1")
	}
	require.True(t, found, "port_opened for 127.0.0.1:%d in %d events: %+v\nports: %v", port, len(opened.Items), opened.Items,
		st.Snapshot[intel.CatPorts])
	changed := f.events(f.admin, url.Values{"host_id": {id.String()}, "event_code": {"config_file_changed"}, "limit": {"200"}})
	var paths []any
	for _, e := range changed.Items {
		paths = append(paths, (*e.Detail)["path"])
	}
	require.Contains(t, paths, "/etc/passwd")
	require.Equal(t, f.count(`SELECT count(*) FROM intelligence_events WHERE host_id = $1`, id),
		f.count(`SELECT count(*) FROM events WHERE topic = 'intelligence' AND host_id = $1 AND type = 'intelligence.event'`, id),
		"every intelligence event is on the live stream")

	// Filters and pages.
	all := f.events(f.admin, q)
	require.NotEmpty(t, all.Items)
	high := f.events(f.admin, url.Values{"host_id": {id.String()}, "severity": {"high"}})
	for _, e := range high.Items {
		require.Equal(t, api.Severity("high"), e.Severity)
	}
	var paged []uuid.UUID
	next := ""
	for {
		v := url.Values{"host_id": {id.String()}, "limit": {"1"}}
		if next != "" {
			v.Set("cursor", next)
		}
		page := f.events(f.admin, v)
		for _, e := range page.Items {
			paged = append(paged, e.Id)
		}
		if page.NextCursor == nil {
			break
		}
		next = *page.NextCursor
	}
	var ids []uuid.UUID
	for _, e := range all.Items {
		ids = append(ids, e.Id)
	}
	require.Equal(t, ids, paged, "pages of one follow the list order with nothing lost or repeated")
	res := f.do(f.admin, http.MethodGet, "intelligence/events?cursor=nope", nil)
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)

	// State endpoint.
	res = f.do(f.admin, http.MethodGet, "intelligence/state/"+id.String(), nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = f.do(f.admin, http.MethodGet, "intelligence/state/"+f.bareHost("never", "192.0.2.9", 22).String(), nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)

	f.checkActivity(id, name)
}

// checkActivity reads the feed as an admin, a viewer (no audit:read) and an auditor.
func (f *fixture) checkActivity(hostID uuid.UUID, user string) {
	t := f.t
	feed := func(s apitest.Session, v url.Values) api.ActivityPage {
		res := f.do(s, http.MethodGet, "activity?"+v.Encode(), nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var p api.ActivityPage
		res.Decode(t, &p)
		return p
	}
	all := feed(f.admin, url.Values{"limit": {"200"}})
	require.Zero(t, all.HiddenCount, "an admin sees every source")
	sources := map[api.ActivitySource]int{}
	var title string
	for i, it := range all.Items {
		sources[it.Source]++
		if i > 0 {
			prev := all.Items[i-1]
			require.False(t, it.OccurredAt.After(prev.OccurredAt), "newest first")
		}
		if it.Source == "intelligence" && strings.Contains(it.Title, user) {
			title = it.Title
		}
	}
	require.Equal(t, "User created: "+user, title)
	require.Positive(t, sources["audit"])

	viewer := f.env.Login("viewer2", f.env.CreateUser("viewer2", authz.RoleViewer))
	vfeed := feed(viewer, url.Values{"limit": {"200"}})
	require.Positive(t, vfeed.HiddenCount, "audit events are hidden from a viewer and counted")
	for _, it := range vfeed.Items {
		require.NotEqual(t, api.ActivitySource("audit"), it.Source)
	}
	if all.NextCursor == nil && vfeed.NextCursor == nil {
		require.Equal(t, len(all.Items)-sources["audit"], len(vfeed.Items))
		require.GreaterOrEqual(t, vfeed.HiddenCount, sources["audit"])
	}

	auditor := f.env.Login("auditor", f.env.CreateUser("auditor", authz.RoleAuditor))
	afeed := feed(auditor, url.Values{"source": {"audit"}, "limit": {"5"}})
	require.Zero(t, afeed.HiddenCount)
	require.Len(t, afeed.Items, 5)
	require.NotNil(t, afeed.NextCursor)
	more := feed(auditor, url.Values{"source": {"audit"}, "limit": {"5"}, "cursor": {*afeed.NextCursor}})
	require.NotEqual(t, afeed.Items[4].Id, more.Items[0].Id)

	byHost := feed(f.admin, url.Values{"host_id": {hostID.String()}, "source": {"intelligence"}})
	for _, it := range byHost.Items {
		require.Equal(t, hostID, *it.HostId)
	}
	require.NotEmpty(t, byHost.Items)
	hostAudit := feed(f.admin, url.Values{"host_id": {hostID.String()}, "source": {"audit"}})
	require.NotEmpty(t, hostAudit.Items, "audit events about the host carry its id")
}

// TestIntelligenceUnprivileged collects as a user without root: users and most categories
// are collected, the files only root can read degrade to not fresh, never the whole job.
func TestIntelligenceUnprivileged(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.host("plain", sshtest.UserPlain)
	st := f.collect(id)
	files := st.Snapshot[intel.CatConfigFiles].(map[string]any)
	require.Equal(t, false, files["fresh"])
	require.Contains(t, files["error"], "/etc/shadow")
	require.Contains(t, files["value"], "/etc/passwd")
	users := st.Snapshot[intel.CatUsers].(map[string]any)
	require.Equal(t, true, users["fresh"])
	require.Nil(t, users["value"].(map[string]any)["root"].(map[string]any)["locked"])
	require.Equal(t, true, st.Snapshot[intel.CatKernel].(map[string]any)["fresh"])
}

func TestConfigs(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	f := &fixture{t: t, env: env, admin: env.Admin()}
	viewer := env.Login("viewer", env.CreateUser("viewer", authz.RoleViewer))

	res := f.do(viewer, http.MethodGet, "system/intelligence/config", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var ic api.IntelligenceConfigResponse
	res.Decode(t, &ic)
	require.Equal(t, ic.Defaults, ic.Config)
	want := api.IntelligenceConfig{IntervalSec: 600, RateLimit: 5, MaintenanceGlobal: true}
	res = f.do(viewer, http.MethodPut, "system/intelligence/config", want)
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	res = f.do(f.admin, http.MethodPut, "system/intelligence/config", want)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = f.do(viewer, http.MethodGet, "system/intelligence/config", nil)
	res.Decode(t, &ic)
	require.Equal(t, want, ic.Config)
	var detail map[string]any
	require.NoError(t, env.App.Pool.QueryRow(context.Background(),
		`SELECT detail FROM audit_events WHERE action = 'system.intelligence_config_changed' ORDER BY seq DESC LIMIT 1`).Scan(&detail))
	require.Equal(t, map[string]any{"interval_sec": float64(600), "rate_limit": float64(5), "maintenance_global": true}, detail["after"])
	require.Equal(t, float64(intel.DefaultIntelligenceConfig.IntervalSec), detail["before"].(map[string]any)["interval_sec"])
	for _, bad := range []map[string]any{
		{"interval_sec": 299, "rate_limit": 5, "maintenance_global": false},
		{"interval_sec": 600, "rate_limit": 201, "maintenance_global": false},
		{"interval_sec": 600, "rate_limit": 5},
	} {
		res = f.do(f.admin, http.MethodPut, "system/intelligence/config", bad)
		require.Equal(t, http.StatusBadRequest, res.Status, "%v: %s", bad, res.Body)
	}

	res = f.do(viewer, http.MethodGet, "system/discovery/config", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var dc api.DiscoveryConfigResponse
	res.Decode(t, &dc)
	require.Equal(t, 1024, *dc.Defaults.MaxCidrHosts)
	require.Equal(t, dc.Defaults, dc.Config)
	dwant := api.DiscoveryConfig{IntervalSec: 7200, RateLimit: 10, DetectOnFirstContact: false, MaintenanceGlobal: false}
	res = f.do(f.admin, http.MethodPut, "system/discovery/config", dwant)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var got api.DiscoveryConfig
	res.Decode(t, &got)
	require.Equal(t, 1024, *got.MaxCidrHosts, "an absent max_cidr_hosts keeps the stored value")
	dwant.MaxCidrHosts = ptr(256)
	res = f.do(f.admin, http.MethodPut, "system/discovery/config", dwant)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = f.do(viewer, http.MethodGet, "system/discovery/config", nil)
	res.Decode(t, &dc)
	require.Equal(t, dwant, dc.Config)
	require.Equal(t, 2, f.count(`SELECT count(*) FROM audit_events WHERE action = 'system.discovery_config_changed'`))
	for _, bad := range []map[string]any{
		{"interval_sec": 3599, "rate_limit": 5, "detect_on_first_contact": true, "maintenance_global": false},
		{"interval_sec": 3600, "rate_limit": 501, "detect_on_first_contact": true, "maintenance_global": false},
		{"interval_sec": 3600, "rate_limit": 5, "detect_on_first_contact": true, "maintenance_global": false, "max_cidr_hosts": 0},
	} {
		res = f.do(f.admin, http.MethodPut, "system/discovery/config", bad)
		require.Equal(t, http.StatusBadRequest, res.Status, "%v: %s", bad, res.Body)
	}
	res = f.do(viewer, http.MethodPut, "system/discovery/config", dwant)
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
}

func ptr[T any](v T) *T { return &v }

// TestSweep enqueues discovery of every live host out of maintenance, once.
func TestSweep(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, noWorker)
	f := &fixture{t: t, env: env, admin: env.Admin()}
	a := f.bareHost("a", "192.0.2.1", 22)
	f.bareHost("b", "192.0.2.2", 22)
	m := f.bareHost("m", "192.0.2.3", 22)
	res := f.do(f.admin, http.MethodPost, "hosts/"+m.String()+"/maintenance", map[string]any{"enabled": true})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	gone := f.bareHost("gone", "192.0.2.4", 22)
	res = f.do(f.admin, http.MethodDelete, "hosts/"+gone.String(), nil)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)

	sweep := func() int {
		res := f.do(f.admin, http.MethodPost, "system/discovery/sweep", nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var out api.DiscoverySweepResponse
		res.Decode(t, &out)
		return out.Enqueued
	}
	require.Equal(t, 2, sweep())
	require.Equal(t, 0, sweep(), "hosts with a discovery queued are not enqueued twice")
	require.Equal(t, 2, f.count(`SELECT count(*) FROM river_job WHERE kind = 'intel_system_info'`))
	require.Equal(t, 1, f.count(`SELECT count(*) FROM river_job WHERE kind = 'intel_system_info' AND args->>'host_id' = $1`, a.String()))
	require.Equal(t, 2, f.count(`SELECT count(*) FROM audit_events WHERE action = 'discovery.sweep_started'`))
	viewer := env.Login("viewer", env.CreateUser("viewer", authz.RoleViewer))
	res = f.do(viewer, http.MethodPost, "system/discovery/sweep", nil)
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
}

// TestEventCodesMatchSpec keeps the event codes in step with the spec's closed list.
func TestEventCodesMatchSpec(t *testing.T) {
	t.Parallel()
	doc, _, err := app.LoadSpec(api.SpecJSON)
	require.NoError(t, err)
	var spec []string
	for _, v := range doc.Components.Schemas["IntelligenceEventCode"].Value.Enum {
		spec = append(spec, v.(string))
	}
	var ours []string
	for code := range intel.EventSeverity {
		ours = append(ours, code)
	}
	slices.Sort(spec)
	slices.Sort(ours)
	require.Equal(t, spec, ours)
}
