package notify_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/notify"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
	"github.com/openwatch/openwatch/internal/tlscert"
)

// e2eRule passes when /etc/login.defs sets PASS_MAX_DAYS to at most 60.
const e2eRule = "login-defs-pass-max-days"

// e2eMailServer starts a real SMTP server on loopback that offers STARTTLS with a server
// certificate from the project's own CA (internal/tlscert, as `openwatch serve` makes
// for itself) and wants PLAIN auth; it returns the server and the pool trusting that CA.
func e2eMailServer(t *testing.T, password string) (*mailbox, int, *x509.CertPool) {
	t.Helper()
	files, err := tlscert.Ensure(t.TempDir(), "127.0.0.1", nil)
	require.NoError(t, err)
	cert, err := tls.LoadX509KeyPair(files.ServerCert, files.ServerKey)
	require.NoError(t, err)
	caPEM, err := os.ReadFile(files.CACert)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(caPEM))

	mb := &mailbox{password: password}
	srv := smtp.NewServer(mb)
	srv.Domain = "127.0.0.1"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return mb, l.Addr().(*net.TCPAddr).Port, roots
}

// e2eFixture drives the application through its API against a real sshd whose /etc is a
// throwaway overlay in its own mount namespace.
type e2eFixture struct {
	t     *testing.T
	env   *apitest.Env
	admin apitest.Session
	srv   *sshtest.Server
	seq   int
}

func (f *e2eFixture) do(method, path string, body any) *apitest.Response {
	f.t.Helper()
	req := apitest.Request{Method: method, Path: path, Token: f.admin.AccessToken, JSON: body}
	if method == http.MethodPost {
		f.seq++
		req.Headers = map[string]string{"Idempotency-Key": fmt.Sprintf("e2e-%d", f.seq)}
	}
	return f.env.Do(req)
}

// rootRun changes the target as root, inside its overlay.
func (f *e2eFixture) rootRun(script string) {
	f.t.Helper()
	c := f.srv.Dial(f.t, sshtest.UserRoot)
	res, err := c.Run(context.Background(), script)
	require.NoError(f.t, err)
	require.Equal(f.t, 0, res.ExitCode, "%s%s", res.Stdout, res.Stderr)
}

// scan runs one scan of the host and waits for it to end; it returns the scan and when
// it was seen finished.
func (f *e2eFixture) scan(hostID uuid.UUID) (api.Scan, time.Time) {
	f.t.Helper()
	res := f.do(http.MethodPost, "hosts/"+hostID.String()+"/scans", nil)
	require.Equal(f.t, http.StatusAccepted, res.Status, "%s", res.Body)
	var sc api.Scan
	res.Decode(f.t, &sc)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		res := f.do(http.MethodGet, "scans/"+sc.Id.String(), nil)
		require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
		res.Decode(f.t, &sc)
		if sc.Status == api.ScanStatusCompleted || sc.Status == api.ScanStatusFailed || sc.Status == api.ScanStatusCancelled {
			require.Equal(f.t, api.ScanStatusCompleted, sc.Status, "%v", sc.Error)
			return sc, time.Now()
		}
		require.True(f.t, time.Now().Before(deadline), "scan %s still %s", sc.Id, sc.Status)
		time.Sleep(50 * time.Millisecond)
	}
}

func (f *e2eFixture) driftAlerts(hostID uuid.UUID) []api.Alert {
	f.t.Helper()
	res := f.do(http.MethodGet, "alerts?host_id="+hostID.String(), nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var p api.AlertsPage
	res.Decode(f.t, &p)
	var out []api.Alert
	for _, a := range p.Items {
		if a.AlertType == "compliance_drift" {
			out = append(out, a)
		}
	}
	return out
}

// webhookNotices are the notices the receiver got, decoded, each with whether its
// signature verified.
func webhookNotices(t *testing.T, r *receiver) []map[string]any {
	t.Helper()
	bodies, valid := r.seen()
	out := make([]map[string]any, 0, len(bodies))
	for i, b := range bodies {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(b), &m), "%s", b)
		m["signature_valid"] = valid[i]
		out = append(out, m)
	}
	return out
}

func noticeOf(notices []map[string]any, alertID uuid.UUID, transition string) map[string]any {
	for _, n := range notices {
		if n["alert_id"] == alertID.String() && n["transition"] == transition {
			return n
		}
	}
	return nil
}

// mailsAbout returns the messages whose subject contains s, in order of arrival (other
// alerts, such as the first scan's low score, mail the channel too).
func mailsAbout(m *mailbox, s string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, msg := range m.all {
		head, _, _ := strings.Cut(msg, "\r\n\r\n")
		for _, line := range strings.Split(head, "\r\n") {
			if strings.HasPrefix(line, "Subject: ") && strings.Contains(line, s) {
				out = append(out, msg)
			}
		}
	}
	return out
}

// mailAbout is the first of mailsAbout, or "".
func mailAbout(m *mailbox, s string) string {
	if all := mailsAbout(m, s); len(all) > 0 {
		return all[0]
	}
	return ""
}

// TestAlertReachesPeopleEndToEnd is the first "done when": on the namespaced sshd
// target a passing rule is broken, the next scan records the transition, a drift alert
// fires, a webhook receiver gets a correctly signed delivery and a real SMTP server (over
// STARTTLS with the project's CA) gets the email before the scan after it could start;
// fixing the rule and scanning again resolves the alert by itself and tells both channels.
func TestAlertReachesPeopleEndToEnd(t *testing.T) {
	t.Parallel()
	const hookSecret, smtpPassword = "SECRETMARKER-e2e-hook", "SECRETMARKER-e2e-smtp"
	mb, smtpPort, roots := e2eMailServer(t, smtpPassword)
	hook := newReceiver(t, hookSecret, func(int32) int { return http.StatusNoContent })
	e := apitest.New(t, func(d *app.Deps) { d.Notify = notify.Options{Timeout: 5 * time.Second, RootCAs: roots} })
	f := &e2eFixture{t: t, env: e, admin: e.Admin(), srv: sshtest.Start(t, sshtest.Options{Overlay: []string{"/etc"}})}

	createChannel(t, e, f.admin, map[string]any{"name": "e2e-hook", "type": "webhook", "secret": hookSecret,
		"config": map[string]any{"url": hook.URL + "/openwatch"}})
	createChannel(t, e, f.admin, map[string]any{"name": "e2e-mail", "type": "email", "secret": smtpPassword,
		"config": map[string]any{"smtp_host": "127.0.0.1", "smtp_port": smtpPort, "tls_mode": "starttls", "username": "ops",
			"from": "openwatch@example.com", "to": []string{"oncall@example.com"}}})

	// The host, its root key, and the rule passing to begin with.
	res := f.do(http.MethodPost, "hosts", map[string]any{"hostname": "e2e-target", "ip_address": f.srv.Host, "port": f.srv.Port})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(t, &h)
	u := f.srv.User(sshtest.UserRoot)
	res = f.do(http.MethodPost, "credentials", map[string]any{"scope": "host", "scope_id": h.Id, "name": "e2e-root",
		"username": u.Name, "auth_method": "ssh_key", "private_key": string(u.PrivateKey)})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	f.rootRun(`sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\t30/' /etc/login.defs`)
	f.scan(h.Id)
	require.Empty(t, f.driftAlerts(h.Id), "a first scan is a baseline, not drift")

	// Broken on the target; the next scan records the transition and the alert fires.
	f.rootRun(`sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\t99999/' /etc/login.defs`)
	broken, brokenSeen := f.scan(h.Id)
	require.Equal(t, 1, broken.Changed)
	alerts := f.driftAlerts(h.Id)
	require.Len(t, alerts, 1)
	a := alerts[0]
	require.Equal(t, api.AlertStateActive, a.State)
	require.NotNil(t, a.RuleId)
	require.Equal(t, e2eRule, *a.RuleId)

	var raisedHook map[string]any
	require.Eventually(t, func() bool {
		raisedHook = noticeOf(webhookNotices(t, hook), a.Id, "raised")
		return raisedHook != nil && mailAbout(mb, "Compliance drift") != ""
	}, 30*time.Second, 20*time.Millisecond, "the webhook and the email of the raised alert never arrived")
	t.Logf("webhook and email of the raised alert arrived %v after the scan was seen finished", time.Since(brokenSeen).Round(time.Millisecond))
	require.Equal(t, true, raisedHook["signature_valid"], "the webhook signature must verify")
	require.Equal(t, h.Id.String(), raisedHook["host_id"])
	require.Equal(t, "compliance_drift", raisedHook["alert_type"])
	require.Equal(t, string(a.Severity), raisedHook["severity"])
	mail := mailAbout(mb, "Compliance drift")
	require.Contains(t, mail, "To: oncall@example.com")
	require.Contains(t, mail, "Rule: "+e2eRule)
	require.Contains(t, mail, "Host: e2e-target")

	// The transition the alert came from is on record, and the deliveries too.
	var transitions int
	require.NoError(t, e.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM rule_transitions
		WHERE host_id = $1 AND rule_id = $2 AND scan_id = $3 AND previous_status = 'pass' AND status = 'fail'`,
		h.Id, e2eRule, broken.Id).Scan(&transitions))
	require.Equal(t, 1, transitions)
	// A receiver has the notice a moment before its delivery is marked delivered.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		res := f.do(http.MethodGet, "notifications/deliveries?status=delivered", nil)
		if assert.Equal(c, http.StatusOK, res.Status, "%s", res.Body) {
			assert.GreaterOrEqual(c, strings.Count(string(res.Body), a.Id.String()), 2, "one delivery per channel, both delivered: %s", res.Body)
		}
	}, 30*time.Second, 20*time.Millisecond)

	// Fixed on the target; the next scan resolves the alert by itself and both channels hear.
	f.rootRun(`sed -i 's/^PASS_MAX_DAYS.*/PASS_MAX_DAYS\t30/' /etc/login.defs`)
	f.scan(h.Id)
	res = f.do(http.MethodGet, "alerts/"+a.Id.String(), nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var resolved api.Alert
	res.Decode(t, &resolved)
	require.Equal(t, api.AlertStateResolved, resolved.State)
	require.Eventually(t, func() bool {
		n := noticeOf(webhookNotices(t, hook), a.Id, "resolved")
		return n != nil && n["signature_valid"] == true && len(mailsAbout(mb, "Compliance drift")) == 2
	}, 30*time.Second, 20*time.Millisecond, "the resolution never reached both channels")
	require.NotContains(t, e.Logs(), hookSecret)
	require.NotContains(t, e.Logs(), smtpPassword)
}
