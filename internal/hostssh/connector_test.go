package hostssh_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/credential"
	"github.com/openwatch/openwatch/internal/hostssh"
	"github.com/openwatch/openwatch/internal/sshx"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// fixture is a running application, an admin session and a real sshd.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	env   *apitest.Env
	admin apitest.Session
	srv   *sshtest.Server
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	env := apitest.New(t)
	return &fixture{t: t, ctx: context.Background(), env: env, admin: env.Admin(),
		srv: sshtest.Start(t, sshtest.Options{Addr: "127.0.0.1"})}
}

func (f *fixture) do(method, path string, body any) *apitest.Response {
	f.t.Helper()
	return f.env.Do(apitest.Request{Method: method, Path: path, Token: f.admin.AccessToken, JSON: body})
}

// host registers the fixture's sshd as a host; username is the host's own login name
// ("" for none).
func (f *fixture) host(name, username string) uuid.UUID {
	f.t.Helper()
	body := map[string]any{"hostname": name, "ip_address": f.srv.Host, "port": f.srv.Port}
	if username != "" {
		body["username"] = username
	}
	res := f.do(http.MethodPost, "hosts", body)
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(f.t, &h)
	return h.Id
}

// credential gives the host a credential of the test user kind (key and password); a
// non-empty username replaces the user's name.
func (f *fixture) credential(hostID uuid.UUID, kind sshtest.UserKind, username string) {
	f.t.Helper()
	u := f.srv.User(kind)
	if username == "" {
		username = u.Name
	}
	body := map[string]any{"scope": "host", "scope_id": hostID, "name": "cred-" + u.Name, "username": username,
		"auth_method": "ssh_key", "private_key": string(u.PrivateKey)}
	if u.Password != "" {
		body["auth_method"], body["password"] = "both", u.Password
	}
	res := f.do(http.MethodPost, "credentials", body)
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
}

func (f *fixture) connect(hostID uuid.UUID) *hostssh.Conn {
	f.t.Helper()
	conn, err := f.env.App.SSH.Connect(f.ctx, hostID)
	require.NoError(f.t, err)
	f.t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func (f *fixture) keys(hostID uuid.UUID) api.HostKeyList {
	f.t.Helper()
	res := f.do(http.MethodGet, "hosts/"+hostID.String()+"/host-keys", nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var out api.HostKeyList
	res.Decode(f.t, &out)
	return out
}

func (f *fixture) auditCount(action string, hostID uuid.UUID) int {
	f.t.Helper()
	var n int
	require.NoError(f.t, f.env.App.Pool.QueryRow(f.ctx,
		`SELECT count(*) FROM audit_events WHERE action = $1 AND resource_id = $2`, action, hostID.String()).Scan(&n))
	return n
}

func (f *fixture) storedPrivilege(hostID uuid.UUID) string {
	f.t.Helper()
	var p string
	require.NoError(f.t, f.env.App.Pool.QueryRow(f.ctx,
		`SELECT privilege FROM host_ssh_state WHERE host_id = $1`, hostID).Scan(&p))
	return p
}

func (f *fixture) setSSHConfig(allowSudoPassword bool) {
	f.t.Helper()
	res := f.do(http.MethodPut, "system/ssh/config", map[string]any{
		"allow_sudo_password": allowSudoPassword, "dial_timeout_sec": 10, "command_timeout_sec": 60})
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
}

func whoami(t *testing.T, conn *hostssh.Conn, privileged bool) string {
	t.Helper()
	res, err := conn.Batch(context.Background(), []sshx.Command{{Name: "who", Script: "id -un"}}, privileged)
	require.NoError(t, err)
	r, ok := res.Result("who")
	require.True(t, ok)
	require.True(t, r.OK(), "stderr: %s", r.Stderr)
	return strings.TrimSpace(string(r.Stdout))
}

// TestHostKeyLifecycle walks trust on first use, a changed key failing closed, a wrong
// and a right approval, and a reset.
func TestHostKeyLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.host("tofu.example.com", "")
	f.credential(id, sshtest.UserSudo, "")
	firstFP := sshx.Fingerprint(f.srv.HostKey)

	require.Empty(t, f.keys(id).Keys)
	require.Equal(t, "owtest-sudo", whoami(t, f.connect(id), false))
	keys := f.keys(id)
	require.Equal(t, id, keys.HostId)
	require.Len(t, keys.Keys, 1)
	k := keys.Keys[0]
	require.Equal(t, api.HostKeyStatus("trusted"), k.Status)
	require.Equal(t, firstFP, k.FingerprintSha256)
	require.Equal(t, "ssh-ed25519", k.KeyType)
	require.Equal(t, hostssh.AuthorizedKey(f.srv.HostKey), k.PublicKey)
	require.Nil(t, k.ApprovedBy, "a key trusted on first use has no approver")
	require.Equal(t, 1, f.auditCount("host.key_trusted", id))
	var actor string
	require.NoError(t, f.env.App.Pool.QueryRow(f.ctx,
		`SELECT actor_type FROM audit_events WHERE action = 'host.key_trusted' AND resource_id = $1`, id.String()).Scan(&actor))
	require.Equal(t, "system", actor)

	// The same key again: accepted, no new trust event.
	f.connect(id)
	require.Equal(t, 1, f.auditCount("host.key_trusted", id))
	require.Len(t, f.keys(id).Keys, 1)

	// The host's key changes: the connection fails closed and the new key is pending.
	f.srv.RotateHostKey()
	f.srv.Restart()
	newFP := sshx.Fingerprint(f.srv.HostKey)
	require.NotEqual(t, firstFP, newFP)
	for range 2 {
		_, err := f.env.App.SSH.Connect(f.ctx, id)
		require.Error(t, err)
		require.True(t, apperr.Is(err, apperr.CodeHostKeyMismatch), "%v", err)
		require.ErrorIs(t, err, sshx.ErrHostKeyChanged)
		require.Equal(t, sshx.TypeHostKeyChanged, sshx.ErrorType(err))
		ae := apperr.As(err)
		require.Equal(t, newFP, ae.Detail["presented_fingerprint"])
		require.Equal(t, firstFP, ae.Detail["trusted_fingerprint"])
	}
	require.Equal(t, 1, f.auditCount("host.key_rejected", id), "a pending key is audited once, not per attempt")
	keys = f.keys(id)
	require.Len(t, keys.Keys, 2)
	require.Equal(t, api.HostKeyStatus("trusted"), keys.Keys[0].Status)
	require.Equal(t, firstFP, keys.Keys[0].FingerprintSha256)
	require.Equal(t, api.HostKeyStatus("pending"), keys.Keys[1].Status)
	require.Equal(t, newFP, keys.Keys[1].FingerprintSha256)

	// Approving a fingerprint that is not pending is a conflict and changes nothing.
	for _, fp := range []string{firstFP, "SHA256:not-the-pending-key"} {
		res := f.do(http.MethodPost, "hosts/"+id.String()+"/host-keys:approve", map[string]any{"fingerprint_sha256": fp})
		require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
		require.Equal(t, "resource.conflict", res.Err(t).Error.Code)
	}
	require.Len(t, f.keys(id).Keys, 2)
	_, err := f.env.App.SSH.Connect(f.ctx, id)
	require.True(t, apperr.Is(err, apperr.CodeHostKeyMismatch), "%v", err)

	// Approving the pending key replaces the trusted one; connections work again.
	res := f.do(http.MethodPost, "hosts/"+id.String()+"/host-keys:approve", map[string]any{"fingerprint_sha256": newFP})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &keys)
	require.Len(t, keys.Keys, 1)
	require.Equal(t, newFP, keys.Keys[0].FingerprintSha256)
	require.Equal(t, api.HostKeyStatus("trusted"), keys.Keys[0].Status)
	require.NotNil(t, keys.Keys[0].ApprovedBy)
	var me api.AuthMeResponse
	f.do(http.MethodGet, "auth/me", nil).Decode(t, &me)
	require.Equal(t, me.Id.String(), *keys.Keys[0].ApprovedBy, "the approver's id")
	require.NotNil(t, keys.Keys[0].ApprovedAt)
	require.Equal(t, 1, f.auditCount("host.key_approved", id))
	require.Equal(t, "owtest-sudo", whoami(t, f.connect(id), false))

	// Reset: the keys are forgotten and the next contact trusts on first use again.
	f.srv.RotateHostKey()
	f.srv.Restart()
	_, err = f.env.App.SSH.Connect(f.ctx, id)
	require.True(t, apperr.Is(err, apperr.CodeHostKeyMismatch), "%v", err)
	res = f.do(http.MethodPost, "hosts/"+id.String()+"/host-keys:reset", nil)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	require.Equal(t, 1, f.auditCount("host.keys_reset", id))
	require.Empty(t, f.keys(id).Keys)
	f.connect(id)
	keys = f.keys(id)
	require.Len(t, keys.Keys, 1)
	require.Equal(t, sshx.Fingerprint(f.srv.HostKey), keys.Keys[0].FingerprintSha256)
	require.Equal(t, 2, f.auditCount("host.key_trusted", id))
}

// TestConcurrentFirstContact connects to a new host from several connectors (as from
// several processes) at once: they agree on one trusted key, audited once.
func TestConcurrentFirstContact(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.host("race.example.com", "")
	f.credential(id, sshtest.UserPlain, "")
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		// Separate connectors share nothing in memory, like separate processes.
		c := hostssh.NewConnector(f.env.App.Pool, credentialsOf(f.env), f.env.App.Audit, hostssh.Options{})
		wg.Go(func() {
			conn, err := c.Connect(f.ctx, id)
			if err == nil {
				_ = conn.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	keys := f.keys(id)
	require.Len(t, keys.Keys, 1)
	require.Equal(t, api.HostKeyStatus("trusted"), keys.Keys[0].Status)
	require.Equal(t, 1, f.auditCount("host.key_trusted", id))
}

// TestPrivilegeLearned checks that the privilege mode a batch learns is stored and handed
// to the next connection, and that the host's username overrides the credential's.
func TestPrivilegeLearned(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.host("sudo.example.com", "owtest-sudo")
	f.credential(id, sshtest.UserSudo, "someone-else")

	conn := f.connect(id)
	require.Equal(t, sshx.PrivUnknown, conn.Privilege())
	require.Equal(t, "owtest-sudo", whoami(t, conn, false), "the host's username wins over the credential's")
	require.Equal(t, "root", whoami(t, conn, true))
	require.Equal(t, sshx.PrivSudo, conn.Privilege())
	require.Equal(t, "sudo", f.storedPrivilege(id))
	require.Equal(t, 2, conn.SessionsOpened(), "one session per batch")

	next := f.connect(id)
	require.Equal(t, sshx.PrivSudo, next.Privilege())
	require.Equal(t, "root", whoami(t, next, true))
}

// TestSudoPassword checks that a sudo password is used only when the setting allows it.
func TestSudoPassword(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.host("sudopw.example.com", "")
	f.credential(id, sshtest.UserSudoPassword, "")

	// Off by default: no root, and the host is known to have none.
	conn := f.connect(id)
	_, err := conn.Batch(f.ctx, []sshx.Command{{Name: "who", Script: "id -un"}}, true)
	require.Error(t, err)
	require.True(t, apperr.Is(err, apperr.CodeHostUnreachable), "%v", err)
	require.Equal(t, sshx.TypePrivilegeDenied, apperr.As(err).Detail["error_type"])
	require.ErrorIs(t, err, sshx.ErrPrivilegeDenied)
	require.Equal(t, "none", f.storedPrivilege(id))
	require.Equal(t, "owtest-sudopw", whoami(t, conn, false), "unprivileged batches still work")

	// Allowed: the password goes to sudo and the mode is learned.
	f.setSSHConfig(true)
	conn = f.connect(id)
	require.Equal(t, sshx.PrivNone, conn.Privilege())
	require.Equal(t, "root", whoami(t, conn, true))
	require.Equal(t, sshx.PrivSudoPassword, conn.Privilege())
	require.Equal(t, "sudo_password", f.storedPrivilege(id))
	require.Equal(t, "root", whoami(t, f.connect(id), true))

	// Turned off again: refused again.
	f.setSSHConfig(false)
	_, err = f.connect(id).Batch(f.ctx, []sshx.Command{{Name: "who", Script: "id -un"}}, true)
	require.ErrorIs(t, err, sshx.ErrPrivilegeDenied)
}

// TestConnectErrors covers an unknown host, a host without a credential, a stopped sshd
// and a rejected login.
func TestConnectErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	_, err := f.env.App.SSH.Connect(f.ctx, uuid.Must(uuid.NewV7()))
	require.True(t, apperr.Is(err, apperr.CodeNotFound), "%v", err)

	bare := f.host("bare.example.com", "")
	_, err = f.env.App.SSH.Connect(f.ctx, bare)
	require.True(t, apperr.Is(err, apperr.CodeHostUnreachable), "%v", err)
	require.Equal(t, hostssh.ErrorTypeNoCredential, apperr.As(err).Detail["error_type"])
	require.Empty(t, f.keys(bare).Keys)

	wrong := f.host("wrong-user.example.com", "")
	f.credential(wrong, sshtest.UserSudo, "owtest-nosuchuser")
	_, err = f.env.App.SSH.Connect(f.ctx, wrong)
	require.True(t, apperr.Is(err, apperr.CodeHostUnreachable), "%v", err)
	require.Equal(t, sshx.TypeAuthFailed, apperr.As(err).Detail["error_type"])

	f.srv.Stop()
	_, err = f.env.App.SSH.Connect(f.ctx, wrong)
	require.True(t, apperr.Is(err, apperr.CodeHostUnreachable), "%v", err)
	require.Equal(t, sshx.TypeConnectionRefused, apperr.As(err).Detail["error_type"])

	// A deleted host is not found.
	res := f.do(http.MethodDelete, "hosts/"+wrong.String(), nil)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	_, err = f.env.App.SSH.Connect(f.ctx, wrong)
	require.True(t, apperr.Is(err, apperr.CodeNotFound), "%v", err)
}

// credentialsOf builds a second credential service over the application's database and
// key file, as another process would.
func credentialsOf(env *apitest.Env) *credential.Service {
	env.T.Helper()
	aw, keyring, err := app.OpenAuditTrail(context.Background(), env.App.Config, env.App.Pool, nil)
	require.NoError(env.T, err)
	return credential.NewService(env.App.Pool, keyring, aw, time.Now)
}
