package main

import (
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
)

// TestAPICommand: `openwatch api` signs requests with a token's signing key (and sends
// bearer tokens) to a real HTTPS server, trusting it through --cacert, and its exit code
// and messages tell a script what happened.
func TestAPICommand(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	var sa api.ServiceAccount
	env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts", Token: admin.AccessToken,
		JSON: map[string]string{"name": "cli", "role": "admin"}}).Decode(t, &sa)
	var tok api.APITokenCreated
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts/" + sa.Id.String() + "/tokens", Token: admin.AccessToken,
		JSON: map[string]any{"name": "cli", "signing_key": true}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.Decode(t, &tok)

	srv := httptest.NewTLSServer(env.App.Handler())
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
	vars := map[string]string{
		"OPENWATCH_URL": srv.URL, "OPENWATCH_CACERT": caFile,
		"OPENWATCH_TOKEN_ID": tok.TokenMeta.Id.String(), "OPENWATCH_SIGNING_KEY": base64.StdEncoding.EncodeToString(*tok.SigningKey),
	}

	// A signed GET and a signed POST with a body (its digest is signed too).
	r := runWith(t, nil, "", vars, "api", "GET", "auth/me")
	require.Equal(t, 0, r.code, "%s", r.stderr)
	require.Contains(t, r.stdout, `"username":"cli"`)
	bodyFile := filepath.Join(dir, "body.json")
	require.NoError(t, os.WriteFile(bodyFile, []byte(`{"name":"made-by-cli","role":"viewer"}`), 0o600))
	r = runWith(t, nil, "", vars, "api", "--data", "@"+bodyFile, "post", "/api/v1/service-accounts")
	require.Equal(t, 0, r.code, "%s", r.stderr)
	require.Contains(t, r.stdout, `"name":"made-by-cli"`)
	r = runWith(t, nil, `{"name":"made-from-stdin","role":"viewer"}`, vars, "api", "--data", "-", "POST", "service-accounts")
	require.Equal(t, 0, r.code, "%s", r.stderr)

	// Refusals exit 1 with the server's message and reason; the body is still printed.
	wrong := map[string]string{}
	for k, v := range vars {
		wrong[k] = v
	}
	wrong["OPENWATCH_SIGNING_KEY"] = base64.StdEncoding.EncodeToString(make([]byte, 32))
	r = runWith(t, nil, "", wrong, "api", "GET", "auth/me")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "HTTP 401")
	require.Contains(t, r.stderr, "bad_signature")
	require.Contains(t, r.stdout, `"code":`)
	r = runWith(t, nil, "", vars, "api", "GET", "hosts/not-a-uuid")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "HTTP 400")

	// A bearer token works too; giving both ways is refused before anything is sent.
	bearer := map[string]string{"OPENWATCH_URL": srv.URL, "OPENWATCH_CACERT": caFile, "OPENWATCH_TOKEN": admin.AccessToken}
	r = runWith(t, nil, "", bearer, "api", "GET", "auth/me")
	require.Equal(t, 0, r.code, "%s", r.stderr)
	require.Contains(t, r.stdout, `"username":"admin"`)
	r = runWith(t, nil, "", vars, "api", "--token", admin.AccessToken, "GET", "auth/me")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "not both")
	r = runWith(t, nil, "", map[string]string{"OPENWATCH_URL": srv.URL, "OPENWATCH_CACERT": caFile, "OPENWATCH_TOKEN_ID": "x"}, "api", "GET", "auth/me")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "--signing-key")

	// Without the CA the server is not trusted; bad usage exits 2.
	r = runWith(t, nil, "", map[string]string{"OPENWATCH_URL": srv.URL, "OPENWATCH_TOKEN": admin.AccessToken}, "api", "GET", "auth/me")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "certificate")
	r = runWith(t, nil, "", vars, "api", "GET")
	require.Equal(t, 2, r.code)
	r = runWith(t, nil, "", map[string]string{"OPENWATCH_URL": "ftp://x"}, "api", "GET", "auth/me")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "not an http(s) URL")
}
