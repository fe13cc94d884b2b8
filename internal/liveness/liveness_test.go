package liveness_test

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/credential"
	"github.com/openwatch/openwatch/internal/hostssh"
	"github.com/openwatch/openwatch/internal/liveness"
	"github.com/openwatch/openwatch/internal/sshx"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// fixture is a running application and an admin session.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	env   *apitest.Env
	admin apitest.Session
	keys  atomic.Int64
}

func newFixture(t *testing.T, opts ...apitest.Option) *fixture {
	t.Helper()
	env := apitest.New(t, opts...)
	return &fixture{t: t, ctx: context.Background(), env: env, admin: env.Admin()}
}

// withPoller runs the real poller with a 100 ms tick, one *_sec unit lasting 10 ms (so
// the minimum interval of 60 is 600 ms).
func withPoller() apitest.Option {
	return func(d *app.Deps) {
		d.Liveness = liveness.Options{Tick: 100 * time.Millisecond, IntervalUnit: 10 * time.Millisecond}
	}
}

func (f *fixture) do(method, path string, body any) *apitest.Response {
	f.t.Helper()
	return f.env.Do(apitest.Request{Method: method, Path: path, Token: f.admin.AccessToken, JSON: body})
}

// host registers a host at addr ("ip:port").
func (f *fixture) host(name, addr string) uuid.UUID {
	f.t.Helper()
	ip, port, err := net.SplitHostPort(addr)
	require.NoError(f.t, err)
	p, err := strconv.Atoi(port)
	require.NoError(f.t, err)
	res := f.do(http.MethodPost, "hosts", map[string]any{"hostname": name, "ip_address": ip, "port": p})
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(f.t, &h)
	return h.Id
}

// credential gives the host a credential of the sshd's user kind (key and password).
func (f *fixture) credential(srv *sshtest.Server, hostID uuid.UUID, kind sshtest.UserKind) {
	f.t.Helper()
	u := srv.User(kind)
	body := map[string]any{"scope": "host", "scope_id": hostID, "name": "cred-" + u.Name, "username": u.Name,
		"auth_method": "ssh_key", "private_key": string(u.PrivateKey)}
	if u.Password != "" {
		body["auth_method"], body["password"] = "both", u.Password
	}
	res := f.do(http.MethodPost, "credentials", body)
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
}

// check runs POST /hosts/{id}/connectivity:check with a fresh idempotency key.
func (f *fixture) check(hostID uuid.UUID) *apitest.Response {
	f.t.Helper()
	key := "check-" + strconv.FormatInt(f.keys.Add(1), 10)
	return f.env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts/" + hostID.String() + "/connectivity:check",
		Token: f.admin.AccessToken, Headers: map[string]string{"Idempotency-Key": key}})
}

func (f *fixture) checkOK(hostID uuid.UUID) api.ConnectivityCheckResult {
	f.t.Helper()
	res := f.check(hostID)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var out api.ConnectivityCheckResult
	res.Decode(f.t, &out)
	return out
}

func (f *fixture) detail(hostID uuid.UUID) api.HostDetailResponse {
	f.t.Helper()
	res := f.do(http.MethodGet, "hosts/"+hostID.String(), nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var out api.HostDetailResponse
	res.Decode(f.t, &out)
	return out
}

// state returns the host's monitoring state as the API shows it ("" before the poller saw
// the host).
func (f *fixture) state(hostID uuid.UUID) string {
	f.t.Helper()
	l := f.detail(hostID).Liveness
	if l == nil || l.MonitoringState == nil {
		return ""
	}
	return string(*l.MonitoringState)
}

func (f *fixture) history(hostID uuid.UUID, query string) api.HostMonitoringHistoryResponse {
	f.t.Helper()
	res := f.do(http.MethodGet, "hosts/"+hostID.String()+"/monitoring/history"+query, nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var out api.HostMonitoringHistoryResponse
	res.Decode(f.t, &out)
	return out
}

// transitions lists "previous>state" of the host's history, oldest first.
func (f *fixture) transitions(hostID uuid.UUID) []string {
	f.t.Helper()
	h := f.history(hostID, "?limit=500")
	out := make([]string, 0, len(h.Entries))
	for i := len(h.Entries) - 1; i >= 0; i-- {
		e := h.Entries[i]
		out = append(out, string(*e.PreviousState)+">"+string(e.MonitoringState))
	}
	return out
}

func (f *fixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	require.NoError(f.t, f.env.App.Pool.QueryRow(f.ctx, query, args...).Scan(&n))
	return n
}

func (f *fixture) alerts(hostID uuid.UUID, status string) int {
	f.t.Helper()
	return f.count(`SELECT count(*) FROM alerts WHERE host_id = $1 AND alert_type = 'host_unreachable' AND state = $2`, hostID, status)
}

func (f *fixture) putConfig(c api.ConnectivityConfig) {
	f.t.Helper()
	res := f.do(http.MethodPut, "system/connectivity/config", c)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
}

// fastConfig is the smallest configuration the API accepts: every interval 60, a timeout
// of timeout seconds, down after 3 failures.
func fastConfig(timeout int) api.ConnectivityConfig {
	return api.ConnectivityConfig{OnlineSec: 60, DegradedSec: 60, CriticalSec: 60, DownSec: 60, MaintenanceSec: 60,
		TimeoutSec: timeout, UnreachableThreshold: 3, RateLimit: 200}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// silent is a TCP server that accepts connections and never says anything, so a banner
// probe of it waits for its whole timeout.
type silent struct {
	l        net.Listener
	accepted atomic.Int64
	first    chan struct{}
	once     sync.Once
}

func startSilent(t *testing.T) *silent {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &silent{l: l, first: make(chan struct{})}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			s.accepted.Add(1)
			s.once.Do(func() { close(s.first) })
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return s
}

func (s *silent) addr() string { return s.l.Addr().String() }

// TestCheckReachesSSHD checks a host served by a real sshd through all three layers, then
// a host without a credential (banner only), and shows the result in the host detail,
// the host list, the history and the audit trail.
func TestCheckReachesSSHD(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := sshtest.Start(t, sshtest.Options{Addr: "127.0.0.1"})
	id := f.host("sshd.example.com", srv.Addr)
	f.credential(srv, id, sshtest.UserSudo)

	require.Nil(t, f.detail(id).Liveness, "never probed")
	res := f.checkOK(id)
	require.True(t, res.Reachable)
	require.Equal(t, api.ReachabilityStatusReachable, res.NewReachabilityStatus)
	require.Equal(t, api.MonitoringStateOnline, *res.MonitoringState)
	require.True(t, *res.PingOk)
	require.True(t, *res.SshOk)
	require.True(t, *res.PrivilegeOk)
	require.Equal(t, api.ConnectivityCheckResultPrivilegeSudo, *res.Privilege)
	require.Contains(t, *res.SshBanner, "SSH-2.0-OpenSSH")
	require.Nil(t, res.ErrorType)

	d := f.detail(id).Liveness
	require.NotNil(t, d)
	require.Equal(t, api.ReachabilityStatusReachable, d.ReachabilityStatus)
	require.Equal(t, 1, *d.SshConsecutiveSuccesses)
	require.Equal(t, 1, *d.PrivilegeConsecutiveSuccesses)
	require.Equal(t, api.HostLivenessPrivilegeSudo, *d.Privilege)
	require.NotNil(t, d.LastStateChangeAt)
	require.Equal(t, []string{"unknown>online"}, f.transitions(id))
	require.Equal(t, 1, f.count(`SELECT count(*) FROM events WHERE type = 'host.state_changed' AND host_id = $1`, id))

	// A replay of a check (same Idempotency-Key) answers the same without probing again.
	replay := func() *apitest.Response {
		return f.env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts/" + id.String() + "/connectivity:check",
			Token: f.admin.AccessToken, Headers: map[string]string{"Idempotency-Key": "replayed"}})
	}
	r1, r2 := replay(), replay()
	require.Equal(t, http.StatusOK, r1.Status, "%s", r1.Body)
	require.Equal(t, string(r1.Body), string(r2.Body))
	require.Equal(t, 2, *f.detail(id).Liveness.PingConsecutiveSuccesses, "the replay did not probe")

	// Another check changes nothing but the counters: no transition, no event.
	f.checkOK(id)
	require.Equal(t, 3, *f.detail(id).Liveness.PingConsecutiveSuccesses)
	require.Len(t, f.transitions(id), 1)
	require.Equal(t, 1, f.count(`SELECT count(*) FROM events WHERE type = 'host.state_changed' AND host_id = $1`, id))
	require.Equal(t, 3, f.count(`SELECT count(*) FROM audit_events WHERE action = 'host.connectivity_checked' AND resource_id = $1`, id.String()))

	// The list shows the state (through the page cache, which the transition cleared).
	require.Eventually(t, func() bool {
		res := f.do(http.MethodGet, "hosts", nil)
		var page api.HostListResponse
		res.Decode(t, &page)
		return len(page.Hosts) == 1 && page.Hosts[0].Liveness != nil &&
			page.Hosts[0].Liveness.MonitoringState == api.MonitoringStateOnline
	}, 10*time.Second, 20*time.Millisecond)

	// Without a credential only the banner layer runs, and that is online too.
	bare := f.host("bare.example.com", srv.Addr)
	res = f.checkOK(bare)
	require.Equal(t, api.MonitoringStateOnline, *res.MonitoringState)
	require.Nil(t, res.SshOk)
	require.Nil(t, res.PrivilegeOk)

	// A login that cannot get root makes the host degraded.
	wrong := f.host("wrong.example.com", srv.Addr)
	f.credential(srv, wrong, sshtest.UserPlain)
	res = f.checkOK(wrong)
	require.Equal(t, api.MonitoringStateDegraded, *res.MonitoringState)
	require.True(t, *res.SshOk)
	require.False(t, *res.PrivilegeOk)
	require.Equal(t, sshx.TypePrivilegeDenied, *res.ErrorType)
	require.Equal(t, api.ReachabilityStatusReachable, res.NewReachabilityStatus)

	// Unknown hosts are 404.
	res404 := f.check(uuid.Must(uuid.NewV7()))
	require.Equal(t, http.StatusNotFound, res404.Status, "%s", res404.Body)
}

// TestCheckClosedPortGoesDown checks a closed port until the host is down: critical
// first, down at the threshold, with one open host_unreachable alert however often it
// is confirmed.
func TestCheckClosedPortGoesDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.host("closed.example.com", closedAddr(t))

	res := f.checkOK(id)
	require.False(t, res.Reachable)
	require.Equal(t, api.ReachabilityStatusUnreachable, res.NewReachabilityStatus)
	require.Equal(t, api.MonitoringStateCritical, *res.MonitoringState)
	require.Equal(t, sshx.TypeConnectionRefused, *res.ErrorType)
	require.False(t, *res.PingOk)
	require.Nil(t, res.SshOk)

	require.Equal(t, api.MonitoringStateCritical, *f.checkOK(id).MonitoringState)
	require.Equal(t, 0, f.alerts(id, "active"))
	require.Equal(t, api.MonitoringStateDown, *f.checkOK(id).MonitoringState)
	require.Equal(t, 1, f.alerts(id, "active"))
	require.Equal(t, api.MonitoringStateDown, *f.checkOK(id).MonitoringState)
	require.Equal(t, 1, f.alerts(id, "active"), "one open alert per host")
	require.Equal(t, 1, f.count(`SELECT count(*) FROM events WHERE type = 'alert.raised' AND host_id = $1`, id))

	d := f.detail(id).Liveness
	require.Equal(t, 4, *d.PingConsecutiveFailures)
	require.Equal(t, 4, *d.ConsecutiveFailures)
	require.Equal(t, sshx.TypeConnectionRefused, *d.LastErrorType)

	// History: newest first, paginated.
	require.Equal(t, []string{"unknown>critical", "critical>down"}, f.transitions(id))
	page := f.history(id, "?limit=1")
	require.Len(t, page.Entries, 1)
	require.Equal(t, api.MonitoringStateDown, page.Entries[0].MonitoringState)
	require.Equal(t, api.HostMonitoringHistoryEntryFailedLayer("ping"), *page.Entries[0].FailedLayer)
	require.NotNil(t, page.NextCursor)
	page = f.history(id, "?limit=1&cursor="+*page.NextCursor)
	require.Len(t, page.Entries, 1)
	require.Equal(t, api.MonitoringStateCritical, page.Entries[0].MonitoringState)
	require.Nil(t, page.NextCursor)
	bad := f.do(http.MethodGet, "hosts/"+id.String()+"/monitoring/history?cursor=nope", nil)
	require.Equal(t, http.StatusBadRequest, bad.Status, "%s", bad.Body)
	missing := f.do(http.MethodGet, "hosts/"+uuid.Must(uuid.NewV7()).String()+"/monitoring/history", nil)
	require.Equal(t, http.StatusNotFound, missing.Status, "%s", missing.Body)
}

// TestCheckBusy: a check of a host whose probe is in flight (an on-demand check waiting on
// a server that never sends its banner) waits for it to end and then probes the host
// itself; a probe still in flight when the wait is over (a lease the poller holds) is
// 409 host.busy.
func TestCheckBusy(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(d *app.Deps) { d.Liveness.CheckWait = 4 * time.Second })
	f.putConfig(fastConfig(2))
	s := startSilent(t)
	id := f.host("silent.example.com", s.addr())

	first := make(chan *apitest.Response, 1)
	go func() { first <- f.check(id) }()
	<-s.first
	start := time.Now()
	second := f.check(id)
	done := <-first
	for _, res := range []*apitest.Response{done, second} {
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var out api.ConnectivityCheckResult
		res.Decode(t, &out)
		require.False(t, out.Reachable)
		require.Equal(t, sshx.TypeTimeout, *out.ErrorType)
	}
	require.GreaterOrEqual(t, time.Since(start), 2*time.Second, "the second check probed after the first, timing out itself")

	// Once it finished the host can be checked again; a lease the poller holds past the
	// wait is busy.
	f.checkOK(id)
	_, err := f.env.App.Pool.Exec(f.ctx, `UPDATE host_liveness SET probe_lease_until = now() + interval '1 hour' WHERE host_id = $1`, id)
	require.NoError(t, err)
	res := f.check(id)
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	require.Equal(t, "host.busy", res.Err(t).Error.Code)
}

// TestPollerDownAndBack runs the real poller (a River periodic job) against a real sshd:
// the host comes online, goes down when sshd stops (raising an alert) and comes back
// when it restarts (resolving it). A host in maintenance is never probed.
func TestPollerDownAndBack(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withPoller())
	f.putConfig(fastConfig(2))
	srv := sshtest.Start(t, sshtest.Options{Addr: "127.0.0.1"})
	id := f.host("polled.example.com", srv.Addr)
	f.credential(srv, id, sshtest.UserSudo)
	// The maintenance host is in maintenance from its creation on (its group is), so the
	// running poller can never reach it first; its own flag then keeps it there.
	quiet := startSilent(t)
	res := f.do(http.MethodPost, "groups", map[string]any{"name": "quiet"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var g api.HostGroup
	res.Decode(t, &g)
	res = f.do(http.MethodPost, "groups/"+g.Id.String()+":maintenance", map[string]any{"enabled": true})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	ip, port, err := net.SplitHostPort(quiet.addr())
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	res = f.do(http.MethodPost, "hosts", map[string]any{"hostname": "maintenance.example.com", "ip_address": ip, "port": p, "group_id": g.Id})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var mh api.HostResponse
	res.Decode(t, &mh)
	maint := mh.Id
	res = f.do(http.MethodPost, "hosts/"+maint.String()+"/maintenance", map[string]any{"enabled": true})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = f.do(http.MethodPost, "groups/"+g.Id.String()+":maintenance", map[string]any{"enabled": false})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)

	waitState := func(host uuid.UUID, want string) {
		t.Helper()
		require.Eventually(t, func() bool { return f.state(host) == want }, 30*time.Second, 50*time.Millisecond,
			"host never became %s (is %q)", want, f.state(host))
	}
	waitState(id, liveness.StateOnline)
	require.Equal(t, api.HostLivenessPrivilegeSudo, *f.detail(id).Liveness.Privilege)
	waitState(maint, liveness.StateMaintenance)

	srv.Stop()
	waitState(id, liveness.StateDown)
	require.Equal(t, 1, f.alerts(id, "active"))

	srv.Restart()
	waitState(id, liveness.StateOnline)
	require.Equal(t, 0, f.alerts(id, "active"))
	require.Equal(t, 1, f.alerts(id, "resolved"))
	require.Equal(t, 1, f.count(`SELECT count(*) FROM alerts WHERE host_id = $1 AND resolved_at IS NOT NULL`, id))
	// Raised and auto-resolved through the alert package: keyed per host, the clearing
	// audited as the system.
	require.Equal(t, 1, f.count(`SELECT count(*) FROM alerts WHERE dedup_key = 'host_unreachable:' || $1::text AND resolved_by IS NULL`, id))
	require.Equal(t, 1, f.count(`SELECT count(*) FROM audit_events a JOIN alerts al ON a.resource_id = al.id::text
		WHERE al.host_id = $1 AND a.action = 'alert.resolved' AND a.actor_type = 'system'`, id))
	// Online, down through critical, online again. A probe that meets sshd half-started or
	// half-stopped (banner read, login failed) may add a pass through degraded on the way.
	tr := f.transitions(id)
	require.Equal(t, "unknown>online", tr[0], "%v", tr)
	require.Contains(t, tr, "critical>down", "%v", tr)
	require.True(t, strings.HasSuffix(tr[len(tr)-1], ">online"), "%v", tr)
	for i := 1; i < len(tr); i++ {
		prevTo := strings.SplitN(tr[i-1], ">", 2)[1]
		require.True(t, strings.HasPrefix(tr[i], prevTo+">"), "one chain of states: %v", tr)
	}
	require.Subset(t, []string{"unknown>online", "online>degraded", "degraded>online", "online>critical",
		"degraded>critical", "critical>down", "down>degraded", "down>online", "critical>online", "critical>degraded"}, tr)
	require.Equal(t, 1, f.count(`SELECT count(*) FROM events WHERE type = 'alert.resolved' AND host_id = $1`, id))

	// The maintenance host was marked, never probed.
	require.Equal(t, int64(0), quiet.accepted.Load())
	require.Nil(t, f.detail(maint).Liveness.LastProbeAt)

	res = f.do(http.MethodGet, "system/connectivity/status", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var st api.ConnectivityStatus
	res.Decode(t, &st)
	require.True(t, st.WorkerRunning)
	require.NotNil(t, st.LastTickAt)
	require.GreaterOrEqual(t, st.ProbeCount, int64(5))
	require.GreaterOrEqual(t, st.ProbeFailureCount, int64(3))
	require.GreaterOrEqual(t, st.StateTransitionCount, int64(5))
	require.False(t, st.MaintenanceActive)

	// Leaving maintenance makes the host due at once: it is probed (and, silent, fails).
	res = f.do(http.MethodPost, "hosts/"+maint.String()+"/maintenance", map[string]any{"enabled": false})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.Eventually(t, func() bool { return quiet.accepted.Load() > 0 }, 30*time.Second, 50*time.Millisecond)
}

// TestGlobalMaintenance shows maintenance_global stops probing: due hosts are marked
// maintenance instead, and turning it off probes them again.
func TestGlobalMaintenance(t *testing.T) {
	t.Parallel()
	f := newFixture(t, withPoller())
	c := fastConfig(2)
	c.MaintenanceGlobal = true
	f.putConfig(c)
	quiet := startSilent(t)
	id := f.host("global.example.com", quiet.addr())
	require.Eventually(t, func() bool { return f.state(id) == liveness.StateMaintenance }, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, int64(0), quiet.accepted.Load())
	var st api.ConnectivityStatus
	f.do(http.MethodGet, "system/connectivity/status", nil).Decode(t, &st)
	require.True(t, st.MaintenanceActive)

	c.MaintenanceGlobal = false
	f.putConfig(c)
	require.Eventually(t, func() bool { return quiet.accepted.Load() > 0 }, 30*time.Second, 50*time.Millisecond)
}

// TestConnectivityConfig reads the defaults, rejects values out of range, and audits a
// change with its before and after values.
func TestConnectivityConfig(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	res := f.do(http.MethodGet, "system/connectivity/config", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var got api.ConnectivityConfigResponse
	res.Decode(t, &got)
	require.Equal(t, got.Defaults, got.Config)
	require.Equal(t, 300, got.Defaults.OnlineSec)
	require.Equal(t, 200, got.Defaults.RateLimit)
	require.Equal(t, 3, got.Defaults.UnreachableThreshold)

	for name, mutate := range map[string]func(*api.ConnectivityConfig){
		"interval too short": func(c *api.ConnectivityConfig) { c.OnlineSec = 59 },
		"timeout too long":   func(c *api.ConnectivityConfig) { c.TimeoutSec = 31 },
		"threshold zero":     func(c *api.ConnectivityConfig) { c.UnreachableThreshold = 0 },
		"rate too high":      func(c *api.ConnectivityConfig) { c.RateLimit = 201 },
	} {
		c := got.Defaults
		mutate(&c)
		res := f.do(http.MethodPut, "system/connectivity/config", c)
		require.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", name, res.Body)
	}
	require.Equal(t, 0, f.count(`SELECT count(*) FROM audit_events WHERE action = 'system.connectivity_config_changed'`))

	want := fastConfig(7)
	f.putConfig(want)
	res = f.do(http.MethodGet, "system/connectivity/config", nil)
	res.Decode(t, &got)
	require.Equal(t, want, got.Config)
	var before, after int
	require.NoError(t, f.env.App.Pool.QueryRow(f.ctx, `SELECT (detail->'before'->>'online_sec')::int, (detail->'after'->>'online_sec')::int
		FROM audit_events WHERE action = 'system.connectivity_config_changed'`).Scan(&before, &after))
	require.Equal(t, 300, before)
	require.Equal(t, 60, after)

	// A viewer reads but may not change it.
	viewer := f.env.Login("viewer", f.env.CreateUser("viewer", "viewer"))
	res = f.env.Do(apitest.Request{Method: http.MethodGet, Path: "system/connectivity/config", Token: viewer.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = f.env.Do(apitest.Request{Method: http.MethodPut, Path: "system/connectivity/config", Token: viewer.AccessToken, JSON: want})
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
}

// TestShortenedIntervalReschedules shows a shorter interval brings forward hosts
// scheduled later than it.
func TestShortenedIntervalReschedules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	slow := fastConfig(5)
	slow.CriticalSec = 3600
	f.putConfig(slow)
	id := f.host("later.example.com", closedAddr(t))
	require.Equal(t, api.MonitoringStateCritical, *f.checkOK(id).MonitoringState)
	due := `SELECT count(*) FROM host_liveness WHERE host_id = $1 AND next_probe_at <= now() + interval '61 seconds'`
	require.Equal(t, 0, f.count(due, id))
	f.putConfig(fastConfig(5))
	require.Equal(t, 1, f.count(due, id))
}

// TestFleetCounts counts hosts never probed, reachable and unreachable.
func TestFleetCounts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := sshtest.Start(t, sshtest.Options{Addr: "127.0.0.1"})
	f.host("never.example.com", closedAddr(t))
	f.checkOK(f.host("up.example.com", srv.Addr))
	f.checkOK(f.host("down.example.com", closedAddr(t)))
	deleted := f.host("deleted.example.com", srv.Addr)
	f.checkOK(deleted)
	require.Equal(t, http.StatusNoContent, f.do(http.MethodDelete, "hosts/"+deleted.String(), nil).Status)

	res := f.do(http.MethodGet, "fleet/liveness", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var fl api.FleetLiveness
	res.Decode(t, &fl)
	require.Equal(t, api.FleetLiveness{Reachable: 1, Unreachable: 1, Unknown: 0, NeverProbed: 1}, fl)

	res = f.do(http.MethodGet, "fleet/connectivity/breakdown", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var b api.ConnectivityBreakdown
	res.Decode(t, &b)
	require.Equal(t, int64(1), b.Online)
	require.Equal(t, int64(1), b.Critical)
	require.Equal(t, int64(0), b.Down)
	require.Equal(t, int64(1), b.NeverProbed)
	require.Equal(t, int64(0), *b.Maintenance)

	res = f.do(http.MethodGet, "system/connectivity/status", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var st api.ConnectivityStatus
	res.Decode(t, &st)
	require.Equal(t, int64(3), st.ProbeCount)
	require.Equal(t, int64(2), st.ProbeSuccessCount)
	require.Equal(t, int64(1), st.ProbeFailureCount)
	require.Equal(t, int64(3), st.StateTransitionCount)
	require.Nil(t, st.LastTickAt, "the poller is off in this test")
	require.Equal(t, int64(1), st.HostsDue, "the host never probed is due")
	// The application works jobs in-process, so River has a leader.
	require.Eventually(t, func() bool {
		var st api.ConnectivityStatus
		f.do(http.MethodGet, "system/connectivity/status", nil).Decode(t, &st)
		return st.WorkerRunning
	}, 30*time.Second, 50*time.Millisecond)
}

// TestStateChangeNotifiesInventory shows the inventory channel hears of a liveness row
// only when its state changes, not on every probe.
func TestStateChangeNotifiesInventory(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.host("notify.example.com", closedAddr(t))
	f.checkOK(id)

	conn, err := f.env.App.Pool.Acquire(f.ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(f.ctx, "LISTEN openwatch_inventory")
	require.NoError(t, err)
	exec := func(sql string) {
		_, err := f.env.App.Pool.Exec(f.ctx, sql, id)
		require.NoError(t, err)
	}
	next := func() string {
		ctx, cancel := context.WithTimeout(f.ctx, 10*time.Second)
		defer cancel()
		n, err := conn.Conn().WaitForNotification(ctx)
		require.NoError(t, err)
		return n.Payload
	}
	exec(`UPDATE host_liveness SET last_probe_at = now(), ping_consecutive_failures = 9 WHERE host_id = $1`)
	exec(`SELECT pg_notify('openwatch_inventory', 'marker ' || $1::text)`)
	require.Equal(t, "marker "+id.String(), next(), "a probe without a transition is silent")
	exec(`UPDATE host_liveness SET monitoring_state = 'down' WHERE host_id = $1`)
	require.Equal(t, "host_liveness", next())
	_, err = conn.Exec(f.ctx, "UNLISTEN *")
	require.NoError(t, err)
}

// TestMaintenanceChangesMakeHostsDue shows the triggers of 00013_liveness.sql: a host
// entering or leaving maintenance (its own, or its group's, or by joining a group in
// maintenance) is due at once, and a deleted host loses its liveness row.
func TestMaintenanceChangesMakeHostsDue(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.host("due.example.com", closedAddr(t))
	f.checkOK(id)
	later := func() {
		t.Helper()
		_, err := f.env.App.Pool.Exec(f.ctx, `UPDATE host_liveness SET next_probe_at = now() + interval '1 hour' WHERE host_id = $1`, id)
		require.NoError(t, err)
	}
	due := func(why string) {
		t.Helper()
		require.Equal(t, 1, f.count(`SELECT count(*) FROM host_liveness WHERE host_id = $1 AND next_probe_at <= now()`, id), why)
	}
	ok := func(res *apitest.Response, want int) {
		t.Helper()
		require.Equal(t, want, res.Status, "%s", res.Body)
	}

	later()
	ok(f.do(http.MethodPost, "hosts/"+id.String()+"/maintenance", map[string]any{"enabled": true}), http.StatusOK)
	due("the host entered maintenance")
	later()
	ok(f.do(http.MethodPost, "hosts/"+id.String()+"/maintenance", map[string]any{"enabled": false}), http.StatusOK)
	due("the host left maintenance")

	res := f.do(http.MethodPost, "groups", map[string]any{"name": "due-group"})
	ok(res, http.StatusCreated)
	var g api.HostGroup
	res.Decode(t, &g)
	ok(f.do(http.MethodPost, "groups/"+g.Id.String()+":maintenance", map[string]any{"enabled": true}), http.StatusOK)
	later()
	ok(f.do(http.MethodPut, "groups/"+g.Id.String()+"/members/"+id.String(), nil), http.StatusNoContent)
	due("the host joined a group in maintenance")
	later()
	ok(f.do(http.MethodPost, "groups/"+g.Id.String()+":maintenance", map[string]any{"enabled": false}), http.StatusOK)
	due("the host's group left maintenance")

	ok(f.do(http.MethodDelete, "hosts/"+id.String(), nil), http.StatusNoContent)
	require.Equal(t, 0, f.count(`SELECT count(*) FROM host_liveness WHERE host_id = $1`, id), "a deleted host is not polled")
}

// TestCheckNeedsOneConnectionAtATime runs a check through every layer on a pool of a
// single connection: a busy server, whose other connections are held by listeners and
// jobs, must still finish it. A check used to hold an advisory lock on a pooled connection
// for its whole probe while the login and the recording needed another: on a busy pool
// the login timed out and recording the result failed with a raw context deadline, which
// the API answered as 500 internal.error.
func TestCheckNeedsOneConnectionAtATime(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	srv := sshtest.Start(t, sshtest.Options{Addr: "127.0.0.1"})
	id := f.host("pool.example.com", srv.Addr)
	f.credential(srv, id, sshtest.UserSudo)

	cfg, err := pgxpool.ParseConfig(f.env.App.Pool.Config().ConnString())
	require.NoError(t, err)
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(f.ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	aw, keyring, err := app.OpenAuditTrail(f.ctx, f.env.App.Config, pool, nil)
	require.NoError(t, err)
	creds := credential.NewService(pool, keyring, aw, time.Now)
	svc := liveness.NewService(pool, aw, hostssh.NewConnector(pool, creds, aw, hostssh.Options{}), nil, liveness.Options{})

	// The deadline only keeps a starved check from hanging the test binary.
	ctx, cancel := context.WithTimeout(f.ctx, 2*time.Minute)
	defer cancel()
	res, err := svc.Check(ctx, nil, id)
	require.NoError(t, err)
	require.True(t, res.Probe.PingOK, res.Probe.ErrorMessage)
	require.True(t, *res.Probe.SSHOK, res.Probe.ErrorMessage)
	require.True(t, *res.Probe.PrivilegeOK, res.Probe.ErrorMessage)
	require.Equal(t, liveness.StateOnline, res.State)
}

// TestCheckStoppedIsRetryable shows a check whose context ends (the database did not
// answer in time, or the request went away) answers service.unavailable naming the layer
// and the step, which is retryable, never a raw context error (500 internal.error), and
// leaves the host free for the next check.
func TestCheckStoppedIsRetryable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.host("stopped.example.com", closedAddr(t))

	cancelled, cancel := context.WithCancel(f.ctx)
	cancel()
	expired, cancelExpired := context.WithDeadline(f.ctx, time.Now().Add(-time.Second))
	defer cancelExpired()
	for ctx, why := range map[context.Context]string{cancelled: "the request was cancelled", expired: "did not answer in time"} {
		_, err := f.env.App.Liveness.Check(ctx, nil, id)
		e := apperr.As(err)
		require.Equal(t, apperr.CodeUnavailable, e.Code, "%v", err)
		require.True(t, e.Spec().Retryable)
		require.Equal(t, "database", e.Detail["layer"])
		require.Contains(t, e.HumanMessage(), why)
	}
	require.Equal(t, api.MonitoringStateCritical, *f.checkOK(id).MonitoringState)
}
