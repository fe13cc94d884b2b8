package sshca_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/sshca"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

func call(env *apitest.Env, s apitest.Session, method, path string, body any) *apitest.Response {
	env.T.Helper()
	return env.Do(apitest.Request{Method: method, Path: path, Token: s.AccessToken, JSON: body})
}

func newKey(t *testing.T) (ssh.PublicKey, ssh.Signer) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	signer, err := ssh.NewSignerFromKey(priv)
	require.NoError(t, err)
	return signer.PublicKey(), signer
}

// addHost inserts a host, with pub as its trusted host key when given.
func addHost(t *testing.T, env *apitest.Env, name string, pub ssh.PublicKey) uuid.UUID {
	t.Helper()
	ctx := context.Background()
	id := uuid.New()
	_, err := env.App.Pool.Exec(ctx, `INSERT INTO hosts (id, hostname, ip_address) VALUES ($1, $2, '192.0.2.10')`, id, name)
	require.NoError(t, err)
	if pub != nil {
		_, err = env.App.Pool.Exec(ctx, `INSERT INTO host_ssh_keys (id, host_id, key_type, fingerprint_sha256, public_key, status)
			VALUES ($1, $2, $3, $4, $5, 'trusted')`, uuid.New(), id, pub.Type(), ssh.FingerprintSHA256(pub),
			strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub))))
		require.NoError(t, err)
	}
	return id
}

func parseCert(t *testing.T, line string) *ssh.Certificate {
	t.Helper()
	k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
	require.NoError(t, err)
	c, ok := k.(*ssh.Certificate)
	require.True(t, ok)
	return c
}

// TestCAAndHostCertificates serves the CAs, rotates with overlap, issues, verifies,
// renews and revokes host certificates, serves the KRL, and checks permissions and bad
// input.
func TestCAAndHostCertificates(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	viewer := env.Login("viewer", env.CreateUser("viewer", authz.RoleViewer))

	var user, host api.SSHCA
	res := call(env, viewer, http.MethodGet, "ssh-ca/user", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &user)
	require.Len(t, user.Keys, 1)
	require.Equal(t, api.SSHCAKeyStatus("active"), user.Keys[0].Status)
	require.Equal(t, user.Keys[0].PublicKey+"\n", user.ReadyLines)
	require.True(t, strings.HasPrefix(user.Keys[0].PublicKey, "ssh-ed25519 "))
	res = call(env, viewer, http.MethodGet, "ssh-ca/host", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &host)
	require.Equal(t, "@cert-authority * "+host.Keys[0].PublicKey+"\n", host.ReadyLines)
	require.NotEqual(t, user.Keys[0].KeyId, host.Keys[0].KeyId)

	// Rotation: viewers may not; bad kind and overlap are 400s; the previous key is listed
	// until its overlap ends.
	res = call(env, viewer, http.MethodPost, "ssh-ca/user:rotate", map[string]any{})
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	res = call(env, admin, http.MethodPost, "ssh-ca/bogus:rotate", map[string]any{})
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	res = call(env, admin, http.MethodPost, "ssh-ca/user:rotate", map[string]any{"overlap_hours": 5000})
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	require.Contains(t, string(res.Body), "overlap_hours")
	var rotated api.SSHCA
	res = call(env, admin, http.MethodPost, "ssh-ca/user:rotate", map[string]any{"overlap_hours": 1})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &rotated)
	require.Len(t, rotated.Keys, 2)
	require.Equal(t, api.SSHCAKeyStatus("active"), rotated.Keys[0].Status)
	require.Equal(t, user.Keys[0].KeyId, rotated.Keys[1].KeyId)
	require.Equal(t, api.SSHCAKeyStatus("previous"), rotated.Keys[1].Status)
	require.Equal(t, 2, strings.Count(rotated.ReadyLines, "\n"))
	later, err := env.App.SSHCA.WithClock(func() time.Time { return time.Now().Add(2 * time.Hour) }).Get(context.Background(), sshca.KindUser)
	require.NoError(t, err)
	require.Len(t, later.Keys, 1, "the previous key is no longer trusted after the overlap")
	require.Equal(t, rotated.Keys[0].KeyId, later.Keys[0].KeyID)

	// Host certificates.
	hostPub, _ := newKey(t)
	hostID := addHost(t, env, "web-"+uuid.NewString()[:8], hostPub)
	res = call(env, viewer, http.MethodPost, "hosts/"+hostID.String()+"/certificates", map[string]any{})
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	for _, bad := range []map[string]any{{"validity_days": 0}, {"validity_days": 900}, {"principals": []string{"a b"}}, {"extra": 1}} {
		res = call(env, admin, http.MethodPost, "hosts/"+hostID.String()+"/certificates", bad)
		require.Equal(t, http.StatusBadRequest, res.Status, "%v: %s", bad, res.Body)
	}
	res = call(env, admin, http.MethodPost, "hosts/"+uuid.NewString()+"/certificates", map[string]any{})
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
	noKey := addHost(t, env, "nokey-"+uuid.NewString()[:8], nil)
	res = call(env, admin, http.MethodPost, "hosts/"+noKey.String()+"/certificates", map[string]any{})
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)

	var issued api.HostCertificate
	res = call(env, admin, http.MethodPost, "hosts/"+hostID.String()+"/certificates", map[string]any{"validity_days": 30, "principals": []string{"web.example.test"}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.Decode(t, &issued)
	require.Equal(t, api.HostCertificateStatus("issued"), issued.Status)
	require.Equal(t, ssh.FingerprintSHA256(hostPub), issued.FingerprintSha256)
	require.Contains(t, issued.Principals, "192.0.2.10")
	require.Contains(t, issued.Principals, "web.example.test")
	require.Equal(t, host.Keys[0].KeyId, issued.CaKeyId)

	cert := parseCert(t, issued.Certificate)
	hostCA, err := env.App.SSHCA.Get(context.Background(), sshca.KindHost)
	require.NoError(t, err)
	revoked := map[uint64]bool{}
	checker := &ssh.CertChecker{
		IsHostAuthority: func(auth ssh.PublicKey, _ string) bool { return hostCA.Trusts(auth) },
		IsRevoked:       func(c *ssh.Certificate) bool { return revoked[c.Serial] },
	}
	require.NoError(t, checker.CheckCert("web.example.test", cert))
	require.NoError(t, checker.CheckHostKey("192.0.2.10:22", &fakeAddr{"192.0.2.10:22"}, cert))
	require.Error(t, checker.CheckCert("other.example.test", cert))
	otherPub, otherSigner := newKey(t)
	forged := *cert
	forged.Signature = nil
	require.NoError(t, forged.SignCert(rand.Reader, otherSigner))
	require.Error(t, checker.CheckHostKey("192.0.2.10:22", &fakeAddr{"192.0.2.10:22"}, &forged), "another CA: %s", ssh.FingerprintSHA256(otherPub))

	// Renew: a new certificate for the same key.
	var renewed api.HostCertificate
	res = call(env, admin, http.MethodPost, "certificates/"+issued.Id.String()+":renew", map[string]any{"validity_days": 60})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.Decode(t, &renewed)
	require.Equal(t, issued.Id, *renewed.RenewedFrom)
	require.Equal(t, issued.FingerprintSha256, renewed.FingerprintSha256)
	require.NotEqual(t, issued.Serial, renewed.Serial)

	// Revoke: in the KRL (ssh-keygen agrees), and the checker refuses it.
	res = call(env, viewer, http.MethodPost, "certificates/"+issued.Id.String()+":revoke", map[string]any{})
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	res = call(env, admin, http.MethodPost, "certificates/"+issued.Id.String()+":revoke", map[string]any{"reason": "key compromise"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var rev api.HostCertificate
	res.Decode(t, &rev)
	require.Equal(t, api.HostCertificateStatus("revoked"), rev.Status)
	res = call(env, admin, http.MethodPost, "certificates/"+issued.Id.String()+":revoke", map[string]any{})
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	res = call(env, admin, http.MethodPost, "certificates/"+issued.Id.String()+":renew", map[string]any{})
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	res = call(env, admin, http.MethodPost, "certificates/"+uuid.NewString()+":revoke", map[string]any{})
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)

	res = call(env, viewer, http.MethodGet, "ssh-ca/krl", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	krl, err := sshca.ParseKRLSerials([]byte(res.Body))
	require.NoError(t, err)
	require.Equal(t, []uint64{uint64(issued.Serial)}, krl)
	for _, s := range krl {
		revoked[s] = true
	}
	require.Error(t, checker.CheckHostKey("192.0.2.10:22", &fakeAddr{"192.0.2.10:22"}, cert), "revoked")
	require.NoError(t, checker.CheckHostKey("192.0.2.10:22", &fakeAddr{"192.0.2.10:22"}, parseCert(t, renewed.Certificate)))
	if keygen, err := exec.LookPath("ssh-keygen"); err == nil {
		dir := t.TempDir()
		krlPath, certPath, newPath := filepath.Join(dir, "krl"), filepath.Join(dir, "old-cert.pub"), filepath.Join(dir, "new-cert.pub")
		require.NoError(t, os.WriteFile(krlPath, []byte(res.Body), 0o600))
		require.NoError(t, os.WriteFile(certPath, []byte(issued.Certificate+"\n"), 0o600))
		require.NoError(t, os.WriteFile(newPath, []byte(renewed.Certificate+"\n"), 0o600))
		out, err := exec.Command(keygen, "-Q", "-f", krlPath, certPath).CombinedOutput()
		require.Error(t, err, "ssh-keygen finds the revoked certificate in the KRL: %s", out)
		require.Contains(t, string(out), "REVOKED")
		out, err = exec.Command(keygen, "-Q", "-f", krlPath, newPath).CombinedOutput()
		require.NoError(t, err, "the renewed certificate is not revoked: %s", out)
	}

	// Lists.
	var list api.HostCertificateList
	res = call(env, viewer, http.MethodGet, "hosts/"+hostID.String()+"/certificates", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &list)
	require.Len(t, list.Certificates, 2)
	require.Equal(t, renewed.Id, list.Certificates[0].Id)
	res = call(env, viewer, http.MethodGet, "certificates?status=revoked&limit=1", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &list)
	require.Len(t, list.Certificates, 1)
	require.Equal(t, issued.Id, list.Certificates[0].Id)
	res = call(env, viewer, http.MethodGet, "certificates?status=bogus", nil)
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	res = call(env, viewer, http.MethodGet, "certificates?cursor=zzz", nil)
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	expired, err := env.App.SSHCA.WithClock(func() time.Time { return time.Now().Add(90 * 24 * time.Hour) }).
		List(context.Background(), sshca.Filter{HostID: &hostID}, firstPage())
	require.NoError(t, err)
	require.Equal(t, sshca.StatusExpired, expired.Items[0].Status)
	require.Equal(t, sshca.StatusRevoked, expired.Items[1].Status)

	var n int
	require.NoError(t, env.App.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM audit_events WHERE action IN ('ssh_ca.rotated', 'host.certificate_issued', 'host.certificate_renewed', 'host.certificate_revoked')`).Scan(&n))
	require.Equal(t, 4, n)
}

type fakeAddr struct{ s string }

func (a *fakeAddr) Network() string { return "tcp" }
func (a *fakeAddr) String() string  { return a.s }

// TestUserCertificateSSHD: a real sshd trusting the user CA's ready lines accepts a user
// certificate the CA signed and refuses an expired one and one from another CA.
func TestUserCertificateSSHD(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	ctx := context.Background()
	ca, err := env.App.SSHCA.Get(ctx, sshca.KindUser)
	require.NoError(t, err)
	srv := sshtest.Start(t, sshtest.Options{TrustedUserCAKeys: ca.ReadyLines()})
	name := srv.User(sshtest.UserPlain).Name

	login := func(cert *ssh.Certificate, signer ssh.Signer) error {
		cs, err := ssh.NewCertSigner(cert, signer)
		require.NoError(t, err)
		c, err := ssh.Dial("tcp", srv.Addr, &ssh.ClientConfig{User: name, Auth: []ssh.AuthMethod{ssh.PublicKeys(cs)},
			HostKeyCallback: ssh.FixedHostKey(srv.HostKey), Timeout: 10 * time.Second})
		if err != nil {
			return err
		}
		defer c.Close()
		s, err := c.NewSession()
		if err != nil {
			return err
		}
		defer s.Close()
		out, err := s.Output("id -un")
		require.Equal(t, name, strings.TrimSpace(string(out)))
		return err
	}

	pub, signer := newKey(t)
	cert, err := env.App.SSHCA.SignUserCert(ctx, pub, name, 5*time.Minute, "127.0.0.0/8")
	require.NoError(t, err)
	require.Equal(t, "127.0.0.0/8", cert.CriticalOptions["source-address"])
	require.NoError(t, login(cert, signer), "sshd log:\n%s", srv.Log())
	require.Contains(t, srv.Log(), "Accepted publickey for "+name)
	require.Contains(t, srv.Log(), "ED25519-CERT")

	old, err := env.App.SSHCA.WithClock(func() time.Time { return time.Now().Add(-time.Hour) }).
		SignUserCert(ctx, pub, name, 10*time.Minute, "")
	require.NoError(t, err)
	require.Error(t, login(old, signer), "an expired certificate is refused")

	elsewhere, err := env.App.SSHCA.SignUserCert(ctx, pub, name, 5*time.Minute, "192.0.2.0/24")
	require.NoError(t, err)
	require.Error(t, login(elsewhere, signer), "a certificate for another source address is refused")

	_, otherCA := newKey(t)
	foreign := *cert
	foreign.Signature = nil
	require.NoError(t, foreign.SignCert(rand.Reader, otherCA))
	require.Error(t, login(&foreign, signer), "a certificate from another CA is refused")

	for _, bad := range []struct {
		principal string
		validity  time.Duration
		source    string
	}{{"", time.Minute, ""}, {"a b", time.Minute, ""}, {name, 25 * time.Hour, ""}, {name, time.Second, ""}, {name, time.Minute, "not-an-address"}} {
		_, err := env.App.SSHCA.SignUserCert(ctx, pub, bad.principal, bad.validity, bad.source)
		require.Error(t, err, "%+v", bad)
	}
}

func firstPage() cursor.Request[cursor.TimeID] { return cursor.First(cursor.ByTime{}, 50) }

// TestReissueAndExpiringFilter: reissuing signs the host's current pinned key and revokes
// the certificates it replaces (audited); the fleet list filters certificates expiring
// soon.
func TestReissueAndExpiringFilter(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	viewer := env.Login("viewer", env.CreateUser("viewer", authz.RoleViewer))
	hostPub, _ := newKey(t)
	hostID := addHost(t, env, "re-"+uuid.NewString()[:8], hostPub)
	path := "hosts/" + hostID.String() + "/certificates"

	var first, short, again api.HostCertificate
	res := call(env, admin, http.MethodPost, path, map[string]any{"validity_days": 60})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.Decode(t, &first)
	res = call(env, admin, http.MethodPost, path, map[string]any{"validity_days": 5})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.Decode(t, &short)

	// Expiring within 10 days: only the short one; bad values are 400s.
	var list api.HostCertificateList
	res = call(env, viewer, http.MethodGet, "certificates?expiring_within_days=10", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &list)
	require.Len(t, list.Certificates, 1)
	require.Equal(t, short.Id, list.Certificates[0].Id)
	for _, bad := range []string{"0", "900", "x"} {
		res = call(env, viewer, http.MethodGet, "certificates?expiring_within_days="+bad, nil)
		require.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", bad, res.Body)
	}

	res = call(env, viewer, http.MethodPost, path+":reissue", map[string]any{})
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	res = call(env, admin, http.MethodPost, path+":reissue", map[string]any{"validity_days": 0})
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	noKey := addHost(t, env, "re-nokey-"+uuid.NewString()[:8], nil)
	res = call(env, admin, http.MethodPost, "hosts/"+noKey.String()+"/certificates:reissue", map[string]any{})
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	res = call(env, admin, http.MethodPost, "hosts/"+uuid.NewString()+"/certificates:reissue", map[string]any{})
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)

	res = call(env, admin, http.MethodPost, path+":reissue", map[string]any{"validity_days": 30})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.Decode(t, &again)
	require.Equal(t, api.HostCertificateStatus("issued"), again.Status)
	require.Equal(t, ssh.FingerprintSHA256(hostPub), again.FingerprintSha256)

	res = call(env, viewer, http.MethodGet, path, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &list)
	require.Len(t, list.Certificates, 3)
	status := map[uuid.UUID]string{}
	for _, c := range list.Certificates {
		status[c.Id] = string(c.Status)
		if c.Status == "revoked" {
			require.NotNil(t, c.RevokeReason)
			require.Equal(t, sshca.ReissueReason, *c.RevokeReason)
		}
	}
	require.Equal(t, map[uuid.UUID]string{first.Id: "revoked", short.Id: "revoked", again.Id: "issued"}, status)

	// Both revocations are in the KRL and audited.
	krl, err := env.App.SSHCA.KRL(context.Background())
	require.NoError(t, err)
	serials, err := sshca.ParseKRLSerials(krl)
	require.NoError(t, err)
	require.ElementsMatch(t, []uint64{uint64(first.Serial), uint64(short.Serial)}, serials)
	var n int
	require.NoError(t, env.App.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM audit_events WHERE action = 'host.certificate_revoked' AND resource_id = $1`, hostID.String()).Scan(&n))
	require.Equal(t, 2, n)
}

// alertState returns the state of the alert of dedup key ("" when none).
func alertState(t *testing.T, env *apitest.Env, key string) (state, severity string) {
	t.Helper()
	err := env.App.Pool.QueryRow(context.Background(),
		`SELECT state, severity FROM alerts WHERE dedup_key = $1 ORDER BY created_at DESC LIMIT 1`, key).Scan(&state, &severity)
	if err != nil {
		require.ErrorContains(t, err, "no rows")
	}
	return state, severity
}

// TestCertificateExpiry: an issued certificate close to its end raises
// ssh_certificate_expiring (warning, then critical within three days, once per
// severity); renewing or revoking resolves it; auto-renew renews instead of alerting.
func TestCertificateExpiry(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	ctx := context.Background()
	// The periodic check runs once when the workers start; let that run finish first, or
	// on a loaded runner it would raise this test's first alert ahead of CheckExpiry.
	require.Eventually(t, func() bool {
		var n int
		err := env.App.Pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = $1 AND state = 'completed'`,
			sshca.ExpiryArgs{}.Kind()).Scan(&n)
		return err == nil && n > 0
	}, 30*time.Second, 20*time.Millisecond, "the periodic expiry check never ran")
	hostPub, _ := newKey(t)
	hostID := addHost(t, env, "exp-"+uuid.NewString()[:8], hostPub)
	issue := func(days int) api.HostCertificate {
		var c api.HostCertificate
		res := call(env, admin, http.MethodPost, "hosts/"+hostID.String()+"/certificates", map[string]any{"validity_days": days})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		res.Decode(t, &c)
		return c
	}
	soon, far := issue(10), issue(60)
	warnKey := sshca.AlertCertExpiring + ":" + soon.Id.String() + ":medium"
	critKey := sshca.AlertCertExpiring + ":" + soon.Id.String() + ":critical"

	res, err := env.App.SSHCA.CheckExpiry(ctx)
	require.NoError(t, err)
	require.Equal(t, sshca.ExpiryResult{Raised: 1}, res)
	state, sev := alertState(t, env, warnKey)
	require.Equal(t, "active", state)
	require.Equal(t, "medium", sev)
	res, err = env.App.SSHCA.CheckExpiry(ctx)
	require.NoError(t, err)
	require.Equal(t, sshca.ExpiryResult{}, res, "no second alert for the same certificate")
	state, _ = alertState(t, env, sshca.AlertCertExpiring+":"+far.Id.String()+":medium")
	require.Empty(t, state, "a certificate far from its end raises nothing")

	// Eight days later: critical, the warning resolved.
	later := env.App.SSHCA.WithClock(func() time.Time { return time.Now().Add(8 * 24 * time.Hour) })
	res, err = later.CheckExpiry(ctx)
	require.NoError(t, err)
	require.Equal(t, sshca.ExpiryResult{Raised: 1, Resolved: 1}, res)
	state, sev = alertState(t, env, critKey)
	require.Equal(t, "active", state)
	require.Equal(t, "critical", sev)
	state, _ = alertState(t, env, warnKey)
	require.Equal(t, "resolved", state)

	// Renewing resolves it at once, and the renewed certificate no longer alerts.
	r := call(env, admin, http.MethodPost, "certificates/"+soon.Id.String()+":renew", map[string]any{"validity_days": 90})
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Body)
	state, _ = alertState(t, env, critKey)
	require.Equal(t, "resolved", state)
	res, err = later.CheckExpiry(ctx)
	require.NoError(t, err)
	require.Equal(t, sshca.ExpiryResult{}, res)

	// Revoking resolves it too.
	short := issue(5)
	res, err = env.App.SSHCA.CheckExpiry(ctx)
	require.NoError(t, err)
	require.Equal(t, sshca.ExpiryResult{Raised: 1}, res)
	r = call(env, admin, http.MethodPost, "certificates/"+short.Id.String()+":revoke", map[string]any{})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	state, _ = alertState(t, env, sshca.AlertCertExpiring+":"+short.Id.String()+":medium")
	require.Equal(t, "resolved", state)

	// Auto-renew: renewed instead of alerting.
	_, err = env.App.Pool.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`, sshca.SettingsKey, `{"warn_days": 14, "auto_renew": true}`)
	require.NoError(t, err)
	auto := issue(3)
	res, err = env.App.SSHCA.CheckExpiry(ctx)
	require.NoError(t, err)
	require.Equal(t, sshca.ExpiryResult{Renewed: 1}, res)
	var list api.HostCertificateList
	r = call(env, admin, http.MethodGet, "hosts/"+hostID.String()+"/certificates", nil)
	r.Decode(t, &list)
	require.NotNil(t, list.Certificates[0].RenewedFrom)
	require.Equal(t, auto.Id, *list.Certificates[0].RenewedFrom)
	state, _ = alertState(t, env, sshca.AlertCertExpiring+":"+auto.Id.String()+":critical")
	require.Empty(t, state)
}

// TestExpiryConfig: the expiry settings are read with system:read, changed with
// system:config:write (bad values are 400s), audited, and used by the check.
func TestExpiryConfig(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	viewer := env.Login("viewer", env.CreateUser("viewer", authz.RoleViewer))
	var got api.SSHCertificateConfigResponse
	res := call(env, viewer, http.MethodGet, "system/ssh-certificates/config", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &got)
	require.Equal(t, api.SSHCertificateConfig{WarnDays: 14, AutoRenew: false}, got.Config)
	require.Equal(t, got.Config, got.Defaults)
	res = call(env, viewer, http.MethodPut, "system/ssh-certificates/config", map[string]any{"warn_days": 30, "auto_renew": true})
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	for _, bad := range []map[string]any{{"warn_days": 0, "auto_renew": false}, {"warn_days": 400, "auto_renew": false},
		{"warn_days": 30}, {"warn_days": 30, "auto_renew": true, "extra": 1}} {
		res = call(env, admin, http.MethodPut, "system/ssh-certificates/config", bad)
		require.Equal(t, http.StatusBadRequest, res.Status, "%v: %s", bad, res.Body)
	}
	res = call(env, admin, http.MethodPut, "system/ssh-certificates/config", map[string]any{"warn_days": 30, "auto_renew": false})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = call(env, viewer, http.MethodGet, "system/ssh-certificates/config", nil)
	res.Decode(t, &got)
	require.Equal(t, api.SSHCertificateConfig{WarnDays: 30}, got.Config)
	var n int
	require.NoError(t, env.App.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM audit_events WHERE action = 'system.ssh_certificate_config_changed'`).Scan(&n))
	require.Equal(t, 1, n)

	// A certificate with 20 days left alerts under 30 days, not under the default 14.
	hostPub, _ := newKey(t)
	hostID := addHost(t, env, "cfg-"+uuid.NewString()[:8], hostPub)
	res = call(env, admin, http.MethodPost, "hosts/"+hostID.String()+"/certificates", map[string]any{"validity_days": 20})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	out, err := env.App.SSHCA.CheckExpiry(context.Background())
	require.NoError(t, err)
	require.Equal(t, sshca.ExpiryResult{Raised: 1}, out)
}

// TestHostCARotationRenews: rotating the host CA renews every issued, unexpired
// certificate with the new key (same key, principals and validity), audited as renewals;
// revoked and expired ones are left alone.
func TestHostCARotationRenews(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	ctx := context.Background()
	hostPub, _ := newKey(t)
	hostID := addHost(t, env, "rot-"+uuid.NewString()[:8], hostPub)
	var live, gone api.HostCertificate
	res := call(env, admin, http.MethodPost, "hosts/"+hostID.String()+"/certificates", map[string]any{"validity_days": 30})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.Decode(t, &gone)
	res = call(env, admin, http.MethodPost, "certificates/"+gone.Id.String()+":revoke", map[string]any{})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = call(env, admin, http.MethodPost, "hosts/"+hostID.String()+"/certificates", map[string]any{"validity_days": 30})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.Decode(t, &live)

	var rotated api.SSHCA
	res = call(env, admin, http.MethodPost, "ssh-ca/host:rotate", map[string]any{"overlap_hours": 24})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &rotated)
	require.Len(t, rotated.Keys, 2)

	var list api.HostCertificateList
	res = call(env, admin, http.MethodGet, "certificates?host_id="+hostID.String(), nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &list)
	require.Len(t, list.Certificates, 3, "one renewal, of the live certificate only")
	renewed := list.Certificates[0]
	require.NotNil(t, renewed.RenewedFrom)
	require.Equal(t, live.Id, *renewed.RenewedFrom)
	require.Equal(t, rotated.Keys[0].KeyId, renewed.CaKeyId, "signed by the new key")
	require.Equal(t, live.FingerprintSha256, renewed.FingerprintSha256)
	require.Equal(t, live.Principals, renewed.Principals)
	require.WithinDuration(t, live.ValidBefore.Add(renewed.CreatedAt.Sub(live.CreatedAt)), renewed.ValidBefore, 2*time.Minute)
	cert := parseCert(t, renewed.Certificate)
	require.True(t, strings.HasPrefix(rotated.Keys[0].PublicKey, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(cert.SignatureKey)))))
	var n int
	require.NoError(t, env.App.Pool.QueryRow(ctx,
		`SELECT count(*) FROM audit_events WHERE action = 'host.certificate_renewed' AND resource_id = $1`, hostID.String()).Scan(&n))
	require.Equal(t, 1, n)
}
