package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/license"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// TestClientCommands drives every client command against a running server over TLS and a
// real sshd: the saved sign-in (0600 in a 0700 directory), its refresh and removal, the
// output formats, a scan followed live to its end, a report downloaded, the audit export,
// and the exit codes a script relies on.
func TestClientCommands(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, plusLicense(t))
	pw := env.CreateUser("ops", authz.RoleAdmin)
	target := sshtest.Start(t, sshtest.Options{Addr: "127.0.0.1", Overlay: []string{"/etc"}})
	srv := httptest.NewTLSServer(env.App.Handler())
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
	vars := map[string]string{"XDG_CONFIG_HOME": filepath.Join(dir, "config")}
	savedFile := filepath.Join(dir, "config", "openwatch", "login.json")
	ow := func(stdin string, args ...string) result {
		t.Helper()
		return runWith(t, nil, stdin, vars, args...)
	}

	// Not signed in: exit 3 and what to do.
	r := ow("", "hosts", "list")
	require.Equal(t, exitAuth, r.code, "%s", r.stderr)
	require.Contains(t, r.stderr, "openwatch login")

	// The server's certificate is never trusted on first use: the refusal names its
	// fingerprint and --cacert, and nothing is saved.
	r = ow("ops\n"+pw+"\n", "login", "--url", srv.URL)
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "never trusted on first use")
	t.Logf("$ openwatch login --url %s\n%s", srv.URL, r.stderr)
	require.Contains(t, r.stderr, "--cacert")
	require.NoFileExists(t, savedFile)

	// A wrong password: exit 3.
	r = ow("ops\nwrong-password-42\n", "login", "--url", srv.URL, "--cacert", caFile)
	require.Equal(t, exitAuth, r.code, "%s", r.stderr)
	require.NoFileExists(t, savedFile)

	// Signed in: the sign-in is saved for the user only.
	r = ow("ops\n"+pw+"\n", "login", "--url", srv.URL, "--cacert", caFile)
	require.Equal(t, exitOK, r.code, "%s", r.stderr)
	require.Contains(t, r.stdout, "Signed in to "+srv.URL+" as ops")
	t.Logf("$ openwatch login --url %s --cacert ca.pem\n%s", srv.URL, r.stdout)
	fi, err := os.Stat(savedFile)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	di, err := os.Stat(filepath.Dir(savedFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), di.Mode().Perm())
	saved := readSaved(t, savedFile)
	require.Equal(t, srv.URL, saved.URL)
	require.NotEmpty(t, saved.AccessToken)
	require.NotEmpty(t, saved.RefreshToken)
	require.Contains(t, saved.CAPEM, "BEGIN CERTIFICATE", "the CA chosen at sign-in is kept")

	// hosts add / list / show, in each output format.
	r = ow("", "hosts", "add", "web-1", "--address", target.Host, "--port", strconv.Itoa(target.Port), "--tag", "cli")
	require.Equal(t, exitOK, r.code, "%s", r.stderr)
	require.Contains(t, r.stdout, "Added host web-1")
	r = ow("", "hosts", "add", "web-1")
	require.Equal(t, exitUsage, r.code)
	r = ow("", "hosts", "add", "dead-1", "--address", "127.0.0.1", "--port", "1", "-o", "json")
	require.Equal(t, exitOK, r.code, "%s", r.stderr)
	var dead api.HostResponse
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &dead))
	require.Equal(t, "dead-1", dead.Hostname)

	r = ow("", "hosts", "list", "--output", "table")
	require.Equal(t, exitOK, r.code, "%s", r.stderr)
	require.Regexp(t, `(?m)^ID +HOSTNAME +ADDRESS +OS +ENVIRONMENT +PASS +FAIL +LAST SCAN$`, r.stdout)
	require.Contains(t, r.stdout, "web-1")
	require.Contains(t, r.stdout, "dead-1")
	t.Logf("$ openwatch hosts list --output table\n%s", r.stdout)
	r = ow("", "hosts", "list", "--output", "json", "--q", "web")
	require.Equal(t, exitOK, r.code, "%s", r.stderr)
	var list []api.HostListItem
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list))
	require.Len(t, list, 1)
	require.Equal(t, "web-1", list[0].Hostname)
	r = ow("", "hosts", "list", "--output", "yaml", "--limit", "1")
	require.Equal(t, exitOK, r.code, "%s", r.stderr)
	require.Equal(t, 1, strings.Count(r.stdout, "hostname:"), "%s", r.stdout)
	r = ow("", "hosts", "list", "--output", "xml")
	require.Equal(t, exitUsage, r.code)
	require.Contains(t, r.stderr, "table, json or yaml")
	r = ow("", "hosts", "frobnicate")
	require.Equal(t, exitUsage, r.code)

	r = ow("", "hosts", "show", "web-1", "-o", "json")
	require.Equal(t, exitOK, r.code, "%s", r.stderr)
	var detail api.HostDetailResponse
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &detail))
	require.Equal(t, "web-1", detail.Host.Hostname)
	r = ow("", "hosts", "show", detail.Host.Id.String())
	require.Equal(t, exitOK, r.code, "%s", r.stderr)
	require.Regexp(t, `Hostname: +web-1`, r.stdout)
	r = ow("", "hosts", "show", "no-such-host")
	require.Equal(t, exitNotFound, r.code, "%s", r.stderr)
	r = ow("", "hosts", "show", uuid.NewString())
	require.Equal(t, exitNotFound, r.code, "%s", r.stderr)

	// A credential for web-1 (the CLI has no credential command; the API adds it).
	admin := env.Login("ops", pw)
	u := target.User(sshtest.UserRoot)
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "credentials", Token: admin.AccessToken, JSON: map[string]any{
		"scope": "host", "scope_id": detail.Host.Id, "name": "cli-root", "username": u.Name, "auth_method": "ssh_key", "private_key": string(u.PrivateKey)}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)

	// scan --wait: the live progress bar, the result, exit 0; a failed scan exits 5.
	r = ow("", "scan", "web-1", "--wait", "--poll-interval", "200ms")
	require.Equal(t, exitOK, r.code, "%s", r.stderr)
	require.Contains(t, r.stderr, "scan web-1 [")
	require.Contains(t, r.stderr, "100%")
	require.Regexp(t, `(?m)^SCAN +HOST +STATUS +RULES +PASS +FAIL +ERROR +SKIPPED +DURATION$`, r.stdout)
	require.Contains(t, r.stdout, "completed")
	t.Logf("$ openwatch scan web-1 --wait\n%s%s", lastLine(r.stderr), r.stdout)
	var scanned api.Scan
	r = ow("", "scan", detail.Host.Id.String(), "--wait", "--no-progress", "--poll-interval", "200ms", "--fail-on-findings", "-o", "json")
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &scanned), "%s", r.stderr)
	require.Equal(t, api.ScanStatusCompleted, scanned.Status)
	require.Positive(t, scanned.Counts.Fail, "the target fails some rules")
	require.Equal(t, exitFailed, r.code, "--fail-on-findings with failing rules")
	require.Contains(t, r.stderr, "rules failed")
	require.NotContains(t, r.stderr, "[", "--no-progress draws no bar")
	r = ow("", "scan", "dead-1", "--wait", "--poll-interval", "200ms")
	require.Equal(t, exitFailed, r.code, "%s", r.stderr)
	require.Contains(t, r.stdout, "failed")
	r = ow("", "scan", "no-such-host")
	require.Equal(t, exitNotFound, r.code)
	r = ow("", "scan", "web-1", "dead-1")
	require.Equal(t, exitUsage, r.code)

	// alerts with filters; a filter the server refuses is exit 1 with its message.
	r = ow("", "alerts", "--state", "active", "--host", "web-1", "--since", "24h", "-o", "json")
	require.Equal(t, exitOK, r.code, "%s", r.stderr)
	var alerts []api.Alert
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &alerts))
	r = ow("", "alerts")
	require.Equal(t, exitOK, r.code, "%s", r.stderr)
	require.Regexp(t, `(?m)^ID +SEVERITY +STATE +TYPE +OCCURRED +TITLE$`, r.stdout)
	r = ow("", "alerts", "--state", "bogus")
	require.Equal(t, exitError, r.code)
	require.Contains(t, r.stderr, "HTTP 400")
	r = ow("", "alerts", "--since", "yesterday")
	require.Equal(t, exitUsage, r.code)

	// audit export to a file (JSON lines) and to standard output (CSV).
	auditFile := filepath.Join(dir, "audit.json")
	r = ow("", "audit", "export", "--out", auditFile)
	require.Equal(t, exitOK, r.code, "%s", r.stderr)
	var events []struct {
		Action string `json:"action"`
	}
	b, err := os.ReadFile(auditFile)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &events), "%s", b)
	actions := map[string]bool{}
	for _, ev := range events {
		actions[ev.Action] = true
	}
	require.True(t, actions["host.created"], "%v", actions)
	r = ow("", "audit", "export", "--format", "csv", "--action", "host.created")
	require.Equal(t, exitOK, r.code, "%s", r.stderr)
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 3, "a header and two hosts: %s", r.stdout)
	r = ow("", "audit", "export", "--format", "xml")
	require.Equal(t, exitUsage, r.code)

	// report generate --wait downloads the export.
	reportFile := filepath.Join(dir, "report.json")
	r = ow("", "report", "generate", "--kind", "compliance", "--scope", "host:web-1", "--wait", "--poll-interval", "100ms", "--format", "json", "--out", reportFile)
	require.Equal(t, exitOK, r.code, "%s", r.stderr)
	require.Contains(t, r.stderr, "written to "+reportFile)
	t.Logf("$ openwatch report generate --kind compliance --scope host:web-1 --wait --out report.json\n%s", r.stderr)
	var report map[string]any
	b, err = os.ReadFile(reportFile)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &report), "%s", b)
	r = ow("", "report", "generate", "--kind", "audit", "-o", "json")
	require.Equal(t, exitOK, r.code, "%s", r.stderr)
	require.Contains(t, r.stdout, `"kind": "audit"`)
	r = ow("", "report", "generate", "--kind", "compliance", "--scope", "host:nowhere")
	require.Equal(t, exitNotFound, r.code)
	r = ow("", "report", "generate")
	require.Equal(t, exitUsage, r.code)

	// An expired access token is refreshed with the refresh token and the new pair saved.
	before := readSaved(t, savedFile)
	stale := before
	stale.AccessToken = "not-a-valid-token"
	require.NoError(t, writeLogin(env2(vars), &stale))
	r = ow("", "hosts", "list")
	require.Equal(t, exitOK, r.code, "%s", r.stderr)
	after := readSaved(t, savedFile)
	require.NotEqual(t, before.RefreshToken, after.RefreshToken, "the rotated refresh token is saved")
	require.NotEqual(t, "not-a-valid-token", after.AccessToken)

	// logout ends the saved session (not the one of a token in the environment, which
	// keeps working below) and removes the file; the old tokens stop working.
	withToken := map[string]string{"XDG_CONFIG_HOME": vars["XDG_CONFIG_HOME"], "OPENWATCH_TOKEN": admin.AccessToken}
	r = runWith(t, nil, "", withToken, "logout")
	require.Equal(t, exitOK, r.code, "%s", r.stderr)
	require.NoFileExists(t, savedFile)
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: after.AccessToken})
	require.Equal(t, http.StatusUnauthorized, res.Status)
	r = ow("", "hosts", "list")
	require.Equal(t, exitAuth, r.code)
	r = ow("", "logout")
	require.Equal(t, exitOK, r.code)
	require.Contains(t, r.stdout, "Not signed in")

	// A bearer token from the environment works without a sign-in; a refused one exits 3.
	tokVars := map[string]string{"XDG_CONFIG_HOME": vars["XDG_CONFIG_HOME"], "OPENWATCH_URL": srv.URL, "OPENWATCH_CACERT": caFile, "OPENWATCH_TOKEN": admin.AccessToken}
	r = runWith(t, nil, "", tokVars, "hosts", "list", "-o", "json")
	require.Equal(t, exitOK, r.code, "%s", r.stderr)
	tokVars["OPENWATCH_TOKEN"] = "bad"
	r = runWith(t, nil, "", tokVars, "hosts", "list")
	require.Equal(t, exitAuth, r.code)
}

// plusLicense installs a Plus license (the audit export needs it), signed by a key the
// test trusts.
func plusLicense(t *testing.T) apitest.Option {
	dir := t.TempDir()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	jwks := `{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}]}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "keys.jwks"), []byte(jwks), 0o644))
	now := time.Now()
	tok, err := license.Mint(priv, "k1", license.Claims{Tier: license.TierPlus, CustomerID: "acme", IssuedAt: now, ExpiresAt: now.Add(24 * time.Hour)})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "license.jwt"), []byte(tok), 0o600))
	return func(d *app.Deps) {
		d.Config.License.File = filepath.Join(dir, "license.jwt")
		d.Config.License.TrustedKeysFile = filepath.Join(dir, "keys.jwks")
	}
}

func env2(vars map[string]string) env {
	return env{getenv: func(k string) string { return vars[k] }}
}

func readSaved(t *testing.T, path string) savedLogin {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var s savedLogin
	require.NoError(t, json.Unmarshal(b, &s))
	return s
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\r'); i >= 0 {
		s = s[i+1:]
	}
	return s + "\n"
}

// TestCompletion: each shell's script names the commands and subcommands; bash and zsh
// scripts parse.
func TestCompletion(t *testing.T) {
	t.Parallel()
	for _, sh := range []string{"bash", "zsh", "fish"} {
		r := runWith(t, nil, "", nil, "completion", sh)
		require.Equal(t, 0, r.code, "%s", r.stderr)
		for _, w := range []string{"login", "hosts", "scan", "alerts", "audit", "report", "completion", "export", "generate", "output", "fail-on-findings"} {
			require.Contains(t, r.stdout, w, sh)
		}
		if sh == "bash" {
			f := filepath.Join(t.TempDir(), "c.bash")
			require.NoError(t, os.WriteFile(f, []byte(r.stdout), 0o600))
			out, err := exec.Command("bash", "-n", f).CombinedOutput()
			require.NoError(t, err, "%s", out)
			// Completing "openwatch ho" offers hosts.
			out, err = exec.Command("bash", "-c", "source "+f+`; COMP_WORDS=(openwatch ho); COMP_CWORD=1; _openwatch; echo "${COMPREPLY[@]}"`).CombinedOutput()
			require.NoError(t, err, "%s", out)
			require.Equal(t, "hosts", strings.TrimSpace(string(out)))
		}
	}
	r := runWith(t, nil, "", nil, "completion", "tcsh")
	require.Equal(t, exitUsage, r.code)
	r = runWith(t, nil, "", nil, "completion")
	require.Equal(t, exitUsage, r.code)
	r = runWith(t, nil, "", nil, "help")
	require.Equal(t, 0, r.code)
	require.Contains(t, r.stdout, "3 authentication needed or permission denied")
	// --help of a client command lists the exit codes.
	r = runWith(t, nil, "", nil, "scan", "--help")
	require.Equal(t, 0, r.code)
	require.Contains(t, r.stderr, "Exit codes: 0 success")
}

// TestLoginAsksForTheOneTimeCode: an account with MFA is asked for its code (read from
// standard input after the password here); a wrong or missing code exits 3.
func TestLoginAsksForTheOneTimeCode(t *testing.T) {
	t.Parallel()
	var now atomic.Pointer[time.Time]
	start := time.Now()
	now.Store(&start)
	env := apitest.New(t, func(d *app.Deps) { d.NowFunc = func() time.Time { return *now.Load() } })
	pw := env.CreateUser("mia", authz.RoleViewer)
	s := env.Login("mia", pw)
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/mfa:enroll", Token: s.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var enrol api.AuthMFAEnrollResponse
	res.Decode(t, &enrol)
	code, err := totp.GenerateCode(enrol.Secret, start)
	require.NoError(t, err)
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/mfa:verify", Token: s.AccessToken, JSON: map[string]string{"otp": code}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)

	srv := httptest.NewTLSServer(env.App.Handler())
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
	vars := map[string]string{"OPENWATCH_CONFIG_DIR": filepath.Join(dir, "ow")}

	r := runWith(t, nil, "mia\n"+pw+"\n", vars, "login", "--url", srv.URL, "--cacert", caFile)
	require.Equal(t, exitAuth, r.code, "no code on standard input: %s", r.stderr)
	require.Contains(t, r.stderr, "one-time code")
	r = runWith(t, nil, "mia\n"+pw+"\n000000\n", vars, "login", "--url", srv.URL, "--cacert", caFile)
	require.Equal(t, exitAuth, r.code, "%s", r.stderr)
	require.NoFileExists(t, filepath.Join(dir, "ow", "login.json"))

	later := start.Add(30 * time.Second)
	now.Store(&later)
	next, err := totp.GenerateCode(enrol.Secret, later)
	require.NoError(t, err)
	r = runWith(t, nil, "mia\n"+pw+"\n"+next+"\n", vars, "login", "--url", srv.URL, "--cacert", caFile)
	require.Equal(t, exitOK, r.code, "%s", r.stderr)
	require.FileExists(t, filepath.Join(dir, "ow", "login.json"))
	r = runWith(t, nil, "", vars, "hosts", "list", "-o", "json")
	require.Equal(t, exitOK, r.code, "%s", r.stderr)
	require.Equal(t, "[]\n", r.stdout)
}
