package netscan_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/intel"
	"github.com/openwatch/openwatch/internal/netscan"
	"github.com/openwatch/openwatch/internal/settings"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

type client struct {
	env   *apitest.Env
	token string
}

func (c client) do(method, path string, body any) *apitest.Response {
	c.env.T.Helper()
	return c.env.Do(apitest.Request{Method: method, Path: path, Token: c.token, JSON: body})
}

// start posts a scan and returns it (202).
func (c client) start(body map[string]any) api.DiscoveryScan {
	t := c.env.T
	t.Helper()
	res := c.do(http.MethodPost, "discovery/cidr", body)
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	var scan api.DiscoveryScan
	res.Decode(t, &scan)
	return scan
}

// wait polls the scan until it has finished.
func (c client) wait(id uuid.UUID) api.DiscoveryScan {
	t := c.env.T
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res := c.do(http.MethodGet, "discovery/"+id.String(), nil)
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var scan api.DiscoveryScan
		res.Decode(t, &scan)
		if scan.Status == "completed" || scan.Status == "failed" {
			return scan
		}
		require.True(t, time.Now().Before(deadline), "scan still %s after a minute: %+v", scan.Status, scan)
		time.Sleep(50 * time.Millisecond)
	}
}

func (c client) countEvents(typ string, scanID uuid.UUID) int {
	var n int
	require.NoError(c.env.T, c.env.App.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM events WHERE type = $1 AND data->>'scan_id' = $2`, typ, scanID.String()).Scan(&n))
	return n
}

func TestCIDRScanFindsAndRegisters(t *testing.T) {
	t.Parallel()
	s2 := sshtest.Start(t, sshtest.Options{Addr: "127.0.0.2"})
	s3 := sshtest.Start(t, sshtest.Options{Addr: "127.0.0.3"})
	env := apitest.New(t)
	c := client{env: env, token: env.Admin().AccessToken}

	// The configured maximum is read at each start: 8 addresses allow exactly a /29.
	require.NoError(t, settings.Save(context.Background(), env.App.Pool, intel.SystemInfoSettingsKey, map[string]any{"max_cidr_hosts": 8}, nil))
	res := c.do(http.MethodPost, "discovery/cidr", map[string]any{"cidr": "127.0.0.0/28", "ports": []int{s2.Port}})
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	e := res.Err(t).Error
	require.Equal(t, "discovery.range_too_large", e.Code)
	require.EqualValues(t, 16, e.Detail["size"])
	require.EqualValues(t, 8, e.Detail["max"])

	// Host bits set are fine: the network is normalised.
	scan := c.start(map[string]any{"cidr": "127.0.0.5/29", "ports": []int{s3.Port, s2.Port}})
	require.Equal(t, "127.0.0.0/29", scan.Cidr)
	require.ElementsMatch(t, []int{s2.Port, s3.Port}, scan.Ports)
	require.EqualValues(t, 6*2, scan.Total, "six addresses (no network, no broadcast) × two ports")
	require.Empty(t, scan.Hosts)

	done := c.wait(scan.Id)
	require.Equal(t, api.DiscoveryScanStatus("completed"), done.Status, "error: %v", done.Error)
	require.EqualValues(t, 12, done.Scanned)
	require.EqualValues(t, 2, done.Found)
	require.NotNil(t, done.StartedAt)
	require.NotNil(t, done.FinishedAt)
	require.Len(t, done.Hosts, 2)
	for i, want := range []*sshtest.Server{s2, s3} {
		h := done.Hosts[i]
		require.Equal(t, want.Host, h.Address, "ordered by address")
		require.Equal(t, want.Port, h.Port)
		require.Regexp(t, `^SSH-2\.0-OpenSSH`, h.SshBanner)
		require.NotNil(t, h.ResponseTimeMs)
		require.Nil(t, h.RegisteredHostId)
	}
	require.Equal(t, 2, c.countEvents("discovery.host_found", scan.Id))
	require.Equal(t, 1, c.countEvents("discovery.completed", scan.Id))
	require.GreaterOrEqual(t, c.countEvents("job.progress", scan.Id), 1)

	// A second run of the job (as after a crash before it finished) records nothing twice.
	_, err := env.App.Pool.Exec(context.Background(), `UPDATE discovery_scans SET status = 'running' WHERE id = $1`, scan.Id)
	require.NoError(t, err)
	svc := netscan.NewService(env.App.Pool, env.App.Audit, env.App.Jobs, env.App.Hosts, netscan.Options{})
	require.NoError(t, svc.Run(context.Background(), scan.Id))
	again := c.wait(scan.Id)
	require.Equal(t, done.Hosts, again.Hosts)
	require.EqualValues(t, 2, again.Found)
	require.Equal(t, 2, c.countEvents("discovery.host_found", scan.Id), "a server is announced once")

	// Register one: a host with that address and port; the hostname defaults to the address.
	path := "discovery/" + scan.Id.String() + "/hosts/"
	res = c.do(http.MethodPost, path+"127.0.0.2:register", nil)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(t, &h)
	require.Equal(t, "127.0.0.2", h.IpAddress)
	require.Equal(t, "127.0.0.2", h.Hostname)
	require.Equal(t, s2.Port, h.Port)

	res = c.do(http.MethodPost, path+"127.0.0.2:register", nil)
	require.Equal(t, http.StatusConflict, res.Status, "registering again: %s", res.Body)

	// The other one with a body, by two requests at once under different hostnames: one
	// creates the host, the other gets a conflict (not a second host).
	recs := make([]*httptest.ResponseRecorder, 2)
	var wg sync.WaitGroup
	for i := range recs {
		recs[i] = httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/api/v1/"+path+"127.0.0.3:register", strings.NewReader(`{"hostname": "web3-`+strconv.Itoa(i)+`", "environment": "lab", "tags": ["found"]}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+c.token)
		wg.Go(func() { env.App.Handler().ServeHTTP(recs[i], req) })
	}
	wg.Wait()
	codes := []int{recs[0].Code, recs[1].Code}
	require.ElementsMatch(t, []int{http.StatusCreated, http.StatusConflict}, codes, "%s / %s", recs[0].Body, recs[1].Body)
	created := recs[0]
	if codes[1] == http.StatusCreated {
		created = recs[1]
	}
	var h3 api.HostResponse
	require.NoError(t, json.Unmarshal(created.Body.Bytes(), &h3))
	require.Contains(t, []string{"web3-0", "web3-1"}, h3.Hostname)
	require.Equal(t, "lab", h3.Environment)
	require.Equal(t, []string{"found"}, *h3.Tags)
	require.Equal(t, s3.Port, h3.Port)

	got := c.wait(scan.Id)
	require.Equal(t, h.Id, *got.Hosts[0].RegisteredHostId)
	require.Equal(t, h3.Id, *got.Hosts[1].RegisteredHostId)

	res = c.do(http.MethodPost, path+"127.0.0.4:register", nil)
	require.Equal(t, http.StatusNotFound, res.Status, "an address the scan did not find: %s", res.Body)
	res = c.do(http.MethodPost, "discovery/"+uuid.NewString()+"/hosts/127.0.0.2:register", nil)
	require.Equal(t, http.StatusNotFound, res.Status, "an unknown scan: %s", res.Body)
	res = c.do(http.MethodPost, path+"not-an-ip:register", nil)
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	require.Equal(t, "address", res.Err(t).Error.Detail["field"])

	// Audited: the scan, each registration, and the hosts themselves.
	for action, want := range map[string]int{"discovery.scan_started": 1, "discovery.host_registered": 2, "host.created": 2} {
		res = c.do(http.MethodGet, "audit/events?action="+action, nil)
		var page api.AuditEventsPage
		res.Decode(t, &page)
		require.Len(t, page.Items, want, action)
	}
}

// TestRegisterIsOneTransaction: a registration inside a caller's transaction that rolls
// back leaves nothing behind (no host, no audit event, the address still registrable), and
// a registration whose host cannot be created leaves the address registrable too.
func TestRegisterIsOneTransaction(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{})
	env := apitest.New(t)
	c := client{env: env, token: env.Admin().AccessToken}
	scan := c.start(map[string]any{"cidr": "127.0.0.1/32", "ports": []int{srv.Port}})
	require.Len(t, c.wait(scan.Id).Hosts, 1)
	ctx := context.Background()
	count := func(query string, args ...any) int {
		var n int
		require.NoError(t, env.App.Pool.QueryRow(ctx, query, args...).Scan(&n))
		return n
	}

	tx, err := env.App.Pool.Begin(ctx)
	require.NoError(t, err)
	h, err := env.App.Scans.RegisterTx(ctx, tx, nil, scan.Id, "127.0.0.1", netscan.RegisterInput{Hostname: "rolled-back"})
	require.NoError(t, err)
	require.Equal(t, "rolled-back", h.Hostname)
	require.NoError(t, tx.Rollback(ctx))
	require.Zero(t, count(`SELECT count(*) FROM hosts WHERE hostname = 'rolled-back'`))
	require.Zero(t, count(`SELECT count(*) FROM audit_events WHERE action IN ('discovery.host_registered', 'host.created')`))

	res := c.do(http.MethodPost, "hosts", map[string]any{"hostname": "taken", "ip_address": "127.0.0.9"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	path := "discovery/" + scan.Id.String() + "/hosts/127.0.0.1:register"
	res = c.do(http.MethodPost, path, map[string]any{"hostname": "taken"})
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	require.Zero(t, count(`SELECT count(*) FROM audit_events WHERE action = 'discovery.host_registered'`))
	res = c.do(http.MethodPost, path, nil)
	require.Equal(t, http.StatusCreated, res.Status, "the address is still registrable at once: %s", res.Body)
	require.Equal(t, 1, count(`SELECT count(*) FROM audit_events WHERE action = 'discovery.host_registered'`))
}

func TestCIDRScanIPv6(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{Addr: "::1"})
	env := apitest.New(t)
	c := client{env: env, token: env.Admin().AccessToken}

	// ::1/128 is the only IPv6 loopback network: tests send nothing beyond loopback.
	scan := c.start(map[string]any{"cidr": "::1/128", "ports": []int{srv.Port}})
	require.Equal(t, "::1/128", scan.Cidr)
	require.EqualValues(t, 1, scan.Total)
	done := c.wait(scan.Id)
	require.Equal(t, api.DiscoveryScanStatus("completed"), done.Status)
	require.Len(t, done.Hosts, 1)
	require.Equal(t, "::1", done.Hosts[0].Address)
	require.Equal(t, srv.Port, done.Hosts[0].Port)

	// IPv6 in the path: percent-encoded, bracketed or plain all name the same address.
	path := "discovery/" + scan.Id.String() + "/hosts/"
	res := c.do(http.MethodPost, path+"%3A%3A1:register", nil)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(t, &h)
	require.Equal(t, "::1", h.IpAddress)
	require.Equal(t, srv.Port, h.Port)
	for _, form := range []string{"[::1]", "::1", "%5B%3A%3A1%5D"} {
		res = c.do(http.MethodPost, path+form+":register", nil)
		require.Equal(t, http.StatusConflict, res.Status, "%s: %s", form, res.Body)
	}
	res = c.do(http.MethodPost, path+"[::2]:register", nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
}

func TestCIDRScanValidation(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	c := client{env: env, token: env.Admin().AccessToken}

	for _, cidr := range []string{"10.0.0.0/33", "not-a-network", "10.0.0.0", "fd00::/129"} {
		res := c.do(http.MethodPost, "discovery/cidr", map[string]any{"cidr": cidr})
		require.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", cidr, res.Body)
		e := res.Err(t).Error
		require.Equal(t, "validation_failed", e.Code, cidr)
		require.Equal(t, "cidr", e.Detail["field"], cidr)
	}
	// The default maximum is a /22.
	res := c.do(http.MethodPost, "discovery/cidr", map[string]any{"cidr": "10.0.0.0/21"})
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	e := res.Err(t).Error
	require.Equal(t, "discovery.range_too_large", e.Code)
	require.EqualValues(t, 2048, e.Detail["size"])
	require.EqualValues(t, intel.DefaultSystemInfoConfig.MaxCIDRHosts, e.Detail["max"])
	res = c.do(http.MethodPost, "discovery/cidr", map[string]any{"cidr": "fd00::/64"})
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	require.Equal(t, "discovery.range_too_large", res.Err(t).Error.Code)

	res = c.do(http.MethodGet, "discovery/"+uuid.NewString(), nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)

	// Reading needs host:read, scanning host:write.
	viewer := client{env: env, token: env.Login("viewer", env.CreateUser("viewer", authz.RoleViewer)).AccessToken}
	res = viewer.do(http.MethodPost, "discovery/cidr", map[string]any{"cidr": "127.0.0.0/30", "ports": []int{1}})
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	scan := c.start(map[string]any{"cidr": "127.0.0.1/32", "ports": []int{freePort(t)}})
	res = viewer.do(http.MethodGet, "discovery/"+scan.Id.String(), nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	done := c.wait(scan.Id)
	require.Equal(t, api.DiscoveryScanStatus("completed"), done.Status)
	require.EqualValues(t, 1, done.Scanned)
	require.Empty(t, done.Hosts, "nothing listens there")
	require.Zero(t, done.Found)
}

// freePort returns a loopback port nothing listens on (at the time of asking).
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}
