package liveness_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/sshx"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// dialLog records every address the application's dialer lets through. Dialling an
// address outside loopback fails the test and is refused: it never leaves the machine.
type dialLog struct {
	t     *testing.T
	mu    sync.Mutex
	addrs []string
}

func (l *dialLog) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	l.mu.Lock()
	l.addrs = append(l.addrs, addr)
	l.mu.Unlock()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil || !ap.Addr().IsLoopback() {
		l.t.Errorf("the dialer let %s through: only loopback may be dialled", addr)
		return nil, errors.New("test: refused to dial outside loopback")
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

func (l *dialLog) dialled() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.addrs)
}

// withDialLog makes the application open its connections through l.
func withDialLog(l *dialLog) apitest.Option {
	return func(d *app.Deps) { d.DialFunc = l.dial }
}

// TestNothingOutsideAllowedNetworksIsDialled runs every path that opens connections (an
// on-demand check, the poller, a discovery and a network range scan) against hosts at a
// documentation and a private address under the test harness's allow-list (loopback):
// each is refused before a socket is opened, counted, and reported as not_allowed, while
// a host on loopback is still probed through the same dialer.
func TestNothingOutsideAllowedNetworksIsDialled(t *testing.T) {
	t.Parallel()
	log := &dialLog{t: t}
	f := newFixture(t, withPoller(), withDialLog(log))
	require.Equal(t, "127.0.0.0/8,::1/128", f.env.App.Config.SSH.AllowedNetworks.String(), "the harness allows loopback only")
	before := f.env.App.Dialer.Blocked()
	f.putConfig(fastConfig(2))
	srv := sshtest.Start(t, sshtest.Options{Addr: "127.0.0.1"})
	local := f.host("local.example.com", srv.Addr)
	f.credential(srv, local, sshtest.UserSudo)
	far := f.host("far.example.com", "192.0.2.10:22")
	f.credential(srv, far, sshtest.UserSudo)
	private := f.host("private.example.com", "10.1.2.3:22")

	// An on-demand check fails the ping layer without contacting the host. (The poller may
	// already have been refused these hosts too: the count only grows.)
	res := f.checkOK(far)
	require.False(t, res.Reachable)
	require.Equal(t, sshx.TypeNotAllowed, *res.ErrorType)
	require.Contains(t, *res.ErrorMessage, "outside the networks SSH may reach")
	require.Nil(t, res.SshOk, "the login layer never ran")
	h := f.history(far, "")
	require.Equal(t, api.HostMonitoringHistoryEntryFailedLayer("ping"), *h.Entries[0].FailedLayer)
	blocked := f.env.App.Dialer.Blocked()
	require.Greater(t, blocked, before)

	// The poller probes every host: the private one fails the same way, the local one
	// comes online through the same dialer.
	require.Eventually(t, func() bool {
		l := f.detail(private).Liveness
		return l != nil && l.LastErrorType != nil && f.state(local) == string(api.MonitoringStateOnline)
	}, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, sshx.TypeNotAllowed, *f.detail(private).Liveness.LastErrorType)
	// At least the check of the far host and the poller's probe of the private one were
	// refused (in whichever order they ran).
	require.GreaterOrEqual(t, f.env.App.Dialer.Blocked(), before+2)

	// A discovery (the login path) refuses it too, naming the reason.
	disc := f.env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts/" + far.String() + "/discovery:run",
		Token: f.admin.AccessToken, Headers: map[string]string{"Idempotency-Key": "discover-far"}})
	require.Equal(t, http.StatusBadGateway, disc.Status, "%s", disc.Body)
	e := disc.Err(t).Error
	require.Equal(t, "host.unreachable", e.Code)
	require.Equal(t, sshx.TypeNotAllowed, e.Detail["error_type"])

	// So does a network range scan: it finds nothing and dials nothing.
	started := f.do(http.MethodPost, "discovery/cidr", map[string]any{"cidr": "198.51.100.0/30", "ports": []int{22}})
	require.Equal(t, http.StatusAccepted, started.Status, "%s", started.Body)
	var scan api.DiscoveryScan
	started.Decode(t, &scan)
	require.Eventually(t, func() bool {
		r := f.do(http.MethodGet, "discovery/"+scan.Id.String(), nil)
		r.Decode(t, &scan)
		return scan.Status == "completed" || scan.Status == "failed"
	}, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, api.DiscoveryScanStatus("completed"), scan.Status)
	require.EqualValues(t, 2, scan.Scanned)
	require.Zero(t, scan.Found)

	dialled := log.dialled()
	require.Contains(t, dialled, srv.Addr, "the loopback host went through the recording dialer")
	for _, a := range dialled {
		ap, err := netip.ParseAddrPort(a)
		require.NoError(t, err)
		require.True(t, ap.Addr().IsLoopback(), "dialled %s", a)
	}
}
