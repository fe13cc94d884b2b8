package metrics_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/buildinfo"
	"github.com/openwatch/openwatch/internal/events"
	"github.com/openwatch/openwatch/internal/metrics"
	"github.com/openwatch/openwatch/internal/sshx"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
	"github.com/openwatch/openwatch/internal/worker"
)

// scraper reads a metrics listener.
type scraper struct {
	t     *testing.T
	url   string
	token string
}

func (s scraper) get() *http.Response {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url, nil)
	require.NoError(s.t, err)
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	return res
}

func (s scraper) scrape() map[string]*dto.MetricFamily {
	s.t.Helper()
	res := s.get()
	defer func() { _ = res.Body.Close() }()
	require.Equal(s.t, http.StatusOK, res.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(res.Body)
	require.NoError(s.t, err)
	return families
}

// value returns the value of the family's series whose labels include want (counter,
// gauge, or a histogram's count), summed over the matching series; -1 when none matches.
func value(families map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := families[name]
	if f == nil {
		return -1
	}
	total, found := 0.0, false
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		match := true
		for k, v := range want {
			match = match && labels[k] == v
		}
		if !match {
			continue
		}
		found = true
		switch {
		case m.Counter != nil:
			total += m.Counter.GetValue()
		case m.Gauge != nil:
			total += m.Gauge.GetValue()
		case m.Histogram != nil:
			total += float64(m.Histogram.GetSampleCount())
		case m.Untyped != nil:
			total += m.Untyped.GetValue()
		}
	}
	if !found {
		return -1
	}
	return total
}

// startListener serves env's metrics on a free loopback port.
func startListener(t *testing.T, env *apitest.Env, admin apitest.Session) scraper {
	t.Helper()
	stop := env.App.ServeMetrics("127.0.0.1:0")
	t.Cleanup(stop)
	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "system/status", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status)
	var st api.SystemStatus
	res.Decode(t, &st)
	require.True(t, st.Metrics.Enabled)
	host, _, err := net.SplitHostPort(st.Metrics.Listen)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", host)
	return scraper{t: t, url: "http://" + st.Metrics.Listen + "/metrics"}
}

// TestEveryFamilyMoves scrapes a running application's listener, makes each counted thing
// happen (an API request, an SSH login and its sessions, a compliance scan, a job, a
// notification, a live event stream, audited changes, queued jobs) and checks that the
// family counting it moved.
func TestEveryFamilyMoves(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	s := startListener(t, env, admin)
	ctx := context.Background()
	before := s.scrape()

	for _, name := range []string{
		"openwatch_build_info", "go_goroutines", "process_cpu_seconds_total",
		"openwatch_database_up", "openwatch_db_pool_max_connections", "openwatch_db_pool_connections",
		"openwatch_db_pool_acquired_connections", "openwatch_db_pool_idle_connections", "openwatch_db_pool_acquires_total",
		"openwatch_db_pool_waits_total", "openwatch_db_pool_wait_seconds_total", "openwatch_audit_chain_length",
		"openwatch_events_subscribers",
	} {
		require.Contains(t, before, name)
	}
	b := buildinfo.Get()
	require.EqualValues(t, 1, value(before, "openwatch_build_info", map[string]string{"version": b.Version, "go": b.Go}))
	require.EqualValues(t, 1, value(before, "openwatch_database_up", nil))

	// An API request, labelled by operationId, never by path.
	health := map[string]string{"operation": "getHealth", "status": "200"}
	h0 := max(0, value(before, "openwatch_http_request_duration_seconds", health))
	env.Do(apitest.Request{Method: http.MethodGet, Path: "health"})
	env.Do(apitest.Request{Method: http.MethodGet, Path: "no/such/thing"})

	// Audited changes lengthen the chain.
	audit0 := value(before, "openwatch_audit_chain_length", nil)
	env.CreateUser("carol", "viewer")

	// A live event stream.
	stream, err := env.App.Events.Subscribe(ctx, events.Filter{}, nil)
	require.NoError(t, err)
	defer stream.Close()

	// A queued job (scheduled far ahead, so it waits) and a worked one.
	later, laterOpts := pingLater()
	_, err = env.App.Jobs.Insert(ctx, later, laterOpts)
	require.NoError(t, err)
	_, err = env.App.Jobs.Insert(ctx, worker.PingArgs{Note: "now"}, nil)
	require.NoError(t, err)

	// A notification sent to a loopback webhook.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer hook.Close()
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "notifications/channels", Token: admin.AccessToken,
		JSON: map[string]any{"name": "hook", "type": "webhook", "secret": "s3cret-webhook", "config": map[string]any{"url": hook.URL}}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var ch api.NotificationChannel
	res.Decode(t, &ch)
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "notifications/channels/" + ch.Id.String() + ":test", Token: admin.AccessToken,
		Headers: map[string]string{"Idempotency-Key": "metrics-test-1"}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)

	// A compliance scan on a real sshd: an SSH login, its sessions and the scan itself.
	srv := sshtest.Start(t, sshtest.Options{Addr: "127.0.0.1", Overlay: []string{"/etc"}})
	hostID := addHost(t, env, admin, srv)
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts/" + hostID + "/scans", Token: admin.AccessToken,
		Headers: map[string]string{"Idempotency-Key": "metrics-scan-1"}})
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	var sc api.Scan
	res.Decode(t, &sc)
	require.Eventually(t, func() bool {
		res := env.Do(apitest.Request{Method: http.MethodGet, Path: "scans/" + sc.Id.String(), Token: admin.AccessToken})
		res.Decode(t, &sc)
		return sc.Status == api.ScanStatusCompleted || sc.Status == api.ScanStatusFailed
	}, 2*time.Minute, 50*time.Millisecond)
	require.Equal(t, api.ScanStatusCompleted, sc.Status, "%v", sc.Error)

	var after map[string]*dto.MetricFamily
	require.Eventually(t, func() bool { // the ping job runs, and the scan is counted once stored, in the background
		after = s.scrape()
		return value(after, "openwatch_job_duration_seconds", map[string]string{"kind": "worker_ping", "outcome": "ok"}) >= 1 &&
			value(after, "openwatch_scan_duration_seconds", map[string]string{"outcome": "completed"}) >= 1
	}, 30*time.Second, 50*time.Millisecond, "the worked job or the scan was not timed")

	require.Equal(t, h0+1, value(after, "openwatch_http_request_duration_seconds", health))
	require.GreaterOrEqual(t, value(after, "openwatch_http_request_duration_seconds", map[string]string{"operation": "unmatched", "status": "404"}), 1.0)
	for _, f := range after["openwatch_http_request_duration_seconds"].Metric {
		for _, l := range f.Label {
			require.NotContains(t, l.GetValue(), "/", "no raw paths as labels")
		}
	}
	require.Greater(t, value(after, "openwatch_audit_chain_length", nil), audit0)
	require.EqualValues(t, 1, value(after, "openwatch_events_subscribers", nil))
	require.GreaterOrEqual(t, value(after, "openwatch_job_queue_depth", map[string]string{"kind": "worker_ping", "state": "scheduled"}), 1.0)
	require.Contains(t, after, "openwatch_job_queue_oldest_available_age_seconds")
	// The channel test, and any alert the scan raised, reached the webhook.
	require.GreaterOrEqual(t, value(after, "openwatch_notification_deliveries_total", map[string]string{"channel_type": "webhook", "outcome": "delivered"}), 1.0)
	require.GreaterOrEqual(t, value(after, "openwatch_ssh_dials_total", map[string]string{"result": "ok"}), 1.0)
	require.GreaterOrEqual(t, value(after, "openwatch_ssh_sessions_total", map[string]string{"result": "ok"}), 1.0)
	require.EqualValues(t, 1, value(after, "openwatch_scan_duration_seconds", map[string]string{"outcome": "completed"}))
	require.EqualValues(t, sc.RulesTotal, value(after, "openwatch_scan_rules_evaluated_total", nil))
	require.Greater(t, value(after, "openwatch_db_pool_acquires_total", nil), value(before, "openwatch_db_pool_acquires_total", nil))

	// A failed login is counted by its error type: a loopback port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	require.NoError(t, ln.Close())
	_, err = env.App.Dialer.Dial(ctx, closed, srv.User(sshtest.UserRoot).Auth(), sshx.Options{HostKeys: srv.HostKeys()})
	require.Equal(t, sshx.TypeConnectionRefused, sshx.ErrorType(err))
	last := s.scrape()
	require.GreaterOrEqual(t, value(last, "openwatch_ssh_dials_total", map[string]string{"result": sshx.TypeConnectionRefused}), 1.0)
}

func addHost(t *testing.T, env *apitest.Env, admin apitest.Session, srv *sshtest.Server) string {
	t.Helper()
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: admin.AccessToken,
		Headers: map[string]string{"Idempotency-Key": "metrics-host-1"},
		JSON:    map[string]any{"hostname": "scanned", "ip_address": srv.Host, "port": srv.Port}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(t, &h)
	u := srv.User(sshtest.UserRoot)
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "credentials", Token: admin.AccessToken,
		Headers: map[string]string{"Idempotency-Key": "metrics-cred-1"},
		JSON: map[string]any{"scope": "host", "scope_id": h.Id, "name": "cred", "username": u.Name, "auth_method": "ssh_key",
			"private_key": string(u.PrivateKey)}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	return h.Id.String()
}

// TestListenerAuth: with a bearer token or basic auth set, a scrape without it is 401.
func TestListenerAuth(t *testing.T) {
	t.Parallel()
	m := metrics.New(buildinfo.Get())
	for _, tc := range []struct {
		name string
		opts metrics.ListenerOptions
		good func(*http.Request)
		bad  func(*http.Request)
	}{
		{"bearer", metrics.ListenerOptions{BearerToken: "tok-123"},
			func(r *http.Request) { r.Header.Set("Authorization", "Bearer tok-123") },
			func(r *http.Request) { r.Header.Set("Authorization", "Bearer tok-124") }},
		{"basic", metrics.ListenerOptions{BasicUsername: "prom", BasicPassword: "pw-1"},
			func(r *http.Request) { r.SetBasicAuth("prom", "pw-1") },
			func(r *http.Request) { r.SetBasicAuth("prom", "pw-2") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Addr = "127.0.0.1:0"
			addr, stop, err := m.Serve(tc.opts)
			require.NoError(t, err)
			defer stop()
			get := func(set func(*http.Request)) (int, string) {
				req, err := http.NewRequest(http.MethodGet, "http://"+addr.String()+"/metrics", nil)
				require.NoError(t, err)
				if set != nil {
					set(req)
				}
				res, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				defer func() { _ = res.Body.Close() }()
				body, err := io.ReadAll(res.Body)
				require.NoError(t, err)
				return res.StatusCode, string(body)
			}
			code, body := get(nil)
			require.Equal(t, http.StatusUnauthorized, code)
			require.NotContains(t, body, "openwatch_build_info")
			code, _ = get(tc.bad)
			require.Equal(t, http.StatusUnauthorized, code)
			code, body = get(tc.good)
			require.Equal(t, http.StatusOK, code)
			require.True(t, strings.Contains(body, "openwatch_build_info"))
		})
	}
}

// TestBearerTokenFileMustHoldAToken: an empty token file is an error, never "no auth".
func TestBearerTokenFileMustHoldAToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := metrics.ReadBearerTokenFile(dir + "/missing")
	require.Error(t, err)
	require.NoError(t, os.WriteFile(dir+"/empty", []byte("\n"), 0o600))
	_, err = metrics.ReadBearerTokenFile(dir + "/empty")
	require.ErrorContains(t, err, "empty")
	require.NoError(t, os.WriteFile(dir+"/tok", []byte("abc\n"), 0o600))
	tok, err := metrics.ReadBearerTokenFile(dir + "/tok")
	require.NoError(t, err)
	require.Equal(t, "abc", tok)
}

// pingLater is a job scheduled an hour ahead, so it stays queued.
func pingLater() (river.JobArgs, *river.InsertOpts) {
	return worker.PingArgs{Note: "later"}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)}
}
