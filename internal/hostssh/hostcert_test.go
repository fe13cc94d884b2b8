package hostssh_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/hostssh"
	"github.com/openwatch/openwatch/internal/sshca"
	"github.com/openwatch/openwatch/internal/sshx"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// newCAFixture starts the application first, then an sshd trusting its user CA.
func newCAFixture(t *testing.T) *fixture {
	t.Helper()
	env := apitest.New(t)
	ctx := context.Background()
	userCA, err := env.App.SSHCA.Get(ctx, sshca.KindUser)
	require.NoError(t, err)
	return &fixture{t: t, ctx: ctx, env: env, admin: env.Admin(),
		srv: sshtest.Start(t, sshtest.Options{Addr: "127.0.0.1", TrustedUserCAKeys: userCA.ReadyLines()})}
}

// certCredential gives the host a certificate credential for username.
func (f *fixture) certCredential(hostID uuid.UUID, username string) {
	f.t.Helper()
	res := f.do(http.MethodPost, "credentials", map[string]any{"scope": "host", "scope_id": hostID,
		"name": "cert-" + username, "username": username, "auth_method": "certificate"})
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
	var c api.CredentialResponse
	res.Decode(f.t, &c)
	require.Equal(f.t, api.CredentialResponseAuthMethod("certificate"), c.AuthMethod)
}

// issue issues a host certificate for the host's pinned key through the API.
func (f *fixture) issue(hostID uuid.UUID) api.HostCertificate {
	f.t.Helper()
	res := f.do(http.MethodPost, "hosts/"+hostID.String()+"/certificates", map[string]any{"validity_days": 30})
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
	var c api.HostCertificate
	res.Decode(f.t, &c)
	return c
}

// refused connects and returns the apperr the connection failed with.
func (f *fixture) refused(hostID uuid.UUID, code apperr.Code, reason string) *apperr.Error {
	f.t.Helper()
	conn, err := f.env.App.SSH.Connect(f.ctx, hostID)
	if err == nil {
		_ = conn.Close()
	}
	require.Error(f.t, err, "the connection must fail closed")
	require.True(f.t, apperr.Is(err, code), "want %s, got %v", code, err)
	ae := apperr.As(err)
	require.Equal(f.t, reason, ae.Detail["reason"], "%v", err)
	return ae
}

// recordingCA passes signing requests on to the real CA and records them.
type recordingCA struct {
	ca *sshca.Service
	mu sync.Mutex
	// requests: principal, validity, source address, the certificate signed.
	principals []string
	validities []time.Duration
	sources    []string
	certs      [][]*ssh.Certificate // per request, one per trusted user CA key
}

func (r *recordingCA) SignUserCerts(ctx context.Context, pub ssh.PublicKey, principal string, validity time.Duration, source string) ([]*ssh.Certificate, error) {
	certs, err := r.ca.SignUserCerts(ctx, pub, principal, validity, source)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.principals, r.validities, r.sources = append(r.principals, principal), append(r.validities, validity), append(r.sources, source)
	r.certs = append(r.certs, certs)
	return certs, err
}

// TestCertificateLogin: a certificate credential logs in with a user certificate minted
// per connection (sshd logs certificate authentication), restricted to the connection's
// source address, short-lived, without extensions; privileged batches work through sudo.
func TestCertificateLogin(t *testing.T) {
	t.Parallel()
	f := newCAFixture(t)
	id := f.host("certlogin.example.com", "")
	f.certCredential(id, "owtest-sudo")

	conn := f.connect(id)
	require.Equal(t, "owtest-sudo", whoami(t, conn, false))
	require.Equal(t, "root", whoami(t, conn, true))
	log := f.srv.Log()
	require.Regexp(t, `Accepted publickey for owtest-sudo from 127\.0\.0\.1 port \d+ ssh2: ED25519-CERT SHA256:\S+ ID openwatch-user-owtest-sudo-\d+ \(serial \d+\) CA ED25519`, log)

	// What was minted: through a connector with a recording CA.
	rec := &recordingCA{ca: f.env.App.SSHCA}
	c := hostssh.NewConnector(f.env.App.Pool, credentialsOf(f.env), f.env.App.Audit, hostssh.Options{CA: rec})
	for range 2 {
		cn, err := c.Connect(f.ctx, id)
		require.NoError(t, err)
		require.Equal(t, "owtest-sudo", whoami(t, cn, false))
		require.NoError(t, cn.Close())
	}
	require.Equal(t, []string{"owtest-sudo", "owtest-sudo"}, rec.principals)
	require.Equal(t, []time.Duration{hostssh.UserCertValidity, hostssh.UserCertValidity}, rec.validities)
	require.Equal(t, []string{"127.0.0.1", "127.0.0.1"}, rec.sources)
	require.Len(t, rec.certs[0], 1, "one user CA key is trusted")
	require.Len(t, rec.certs[1], 1)
	require.NotEqual(t, rec.certs[0][0].Serial, rec.certs[1][0].Serial)
	require.False(t, sameKey(rec.certs[0][0].Key, rec.certs[1][0].Key), "a fresh key per connection")
	for _, certs := range rec.certs {
		cert := certs[0]
		require.Equal(t, uint32(ssh.UserCert), cert.CertType)
		require.Equal(t, []string{"owtest-sudo"}, cert.ValidPrincipals)
		require.Empty(t, cert.Extensions, "no pty, forwarding, agent or X11")
		require.Equal(t, map[string]string{"source-address": "127.0.0.1"}, cert.CriticalOptions)
		require.LessOrEqual(t, cert.ValidBefore-cert.ValidAfter, uint64((hostssh.UserCertValidity + 2*time.Minute).Seconds()))
	}

	// A login name the user CA does not trust is refused by sshd as an authentication failure.
	other := f.host("certlogin-root.example.com", "owtest-nosuchuser")
	f.certCredential(other, "owtest-sudo")
	_, err := f.env.App.SSH.Connect(f.ctx, other)
	require.True(t, apperr.Is(err, apperr.CodeHostUnreachable), "%v", err)
	require.Equal(t, sshx.TypeAuthFailed, apperr.As(err).Detail["error_type"])
}

// TestCertificateLoginAcrossUserCARotation: right after the user CA rotates, a host that
// still trusts only the previous key (its files not delivered yet) logs in: each
// connection offers a certificate of every trusted user CA key, the active key's first.
func TestCertificateLoginAcrossUserCARotation(t *testing.T) {
	t.Parallel()
	f := newCAFixture(t)
	id := f.host("rotation.example.com", "")
	f.certCredential(id, "owtest-sudo")
	before, err := f.env.App.SSHCA.Get(f.ctx, sshca.KindUser)
	require.NoError(t, err)
	res := f.do(http.MethodPost, "ssh-ca/user:rotate", map[string]any{"overlap_hours": 24})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	after, err := f.env.App.SSHCA.Get(f.ctx, sshca.KindUser)
	require.NoError(t, err)
	require.Len(t, after.Keys, 2)

	rec := &recordingCA{ca: f.env.App.SSHCA}
	c := hostssh.NewConnector(f.env.App.Pool, credentialsOf(f.env), f.env.App.Audit, hostssh.Options{CA: rec})
	cn, err := c.Connect(f.ctx, id)
	require.NoError(t, err, "the host trusting only the previous key logs in\n%s", f.srv.Log())
	require.Equal(t, "owtest-sudo", whoami(t, cn, false))
	require.NoError(t, cn.Close())
	require.Len(t, rec.certs, 1)
	require.Len(t, rec.certs[0], 2, "a certificate per trusted user CA key")
	require.True(t, sameKey(after.Keys[0].PublicKey, rec.certs[0][0].SignatureKey), "the active key's first")
	require.True(t, sameKey(before.Keys[0].PublicKey, rec.certs[0][1].SignatureKey), "then the key in its overlap")
	require.True(t, sameKey(rec.certs[0][0].Key, rec.certs[0][1].Key), "one fresh key for both")
	require.Contains(t, f.srv.Log(), "CA ED25519 "+before.Keys[0].Fingerprint, "sshd accepted the previous key's certificate")

}

// TestCertificateCredentialTakesNoSecrets: a certificate credential with a password or a
// private key is a 400; switching a key credential to certificate drops its secrets.
func TestCertificateCredentialTakesNoSecrets(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.host("certcred.example.com", "")
	u := f.srv.User(sshtest.UserSudo)
	for field, value := range map[string]string{"password": "secret", "private_key": string(u.PrivateKey)} {
		res := f.do(http.MethodPost, "credentials", map[string]any{"scope": "host", "scope_id": id, "name": "c-" + field,
			"username": "scan", "auth_method": "certificate", field: value})
		require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
		require.Contains(t, string(res.Body), "Auth method certificate takes no "+field)
	}
	res := f.do(http.MethodPost, "credentials", map[string]any{"scope": "host", "scope_id": id, "name": "k",
		"username": "scan", "auth_method": "ssh_key", "private_key": string(u.PrivateKey)})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var c api.CredentialResponse
	res.Decode(t, &c)
	res = f.do(http.MethodPatch, "credentials/"+c.Id.String(), map[string]any{"auth_method": "certificate"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &c)
	require.Equal(t, api.CredentialResponseAuthMethod("certificate"), c.AuthMethod)
	var sealed int
	require.NoError(t, f.env.App.Pool.QueryRow(f.ctx, `SELECT count(*) FROM ssh_credentials WHERE id = $1
		AND (private_key_sealed IS NOT NULL OR password_sealed IS NOT NULL OR passphrase_sealed IS NOT NULL)`, c.Id).Scan(&sealed))
	require.Zero(t, sealed)
}

// TestHostCAVerification walks a host from trust on first use to verification against
// the host CA: its certificate is accepted; once revoked the next connection fails closed
// (host.certificate_revoked); a plain key, another CA's certificate, an expired one and
// one for another key are refused, never falling back to trust on first use.
func TestHostCAVerification(t *testing.T) {
	t.Parallel()
	f := newCAFixture(t)
	id := f.host("ca-verified.example.com", "")
	f.certCredential(id, "owtest-sudo")
	require.Equal(t, "owtest-sudo", whoami(t, f.connect(id), false), "trust on first use pins the key")
	pinned := sshx.Fingerprint(f.srv.HostKey)

	cert := f.issue(id)
	require.Equal(t, pinned, cert.FingerprintSha256)
	f.srv.SetHostCertificate(cert.Certificate)
	f.srv.Restart()
	require.Equal(t, "root", whoami(t, f.connect(id), true), "the host certificate is accepted")
	require.Contains(t, f.srv.Log(), "ED25519-CERT")

	// A plain key from a CA-verified host: refused, and nothing is trusted on first use.
	f.srv.SetHostCertificate("")
	f.srv.Restart()
	ae := f.refused(id, apperr.CodeHostCertInvalid, hostssh.ReasonNoCertificate)
	require.Contains(t, ae.Message, "plain host key")
	keys := f.keys(id)
	require.Len(t, keys.Keys, 1)
	require.Equal(t, pinned, keys.Keys[0].FingerprintSha256)

	// Another CA's certificate for the pinned key.
	_, otherPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	otherCA, err := ssh.NewSignerFromKey(otherPriv)
	require.NoError(t, err)
	forged := &ssh.Certificate{Key: f.srv.HostKey, Serial: uint64(cert.Serial), CertType: ssh.HostCert, KeyId: "forged",
		ValidPrincipals: []string{"ca-verified.example.com", "127.0.0.1"},
		ValidAfter:      uint64(time.Now().Add(-time.Hour).Unix()), ValidBefore: uint64(time.Now().Add(time.Hour).Unix())}
	require.NoError(t, forged.SignCert(rand.Reader, otherCA))
	f.srv.SetHostCertificate(string(ssh.MarshalAuthorizedKey(forged)))
	f.srv.Restart()
	f.refused(id, apperr.CodeHostCertInvalid, hostssh.ReasonUntrustedCA)

	// An expired certificate of our own host CA (signed by a CA whose clock is in the past).
	aw, keyring, err := app.OpenAuditTrail(f.ctx, f.env.App.Config, f.env.App.Pool, nil)
	require.NoError(t, err)
	past := sshca.NewService(f.env.App.Pool, keyring, aw, func() time.Time { return time.Now().Add(-48 * time.Hour) })
	expired, err := past.SignHostCert(f.ctx, id, f.srv.HostKey, []string{"ca-verified.example.com"}, 24*time.Hour)
	require.NoError(t, err)
	f.srv.SetHostCertificate(expired.Certificate)
	f.srv.Restart()
	f.refused(id, apperr.CodeHostCertInvalid, hostssh.ReasonExpired)

	// A certificate of our CA naming another host.
	wrongName, err := f.env.App.SSHCA.SignHostCert(f.ctx, id, f.srv.HostKey, []string{"elsewhere.example.com"}, time.Hour)
	require.NoError(t, err)
	f.srv.SetHostCertificate(wrongName.Certificate)
	f.srv.Restart()
	f.refused(id, apperr.CodeHostCertInvalid, hostssh.ReasonWrongPrincipal)

	// A valid certificate of our CA for a key other than the pinned one.
	f.srv.RotateHostKey()
	rotated, err := f.env.App.SSHCA.SignHostCert(f.ctx, id, f.srv.HostKey, []string{"ca-verified.example.com"}, time.Hour)
	require.NoError(t, err)
	f.srv.SetHostCertificate(rotated.Certificate)
	f.srv.Restart()
	ae = f.refused(id, apperr.CodeHostCertInvalid, hostssh.ReasonKeyMismatch)
	require.Contains(t, ae.Message, pinned)
	require.Equal(t, pinned, f.keys(id).Keys[0].FingerprintSha256, "the pinned key is unchanged")
}

// TestRevokedHostCertificateFailsClosed: revoking the host's certificate through the API
// makes the next connection fail closed with a clear error (issue 15, done when 2).
func TestRevokedHostCertificateFailsClosed(t *testing.T) {
	t.Parallel()
	f := newCAFixture(t)
	id := f.host("revoked.example.com", "")
	f.certCredential(id, "owtest-sudo")
	f.connect(id)
	cert := f.issue(id)
	f.srv.SetHostCertificate(cert.Certificate)
	f.srv.Restart()
	live := f.connect(id)
	require.Equal(t, "owtest-sudo", whoami(t, live, false))

	res := f.do(http.MethodPost, "certificates/"+cert.Id.String()+":revoke", map[string]any{"reason": "key compromised"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	ae := f.refused(id, apperr.CodeHostCertRevoked, hostssh.ReasonRevoked)
	require.Contains(t, ae.Message, "revoked")
	require.Equal(t, cert.Id.String(), ae.Detail["certificate_id"])
	require.Equal(t, http.StatusBadGateway, apperr.Registry[ae.Code].Status)

	// Resetting the host's keys does not reopen trust on first use.
	res = f.do(http.MethodPost, "hosts/"+id.String()+"/host-keys:reset", nil)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	f.refused(id, apperr.CodeHostCertRevoked, hostssh.ReasonRevoked)
	require.True(t, strings.Contains(f.srv.Log(), "ED25519-CERT"))
}

func sameKey(a, b ssh.PublicKey) bool { return string(a.Marshal()) == string(b.Marshal()) }
