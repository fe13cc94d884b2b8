package sshca_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/sshca"
	"github.com/openwatch/openwatch/internal/sshx"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// onTarget runs script as root on the host over a connection verified by its pinned key
// and returns its output.
func onTarget(t *testing.T, env *apitest.Env, hostID uuid.UUID, script string) string {
	t.Helper()
	conn, err := env.App.SSH.ConnectPinned(context.Background(), hostID)
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	res, err := conn.Batch(context.Background(), []sshx.Command{{Name: "run", Script: script}}, true)
	require.NoError(t, err)
	r, ok := res.Result("run")
	require.True(t, ok)
	require.True(t, r.OK(), "%s: %s", script, r.Stderr)
	return string(r.Stdout)
}

// delivered waits for the delivery job of certificate id to record its outcome.
func delivered(t *testing.T, env *apitest.Env, admin apitest.Session, id uuid.UUID) api.HostCertificate {
	t.Helper()
	var out api.HostCertificate
	// Every delivery job has finished (another one to the same host may follow the first).
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, env.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job
			WHERE kind = 'ssh_certificate_delivery' AND state NOT IN ('completed', 'discarded', 'cancelled')`).Scan(&n))
		return n == 0
	}, 60*time.Second, 100*time.Millisecond)
	require.Eventually(t, func() bool {
		var list api.HostCertificateList
		res := call(env, admin, http.MethodGet, "certificates?limit=200", nil)
		res.Decode(t, &list)
		for _, c := range list.Certificates {
			if c.Id == id && (c.DeliveredAt != nil || c.DeliveryError != nil) {
				out = c
				return true
			}
		}
		return false
	}, 60*time.Second, 100*time.Millisecond)
	return out
}

// TestCertificateDelivery: issuing a certificate installs it on the host (namespaced
// /etc and /run): the certificate next to the host key, the drop-in naming it and the
// KRL, checked with sshd -t, and sshd reloaded through the pid file; a configuration sshd
// -t refuses puts the previous files back and records the error.
func TestCertificateDelivery(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, apitest.WithCertificateDelivery())
	admin := env.Admin()
	ctx := context.Background()
	srv := sshtest.Start(t, sshtest.Options{Overlay: []string{"/etc", "/run"}})
	u := srv.User(sshtest.UserSudo)
	res := call(env, admin, http.MethodPost, "hosts", map[string]any{"hostname": "deliver.example.com", "ip_address": srv.Host, "port": srv.Port})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(t, &h)
	res = call(env, admin, http.MethodPost, "credentials", map[string]any{"scope": "host", "scope_id": h.Id, "name": "deliver",
		"username": u.Name, "auth_method": "ssh_key", "private_key": string(u.PrivateKey)})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	conn, err := env.App.SSH.Connect(ctx, h.Id)
	require.NoError(t, err, "pins the host key")
	require.NoError(t, conn.Close())

	// The "sshd" that the pid file names is a process of this test: reloading it ends it
	// with SIGHUP. No systemd in the target's namespace.
	sleeper := exec.Command("sleep", "300")
	sleeper.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, sleeper.Start())
	t.Cleanup(func() { _ = sleeper.Process.Kill(); _ = sleeper.Wait() })
	onTarget(t, env, h.Id, "rm -rf /run/systemd && printf '%s\\n' "+strconv.Itoa(sleeper.Process.Pid)+" > /run/sshd.pid")
	// A host of the previous layout: its drop-in and KRL go.
	onTarget(t, env, h.Id, "mkdir -p /etc/ssh/sshd_config.d && printf 'RevokedKeys /etc/ssh/openwatch_revoked_keys\\n' "+
		"> /etc/ssh/sshd_config.d/50-openwatch-certificate.conf && printf 'SSHKRL\\n' > /etc/ssh/openwatch_revoked_keys")

	var cert api.HostCertificate
	res = call(env, admin, http.MethodPost, "hosts/"+h.Id.String()+"/certificates", map[string]any{"validity_days": 30})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.Decode(t, &cert)
	got := delivered(t, env, admin, cert.Id)
	require.Nil(t, got.DeliveryError)
	require.NotNil(t, got.DeliveredAt)
	var exit *exec.ExitError
	require.True(t, errors.As(sleeper.Wait(), &exit), "the reload signal reached the pid file's process")
	require.Equal(t, syscall.SIGHUP, exit.Sys().(syscall.WaitStatus).Signal())

	require.Equal(t, cert.Certificate+"\n", onTarget(t, env, h.Id, "cat /etc/ssh/ssh_host_ed25519_key-cert.pub"))
	require.Equal(t, "# Written by OpenWatch (enrollment and certificate delivery); rewritten on each delivery.\n"+
		"TrustedUserCAKeys /etc/ssh/openwatch/user_ca_keys.pub\nRevokedKeys /etc/ssh/openwatch/revoked_keys.krl\n"+
		"HostCertificate /etc/ssh/ssh_host_ed25519_key-cert.pub\n",
		onTarget(t, env, h.Id, "cat "+sshca.DropInPath))
	require.Equal(t, sshca.DropIn("/etc/ssh/ssh_host_ed25519_key-cert.pub"), onTarget(t, env, h.Id, "cat "+sshca.DropInPath))
	userCA, err := env.App.SSHCA.Get(ctx, sshca.KindUser)
	require.NoError(t, err)
	require.Equal(t, userCA.ReadyLines(), onTarget(t, env, h.Id, "cat "+sshca.UserCAKeysPath))
	require.Equal(t, "SSHKRL\n", onTarget(t, env, h.Id, "head -c 7 "+sshca.KRLPath))
	require.Equal(t, "gone\n", onTarget(t, env, h.Id, "ls /etc/ssh/sshd_config.d/50-openwatch-certificate.conf /etc/ssh/openwatch_revoked_keys 2>/dev/null || echo gone"),
		"the previous layout's files are removed")
	require.Equal(t, "revokedkeys "+sshca.KRLPath+"\n", onTarget(t, env, h.Id, "/usr/sbin/sshd -T | grep -i '^revokedkeys '"),
		"sshd reads the delivered KRL")
	_, err = os.Stat(sshca.DropInPath)
	require.True(t, os.IsNotExist(err), "this machine's own /etc is untouched")

	// A configuration sshd -t refuses: the previous files come back, the error is recorded.
	onTarget(t, env, h.Id, "printf 'NoSuchOption yes\\n' > /etc/ssh/sshd_config.d/00-broken.conf")
	var next api.HostCertificate
	res = call(env, admin, http.MethodPost, "hosts/"+h.Id.String()+"/certificates:reissue", map[string]any{})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.Decode(t, &next)
	got = delivered(t, env, admin, next.Id)
	require.NotNil(t, got.DeliveryError)
	require.Contains(t, *got.DeliveryError, "sshd -t refused the configuration")
	require.Nil(t, got.DeliveredAt)
	require.Equal(t, cert.Certificate+"\n", onTarget(t, env, h.Id, "cat /etc/ssh/ssh_host_ed25519_key-cert.pub"),
		"the previous certificate is back")
	require.False(t, strings.Contains(onTarget(t, env, h.Id, "ls /etc/ssh"), "openwatch-prev"))
}

// deliveriesDone waits until no delivery job is left to run.
func deliveriesDone(t *testing.T, env *apitest.Env) {
	t.Helper()
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, env.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM river_job
			WHERE kind = 'ssh_certificate_delivery' AND state NOT IN ('completed', 'discarded', 'cancelled')`).Scan(&n))
		return n == 0
	}, 60*time.Second, 100*time.Millisecond)
}

// readOnTarget is onTarget retried while sshd reloads after a delivery.
func readOnTarget(t *testing.T, env *apitest.Env, hostID uuid.UUID, script string) string {
	t.Helper()
	var out string
	require.Eventually(t, func() bool {
		conn, err := env.App.SSH.ConnectPinned(context.Background(), hostID)
		if err != nil {
			return false
		}
		defer func() { _ = conn.Close() }()
		res, err := conn.Batch(context.Background(), []sshx.Command{{Name: "run", Script: script}}, true)
		if err != nil {
			return false
		}
		r, ok := res.Result("run")
		require.True(t, ok)
		require.True(t, r.OK(), "%s: %s", script, r.Stderr)
		out = string(r.Stdout)
		return true
	}, 30*time.Second, 100*time.Millisecond)
	return out
}

// TestUserCARotationDelivery: an enrolled host (the layout's files, trusting only the
// user CA's key, certificate credential, no host certificate) keeps logging in after the
// user CA rotates; the rotation delivers both trusted keys to it, schedules the delivery
// of the overlap's end, and after the overlap the delivery drops the old key from the
// trusted keys and adds it to the KRL.
func TestUserCARotationDelivery(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, apitest.WithCertificateDelivery())
	admin := env.Admin()
	ctx := context.Background()
	srv := sshtest.Start(t, sshtest.Options{Overlay: []string{"/etc", "/run"}, SystemConfig: true})
	before, err := env.App.SSHCA.Get(ctx, sshca.KindUser)
	require.NoError(t, err)
	krl, err := env.App.SSHCA.KRL(ctx)
	require.NoError(t, err)

	// Enrolled: the files the enrollment script writes, then sshd reloaded.
	root := srv.Dial(t, sshtest.UserRoot)
	write := func(path, content string) string {
		return "printf '%s' '" + base64.StdEncoding.EncodeToString([]byte(content)) + "' | base64 -d > " + path + "\n"
	}
	res, err := root.Run(ctx, "set -e\nrm -rf /run/systemd\nmkdir -p "+sshca.LayoutDir+" "+sshca.DropInDir+"\n"+
		write(sshca.UserCAKeysPath, before.ReadyLines())+write(sshca.KRLPath, string(krl))+write(sshca.DropInPath, sshca.DropIn(""))+
		"kill -HUP $(cat /run/sshd.pid)\n")
	require.NoError(t, err)
	require.True(t, res.OK(), "%s", res.Stderr)

	r := call(env, admin, http.MethodPost, "hosts", map[string]any{"hostname": "rotate.example.com", "ip_address": srv.Host, "port": srv.Port})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	var h api.HostResponse
	r.Decode(t, &h)
	r = call(env, admin, http.MethodPost, "credentials", map[string]any{"scope": "host", "scope_id": h.Id, "name": "cert",
		"username": srv.User(sshtest.UserSudo).Name, "auth_method": "certificate"})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	require.Eventually(t, func() bool {
		conn, err := env.App.SSH.Connect(ctx, h.Id)
		if err == nil {
			_ = conn.Close()
		}
		return err == nil
	}, 30*time.Second, 100*time.Millisecond, "a certificate login pins the host key")

	r = call(env, admin, http.MethodPost, "ssh-ca/user:rotate", map[string]any{"overlap_hours": 1})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	both, err := env.App.SSHCA.Get(ctx, sshca.KindUser)
	require.NoError(t, err)
	require.Len(t, both.Keys, 2)
	var scheduled time.Time
	require.NoError(t, env.App.Pool.QueryRow(ctx, `SELECT scheduled_at FROM river_job WHERE kind = 'ssh_ca_trust_delivery'`).Scan(&scheduled))
	require.WithinDuration(t, *both.Keys[1].TrustedUntil, scheduled, time.Second, "the overlap's end is delivered too")

	// The rotation delivered (logging in with the previous key's certificate).
	deliveriesDone(t, env)
	require.Equal(t, both.ReadyLines(), readOnTarget(t, env, h.Id, "cat "+sshca.UserCAKeysPath), "the host trusts both keys")
	require.Equal(t, sshca.DropIn(""), readOnTarget(t, env, h.Id, "cat "+sshca.DropInPath))
	require.Contains(t, srv.Log(), "CA ED25519 "+before.Keys[0].Fingerprint)

	// After the overlap (what the scheduled job queues): the old key leaves the trusted
	// keys and joins the KRL.
	later := env.App.SSHCA.WithClock(func() time.Time { return time.Now().Add(2 * time.Hour) })
	require.NoError(t, later.Deliver(ctx, h.Id))
	require.Equal(t, both.Keys[0].Line()+"\n", readOnTarget(t, env, h.Id, "cat "+sshca.UserCAKeysPath))
	served, err := base64.StdEncoding.DecodeString(strings.TrimSpace(readOnTarget(t, env, h.Id, "base64 -w0 "+sshca.KRLPath)))
	require.NoError(t, err)
	_, keys, err := sshca.ParseKRL(served)
	require.NoError(t, err)
	require.Equal(t, [][]byte{before.Keys[0].PublicKey.Marshal()}, keys, "the old key is revoked on the host")
}
