package health_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/health"
	"github.com/openwatch/openwatch/internal/sshx"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

func check(kind health.Kind, p health.Params, timeout int) health.Check {
	return health.Check{ID: uuid.New(), Spec: health.Spec{Name: string(kind), Kind: kind, Params: p, TimeoutSec: timeout, Enabled: true}}
}

// runAll runs the checks in one SSH session as root and evaluates each.
func runAll(t *testing.T, c *sshx.Client, checks ...health.Check) []health.Outcome {
	t.Helper()
	cmds := make([]sshx.Command, len(checks))
	for i, ch := range checks {
		require.NoError(t, ch.Validate(), ch.Name)
		cmds[i] = health.Command(ch)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	br, err := c.Batch(ctx, cmds, sshx.BatchOptions{Privileged: true})
	require.NoError(t, err)
	require.Equal(t, 1, br.Sessions, "all checks run in one session")
	out := make([]health.Outcome, len(checks))
	for i, ch := range checks {
		r, ok := br.Result(ch.ID.String())
		require.True(t, ok)
		out[i] = health.Evaluate(ch, r)
		t.Logf("%s: ok=%v %q (%s, %d attempts) output=%q", ch.Name, out[i].OK, out[i].Detail, out[i].Duration, out[i].Attempts, out[i].Output)
	}
	return out
}

// TestKindsOnHost runs every kind for real on a test sshd (this machine, as root): what is
// probed is on loopback, started by the test.
func TestKindsOnHost(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{Addr: "127.0.0.1"})
	client := srv.Dial(t, sshtest.UserRoot)

	open, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = open.Close() })
	go func() {
		for {
			c, err := open.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedPort := closed.Addr().(*net.TCPAddr).Port
	require.NoError(t, closed.Close())

	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		_, _ = fmt.Fprint(w, "status: all good\n")
	}))
	t.Cleanup(web.Close)

	tcpOpen := check(health.KindTCP, health.Params{TCP: &health.TCPParams{Port: open.Addr().(*net.TCPAddr).Port}}, 5)
	tcpClosed := check(health.KindTCP, health.Params{TCP: &health.TCPParams{Host: "127.0.0.1", Port: closedPort}}, 5)
	httpOK := check(health.KindHTTP, health.Params{HTTP: &health.HTTPParams{URL: web.URL + "/", BodyContains: "all good"}}, 5)
	httpBody := check(health.KindHTTP, health.Params{HTTP: &health.HTTPParams{URL: web.URL + "/", BodyContains: "bad"}}, 5)
	httpDown := check(health.KindHTTP, health.Params{HTTP: &health.HTTPParams{URL: web.URL + "/down"}}, 5)
	httpDownExpected := check(health.KindHTTP, health.Params{HTTP: &health.HTTPParams{URL: web.URL + "/down", ExpectedStatus: 503}}, 5)
	httpRefused := check(health.KindHTTP, health.Params{HTTP: &health.HTTPParams{URL: fmt.Sprintf("http://127.0.0.1:%d/", closedPort)}}, 5)
	cmdOK := check(health.KindCommand, health.Params{Command: &health.CommandParams{Command: "id -u; echo \"it's fine\"", ExpectedOutput: "0"}}, 5)
	cmdFail := check(health.KindCommand, health.Params{Command: &health.CommandParams{Command: "echo broken >&2; exit 3"}}, 5)
	cmdOutput := check(health.KindCommand, health.Params{Command: &health.CommandParams{Command: "echo hello", ExpectedOutput: "goodbye"}}, 5)
	slow := check(health.KindCommand, health.Params{Command: &health.CommandParams{Command: "echo started; sleep 30"}}, 1)
	// Fails on the first attempt, passes on the second ($OW_DIR is kept across attempts).
	flaky := check(health.KindCommand, health.Params{Command: &health.CommandParams{
		Command: `if [ -e "$OW_DIR/seen" ]; then echo up; exit 0; fi; : >"$OW_DIR/seen"; echo starting; exit 1`}}, 5)
	flaky.Retries, flaky.RetryDelaySec = 2, 1
	stillDown := check(health.KindCommand, health.Params{Command: &health.CommandParams{Command: "false"}}, 5)
	stillDown.Retries = 2
	service := check(health.KindService, health.Params{Service: &health.ServiceParams{Unit: "owtest-nosuch.service"}}, 5)

	out := runAll(t, client, tcpOpen, tcpClosed, httpOK, httpBody, httpDown, httpDownExpected, httpRefused, cmdOK, cmdFail,
		cmdOutput, slow, flaky, stillDown, service)
	o := func(i int) health.Outcome { return out[i] }

	require.True(t, o(0).OK, o(0).Detail)
	require.Regexp(t, `^127\.0\.0\.1:\d+ accepts connections \(tested with bash\)\.$`, o(0).Detail)
	require.False(t, o(1).OK)
	require.Contains(t, o(1).Detail, "did not accept a connection")

	require.True(t, o(2).OK, o(2).Detail)
	require.Contains(t, o(2).Detail, "answered HTTP 200")
	require.Contains(t, o(2).Output, "all good")
	require.False(t, o(3).OK)
	require.Contains(t, o(3).Detail, `body does not contain "bad"`)
	require.False(t, o(4).OK)
	require.Contains(t, o(4).Detail, "answered HTTP 503, expected 200")
	require.True(t, o(5).OK, o(5).Detail)
	require.False(t, o(6).OK)
	require.Contains(t, o(6).Detail, "got no answer (curl exited 7)")

	require.True(t, o(7).OK, o(7).Detail)
	require.Equal(t, "0\nit's fine\n", o(7).Output)
	require.False(t, o(8).OK)
	require.Equal(t, "The command exited 3.", o(8).Detail)
	require.Equal(t, "broken\n", o(8).Output)
	require.False(t, o(9).OK)
	require.Contains(t, o(9).Detail, `output does not contain "goodbye"`)

	require.False(t, o(10).OK)
	require.Equal(t, "The check timed out after 1 s.", o(10).Detail)
	require.Equal(t, "started\n", o(10).Output)
	require.Less(t, o(10).Duration, 10*time.Second)
	require.GreaterOrEqual(t, o(10).Duration, 900*time.Millisecond)

	require.True(t, o(11).OK, o(11).Detail)
	require.Equal(t, 2, o(11).Attempts)
	require.Equal(t, "The command exited 0 (on attempt 2).", o(11).Detail)
	require.Equal(t, "up\n", o(11).Output)
	require.GreaterOrEqual(t, o(11).Duration, 900*time.Millisecond, "the retry waited its delay")
	require.False(t, o(12).OK)
	require.Equal(t, 3, o(12).Attempts)
	require.Equal(t, "The command exited 1 (after 3 attempts).", o(12).Detail)

	// This machine runs no systemd: the check falls back to service(8) and says so.
	require.False(t, o(13).OK)
	require.Equal(t, "The host has no systemd; service owtest-nosuch status exited 1 (not running, or no such service).", o(13).Detail)
	require.Contains(t, o(13).Output, "unrecognized service")
}

// TestMissingTools runs checks with a PATH that holds only the basics (no bash, python3,
// nc, curl, wget, systemctl or service): they cannot run and say why.
func TestMissingTools(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{Addr: "127.0.0.1"})
	client := srv.Dial(t, sshtest.UserRoot)
	dir, err := os.MkdirTemp("", "owhc")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o755))
	for _, tool := range []string{"sh", "mktemp", "head", "sed", "rm", "sleep", "cat", "grep", "timeout"} {
		p, err := exec.LookPath(tool)
		require.NoError(t, err, tool)
		require.NoError(t, os.Symlink(p, filepath.Join(dir, tool)))
	}
	checks := []health.Check{
		check(health.KindTCP, health.Params{TCP: &health.TCPParams{Port: 22}}, 2),
		check(health.KindHTTP, health.Params{HTTP: &health.HTTPParams{URL: "http://127.0.0.1/"}}, 2),
		check(health.KindService, health.Params{Service: &health.ServiceParams{Unit: "ssh"}}, 2),
	}
	checks[0].Retries = 3
	cmds := make([]sshx.Command, len(checks))
	for i, ch := range checks {
		cmds[i] = health.Command(ch)
		cmds[i].Script = "PATH=" + dir + "; export PATH\n" + cmds[i].Script
	}
	br, err := client.Batch(context.Background(), cmds, sshx.BatchOptions{Privileged: true})
	require.NoError(t, err)
	want := []string{
		"The host has none of bash, python3 or nc: cannot test a TCP port (POSIX sh has no way to open one).",
		"The host has neither curl nor wget: cannot fetch http://127.0.0.1/.",
		"The host has neither systemd nor the service command: cannot check service ssh.",
	}
	for i, ch := range checks {
		o := health.Evaluate(ch, br.Results[i])
		require.False(t, o.OK)
		require.Equal(t, want[i], o.Detail)
		require.Equal(t, 1, o.Attempts, "a check that cannot run is not retried")
	}
	require.False(t, strings.Contains(string(br.Results[0].Stderr), "not found"), "%s", br.Results[0].Stderr)
}

// TestEvaluateWithoutReport: a command that never got to report (the session died, the
// script could not start) is a failure saying so.
func TestEvaluateWithoutReport(t *testing.T) {
	t.Parallel()
	c := check(health.KindCommand, health.Params{Command: &health.CommandParams{Command: "true"}}, 5)
	o := health.Evaluate(c, sshx.Result{ExitCode: 127, Stderr: []byte("sh: 1: mktemp: not found\n")})
	require.False(t, o.OK)
	require.Equal(t, "The check did not run on the host: sh: 1: mktemp: not found.", o.Detail)
	o = health.Evaluate(c, sshx.Result{ExitCode: 0, Stdout: []byte(strings.Repeat("x", 3*health.MaxOutputBytes))})
	require.False(t, o.OK)
	require.Len(t, o.Output, health.MaxOutputBytes)
}

// TestManualTest runs :test through the API on a registered host (the test sshd, root
// credential) and records the outcome on the check.
func TestManualTest(t *testing.T) {
	t.Parallel()
	f := setup(t)
	srv := sshtest.Start(t, sshtest.Options{Addr: "127.0.0.1"})
	hostID := f.targetHost(srv, "hc-target")

	pass := f.create(map[string]any{"name": "pass", "kind": "command", "command": map[string]any{"command": "echo healthy", "expected_output": "healthy"}, "timeout_sec": 10})
	fail := f.create(map[string]any{"name": "fail", "kind": "command", "command": map[string]any{"command": "echo sick; exit 2"}, "timeout_sec": 10})

	res := f.do(f.admin, http.MethodPost, "health-checks/"+pass.Id.String()+":test", map[string]any{"host_id": hostID})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var o api.HealthCheckOutcome
	res.Decode(t, &o)
	require.True(t, o.Ok, o.Detail)
	require.Equal(t, "healthy\n", o.Output)
	require.Equal(t, 1, o.Attempts)
	require.Equal(t, hostID, *o.HostId)

	res = f.do(f.admin, http.MethodPost, "health-checks/"+fail.Id.String()+":test", map[string]any{"host_id": hostID})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &o)
	require.False(t, o.Ok)
	require.Equal(t, "The command exited 2.", o.Detail)

	res = f.do(f.admin, http.MethodGet, "health-checks/"+fail.Id.String(), nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var got api.HealthCheck
	res.Decode(t, &got)
	require.NotNil(t, got.LastResult)
	require.False(t, got.LastResult.Ok)
	require.Equal(t, "sick\n", got.LastResult.Output)
	require.Equal(t, 1, f.audited("health_check.tested", fail.Id))

	// A host that cannot be reached is a 502, not an outcome.
	srv.Stop()
	res = f.do(f.admin, http.MethodPost, "health-checks/"+pass.Id.String()+":test", map[string]any{"host_id": hostID})
	require.Equal(t, http.StatusBadGateway, res.Status, "%s", res.Body)
	require.Equal(t, "host.unreachable", string(res.Err(t).Error.Code))
}

// TestSSHCommandTimeout: a check whose retries outlast the SSH command timeout is a failed
// outcome that says which limit ended it, not an unreachable host.
func TestSSHCommandTimeout(t *testing.T) {
	t.Parallel()
	f := setup(t)
	srv := sshtest.Start(t, sshtest.Options{Addr: "127.0.0.1"})
	hostID := f.targetHost(srv, "hc-slow")
	res := f.do(f.admin, http.MethodPut, "system/ssh/config", map[string]any{"allow_sudo_password": false, "dial_timeout_sec": 10,
		"command_timeout_sec": 5})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	slow := f.create(map[string]any{"name": "slow", "kind": "command", "command": map[string]any{"command": "sleep 60"},
		"timeout_sec": 30, "retries": 1, "retry_delay_sec": 5})
	res = f.do(f.admin, http.MethodPost, "health-checks/"+slow.Id.String()+":test", map[string]any{"host_id": hostID})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var o api.HealthCheckOutcome
	res.Decode(t, &o)
	require.False(t, o.Ok)
	require.Contains(t, o.Detail, "did not finish within the SSH command timeout; it may take up to 1m9s")
}

// targetHost registers srv as a host that logs in as root with the test key.
func (f *fixture) targetHost(srv *sshtest.Server, name string) uuid.UUID {
	f.t.Helper()
	res := f.do(f.admin, http.MethodPost, "hosts", map[string]any{"hostname": name, "ip_address": srv.Host, "port": srv.Port})
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(f.t, &h)
	u := srv.User(sshtest.UserRoot)
	res = f.do(f.admin, http.MethodPost, "credentials", map[string]any{"scope": "host", "scope_id": h.Id, "name": "cred-" + name,
		"username": u.Name, "auth_method": "ssh_key", "private_key": string(u.PrivateKey)})
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
	return h.Id
}
