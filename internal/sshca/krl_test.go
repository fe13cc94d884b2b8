package sshca_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/sshca"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// userCertSigner mints a key and a user certificate for principal from the active user
// CA of svc.
func userCertSigner(t *testing.T, svc *sshca.Service, principal string) (ssh.Signer, *ssh.Certificate) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	key, err := ssh.NewSignerFromKey(priv)
	require.NoError(t, err)
	cert, err := svc.SignUserCert(context.Background(), key.PublicKey(), principal, 10*time.Minute, "")
	require.NoError(t, err)
	signer, err := ssh.NewCertSigner(cert, key)
	require.NoError(t, err)
	return signer, cert
}

// certLogin logs in to srv as the certificate's principal with signer alone.
func certLogin(srv *sshtest.Server, user string, signer ssh.Signer) error {
	c, err := ssh.Dial("tcp", srv.Addr, &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(srv.HostKey), Timeout: 10 * time.Second})
	if err == nil {
		_ = c.Close()
	}
	return err
}

// TestKRLRevokesRetiredUserCAKeys: once a rotated-out user CA key's overlap has ended,
// the KRL revokes the key itself (explicit-key section), keeping the revoked host
// certificate serials; a real sshd whose TrustedUserCAKeys still lists the old key but
// whose RevokedKeys is the served KRL refuses a certificate the old key signed and
// accepts one of the active key; ssh-keygen -Q reads the KRL.
func TestKRLRevokesRetiredUserCAKeys(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	ctx := context.Background()
	const principal = "owtest-sudo"
	oldSigner, oldCert := userCertSigner(t, env.App.SSHCA, principal)
	before, err := env.App.SSHCA.Get(ctx, sshca.KindUser)
	require.NoError(t, err)
	oldKey := before.Keys[0].PublicKey

	// A revoked host certificate: its serial stays in the KRL.
	res := call(env, admin, http.MethodPost, "hosts", map[string]any{"hostname": "krl.example.com", "ip_address": "192.0.2.44"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(t, &h)
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	hostKey, err := ssh.NewSignerFromKey(hostPriv)
	require.NoError(t, err)
	hostCert, err := env.App.SSHCA.SignHostCert(ctx, h.Id, hostKey.PublicKey(), []string{"krl.example.com"}, 24*time.Hour)
	require.NoError(t, err)
	res = call(env, admin, http.MethodPost, "certificates/"+hostCert.ID.String()+":revoke", map[string]any{})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)

	res = call(env, admin, http.MethodPost, "ssh-ca/user:rotate", map[string]any{"overlap_hours": 1})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	newSigner, _ := userCertSigner(t, env.App.SSHCA, principal)
	both, err := env.App.SSHCA.Get(ctx, sshca.KindUser)
	require.NoError(t, err)
	require.Len(t, both.Keys, 2)

	// During the overlap the old key is not revoked.
	krl, err := env.App.SSHCA.KRL(ctx)
	require.NoError(t, err)
	serials, keys, err := sshca.ParseKRL(krl)
	require.NoError(t, err)
	require.Equal(t, []uint64{uint64(hostCert.Serial)}, serials)
	require.Empty(t, keys)

	// After it, the old key is.
	later := env.App.SSHCA.WithClock(func() time.Time { return time.Now().Add(2 * time.Hour) })
	krl, err = later.KRL(ctx)
	require.NoError(t, err)
	serials, keys, err = sshca.ParseKRL(krl)
	require.NoError(t, err)
	require.Equal(t, []uint64{uint64(hostCert.Serial)}, serials, "the host certificate serials stay")
	require.Equal(t, [][]byte{oldKey.Marshal()}, keys)

	// ssh-keygen reads it: the old key's certificate and the old key are revoked, the
	// active key's certificate is not.
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		return p
	}
	krlFile := write("krl", krl)
	out, err := exec.Command("ssh-keygen", "-Q", "-f", krlFile, write("old-cert.pub", ssh.MarshalAuthorizedKey(oldCert))).CombinedOutput()
	require.Error(t, err, "%s", out)
	require.Contains(t, string(out), "REVOKED")
	out, err = exec.Command("ssh-keygen", "-Q", "-f", krlFile, write("old-ca.pub", ssh.MarshalAuthorizedKey(oldKey))).CombinedOutput()
	require.Error(t, err, "%s", out)
	require.Contains(t, string(out), "REVOKED")
	out, err = exec.Command("ssh-keygen", "-Q", "-f", krlFile, write("new-cert.pub", ssh.MarshalAuthorizedKey(newSigner.PublicKey()))).CombinedOutput()
	require.NoError(t, err, "%s", out)
	out, err = exec.Command("ssh-keygen", "-Q", "-f", krlFile, write("host-cert.pub", []byte(hostCert.Certificate+"\n"))).CombinedOutput()
	require.Error(t, err, "%s", out)
	require.Contains(t, string(out), "REVOKED")

	// A real sshd still trusting both keys, with the KRL as RevokedKeys.
	srv := sshtest.Start(t, sshtest.Options{TrustedUserCAKeys: both.ReadyLines(), RevokedKeys: krl})
	require.NoError(t, certLogin(srv, principal, newSigner), "the active key's certificate is accepted")
	err = certLogin(srv, principal, oldSigner)
	require.Error(t, err, "the retired key's certificate is refused")
	require.Contains(t, err.Error(), "unable to authenticate")
	require.Contains(t, srv.Log(), "revoked")
}
