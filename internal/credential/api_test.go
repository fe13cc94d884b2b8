package credential_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
)

// pgDump finds pg_dump on PATH or in the Debian layout.
func pgDump(t *testing.T) string {
	if p, err := exec.LookPath("pg_dump"); err == nil {
		return p
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump")
	require.NotEmpty(t, matches, "pg_dump not found: install postgresql-client (scripts/install-postgres.sh)")
	return matches[len(matches)-1]
}

// TestSecretsNeverLeave creates credentials whose secrets carry a marker, exercises every
// credential endpoint, then searches every response, the server log and a pg_dump of the
// database for the marker: there must be no hit.
func TestSecretsNeverLeave(t *testing.T) {
	t.Parallel()
	const marker = "SECRETMARKER7f3a"
	env := apitest.New(t)
	admin := env.Admin()
	var bodies []string
	do := func(method, path string, body any) *apitest.Response {
		res := env.Do(apitest.Request{Method: method, Path: path, Token: admin.AccessToken, JSON: body})
		bodies = append(bodies, string(res.Body))
		return res
	}

	_, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "ops@"+marker, []byte("pass-"+marker))
	require.NoError(t, err)
	keyPEM := string(pem.EncodeToMemory(block))
	var h api.HostResponse
	do(http.MethodPost, "hosts", map[string]any{"hostname": "vault.example.com", "ip_address": "10.3.0.1"}).Decode(t, &h)

	res := do(http.MethodPost, "credentials", map[string]any{"scope": "system", "name": "fleet", "username": "ops",
		"auth_method": "both", "password": "pw-" + marker, "private_key": keyPEM, "private_key_passphrase": "pass-" + marker, "is_default": true})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var sys api.CredentialResponse
	res.Decode(t, &sys)
	require.Equal(t, "ed25519", *sys.SshKeyType)
	require.True(t, strings.HasPrefix(*sys.SshKeyFingerprint, "SHA256:"))

	res = do(http.MethodPost, "credentials", map[string]any{"scope": "host", "scope_id": h.Id, "name": "web-only", "username": "root",
		"auth_method": "password", "password": "hostpw-" + marker})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var hostCred api.CredentialResponse
	res.Decode(t, &hostCred)

	// Bad input is refused without echoing secrets.
	res = do(http.MethodPost, "credentials", map[string]any{"scope": "system", "name": "bad", "username": "ops",
		"auth_method": "ssh_key", "private_key": keyPEM, "private_key_passphrase": "wrong-" + marker})
	require.Equal(t, http.StatusBadRequest, res.Status)
	res = do(http.MethodPost, "credentials", map[string]any{"scope": "system", "name": "bad", "username": "ops",
		"auth_method": "ssh_key", "private_key": "-----BEGIN OPENSSH PRIVATE KEY-----\n" + marker + "\n-----END OPENSSH PRIVATE KEY-----\n"})
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Equal(t, "private_key", res.Err(t).Error.Detail["field"])

	res = do(http.MethodPost, "hosts/"+h.Id.String()+"/credentials:resolve", nil)
	require.Equal(t, http.StatusOK, res.Status)
	var r api.CredentialResponse
	res.Decode(t, &r)
	require.Equal(t, hostCred.Id, r.Id, "a host-scoped credential beats the system default")
	require.Equal(t, api.CredentialResponseResolutionSource("host"), *r.ResolutionSource)

	do(http.MethodGet, "credentials", nil)
	do(http.MethodGet, "credentials/"+sys.Id.String(), nil)
	require.Equal(t, http.StatusOK, do(http.MethodPatch, "credentials/"+sys.Id.String(), map[string]any{"password": "newpw-" + marker}).Status)
	res = do(http.MethodPost, "credentials/"+sys.Id.String()+":clone", map[string]any{"scope": "host", "scope_id": h.Id, "name": "copy"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	require.Equal(t, http.StatusNoContent, do(http.MethodDelete, "credentials/"+hostCred.Id.String(), nil).Status)
	res = do(http.MethodPost, "hosts/"+h.Id.String()+"/credentials:resolve", nil)
	res.Decode(t, &r)
	require.Equal(t, "copy", r.Name, "the newest live host credential, the clone, wins now")
	do(http.MethodGet, "audit/events?resource_type=credential", nil)

	for _, b := range bodies {
		require.NotContains(t, b, marker, "a response carried a secret")
	}
	require.NotContains(t, env.Logs(), marker, "the server log carried a secret")

	dsn := env.App.Pool.Config().ConnString()
	out, err := exec.CommandContext(context.Background(), pgDump(t), "--data-only", "--no-owner", "-d", dsn).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "ssh_credentials", "the dump covers the vault")
	require.NotContains(t, string(out), marker, "the database holds secrets only sealed")
	require.NotContains(t, string(out), "PRIVATE KEY")
}
