package serviceaccount_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/gen/client"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/httpsig"
)

// signed signs a request for the apitest server (host example.com) and returns it as an
// apitest.Request, with body sent as is.
func signed(t *testing.T, s *httpsig.Signer, method, path string, body []byte) apitest.Request {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	hr, err := http.NewRequest(method, "http://example.com/api/v1/"+path, r)
	require.NoError(t, err)
	require.NoError(t, s.Sign(hr))
	h := map[string]string{}
	for k := range hr.Header {
		h[k] = hr.Header.Get(k)
	}
	return apitest.Request{Method: method, Path: path, Body: body, Headers: h}
}

// handSigned signs with chosen components and parameters.
func handSigned(t *testing.T, key []byte, method, path string, body []byte, in httpsig.Input, extra map[string]string) apitest.Request {
	t.Helper()
	hr, err := http.NewRequest(method, "http://example.com/api/v1/"+path, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range extra {
		hr.Header.Set(k, v)
	}
	base, err := httpsig.Base(hr, hr.URL.String(), in)
	require.NoError(t, err)
	h := map[string]string{}
	for k := range hr.Header {
		h[k] = hr.Header.Get(k)
	}
	h["Signature-Input"] = "ow=" + in.String()
	h["Signature"] = "ow=:" + base64.StdEncoding.EncodeToString(httpsig.Sum(key, base)) + ":"
	return apitest.Request{Method: method, Path: path, Body: body, Headers: h}
}

func params(keyID string, created time.Time, nonce string) []httpsig.Param {
	return []httpsig.Param{{Name: "created", Int: created.Unix(), IsInt: true}, {Name: "keyid", Str: keyID}, {Name: "nonce", Str: nonce}}
}

func refused(t *testing.T, res *apitest.Response, reason string) {
	t.Helper()
	require.Equal(t, http.StatusUnauthorized, res.Status, "%s", res.Body)
	require.Equal(t, reason, res.Err(t).Error.Detail["reason"], "%s", res.Body)
}

func TestSignedRequests(t *testing.T) {
	t.Parallel()
	now := time.Now()
	env := apitest.New(t, func(d *app.Deps) { d.NowFunc = func() time.Time { return now } })
	admin := env.Admin()

	var sa api.ServiceAccount
	env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts", Token: admin.AccessToken,
		JSON: map[string]string{"name": "signer", "role": "admin"}}).Decode(t, &sa)
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts/" + sa.Id.String() + "/tokens", Token: admin.AccessToken,
		JSON: map[string]any{"name": "signed", "signing_key": true}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var tok api.APITokenCreated
	res.Decode(t, &tok)
	require.NotNil(t, tok.SigningKey, "the key is shown once at minting")
	require.Len(t, *tok.SigningKey, 32)
	require.True(t, tok.TokenMeta.HasSigningKey)
	key := *tok.SigningKey
	keyID := tok.TokenMeta.Id.String()
	sign := &httpsig.Signer{KeyID: keyID, Key: key, Now: func() time.Time { return now }}

	// Sealed at rest: the column holds a sealed value, not the key, and listings never show it.
	var stored []byte
	require.NoError(t, env.App.Pool.QueryRow(context.Background(), `SELECT signing_key_sealed FROM api_tokens WHERE id = $1`, tok.TokenMeta.Id).Scan(&stored))
	require.True(t, bytes.HasPrefix(stored, []byte("ow1:")))
	require.False(t, bytes.Contains(stored, key), "the database holds the signing key in clear")
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "service-accounts/" + sa.Id.String() + "/tokens", Token: admin.AccessToken})
	require.NotContains(t, string(res.Body), base64.StdEncoding.EncodeToString(key))
	require.Contains(t, string(res.Body), `"has_signing_key":true`)

	// A signed GET and POST authenticate as the token, without any bearer secret.
	get := signed(t, sign, http.MethodGet, "auth/me", nil)
	res = env.Do(get)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var me api.AuthMeResponse
	res.Decode(t, &me)
	require.Equal(t, "signer", me.Username)
	refused(t, env.Do(get), "replayed")

	body, _ := json.Marshal(map[string]string{"name": "made-by-signature", "role": "viewer"})
	post := signed(t, sign, http.MethodPost, "service-accounts", body)
	tampered := post
	tampered.Body = []byte(`{"name":"made-by-someone-else","role":"admin"}`)
	refused(t, env.Do(tampered), "digest_mismatch")
	res = env.Do(post)
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	refused(t, env.Do(post), "replayed")

	// The clock-skew window, both ways.
	stale := &httpsig.Signer{KeyID: keyID, Key: key, Now: func() time.Time { return now.Add(-6 * time.Minute) }}
	refused(t, env.Do(signed(t, stale, http.MethodGet, "auth/me", nil)), "stale")
	future := &httpsig.Signer{KeyID: keyID, Key: key, Now: func() time.Time { return now.Add(6 * time.Minute) }}
	refused(t, env.Do(signed(t, future, http.MethodGet, "auth/me", nil)), "stale")
	near := &httpsig.Signer{KeyID: keyID, Key: key, Now: func() time.Time { return now.Add(-4 * time.Minute) }}
	require.Equal(t, http.StatusOK, env.Do(signed(t, near, http.MethodGet, "auth/me", nil)).Status)

	// Unknown keys, bad signatures.
	refused(t, env.Do(signed(t, &httpsig.Signer{KeyID: uuid.NewString(), Key: key, Now: sign.Now}, http.MethodGet, "auth/me", nil)), "unknown_key")
	wrong := bytes.Repeat([]byte{7}, 32)
	refused(t, env.Do(signed(t, &httpsig.Signer{KeyID: keyID, Key: wrong, Now: sign.Now}, http.MethodGet, "auth/me", nil)), "bad_signature")
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts/" + sa.Id.String() + "/tokens", Token: admin.AccessToken,
		JSON: map[string]any{"name": "plain"}})
	var plain api.APITokenCreated
	res.Decode(t, &plain)
	require.Nil(t, plain.SigningKey)
	require.False(t, plain.TokenMeta.HasSigningKey)
	refused(t, env.Do(signed(t, &httpsig.Signer{KeyID: plain.TokenMeta.Id.String(), Key: key, Now: sign.Now}, http.MethodGet, "auth/me", nil)), "unknown_key")

	// Covered components: the target, the digest of a body, and every covered header.
	res = env.Do(handSigned(t, key, http.MethodGet, "users", nil, httpsig.Input{Components: []string{"@method"}, Params: params(keyID, now, "n1")}, nil))
	refused(t, res, "missing_component")
	require.Contains(t, res.Err(t).Error.HumanMessage, "@target-uri")
	refused(t, env.Do(handSigned(t, key, http.MethodGet, "users?limit=5", nil,
		httpsig.Input{Components: []string{"@method", "@path"}, Params: params(keyID, now, "n2")}, nil)), "missing_component")
	refused(t, env.Do(handSigned(t, key, http.MethodPost, "service-accounts", body,
		httpsig.Input{Components: []string{"@method", "@target-uri"}, Params: params(keyID, now, "n3")}, nil)), "missing_component")
	hs := handSigned(t, key, http.MethodGet, "users", nil,
		httpsig.Input{Components: []string{"@method", "@target-uri", "x-trace"}, Params: params(keyID, now, "n4")}, map[string]string{"X-Trace": "1"})
	delete(hs.Headers, "X-Trace")
	refused(t, env.Do(hs), "missing_component")
	res = env.Do(handSigned(t, key, http.MethodGet, "users?limit=5", nil,
		httpsig.Input{Components: []string{"@method", "@path", "@query"}, Params: params(keyID, now, "n5")}, nil))
	require.Equal(t, http.StatusOK, res.Status, "@path and @query sign the target too: %s", res.Body)
	res = env.Do(handSigned(t, key, http.MethodGet, "users", nil,
		httpsig.Input{Components: []string{"@method", "@target-uri"}, Params: params(keyID, now, "")}, nil))
	refused(t, res, "malformed")

	// A new key replaces the old one at once, and is shown once; a revoked token's key stops working.
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts/" + sa.Id.String() + "/tokens/" + keyID + ":signing-key", Token: admin.AccessToken})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var rotated api.APITokenSigningKey
	res.Decode(t, &rotated)
	require.NotEqual(t, key, rotated.SigningKey)
	require.NotNil(t, rotated.TokenMeta.SigningKeyCreatedAt)
	refused(t, env.Do(signed(t, sign, http.MethodGet, "auth/me", nil)), "bad_signature")
	sign.Key = rotated.SigningKey
	require.Equal(t, http.StatusOK, env.Do(signed(t, sign, http.MethodGet, "auth/me", nil)).Status)
	require.Equal(t, http.StatusNotFound, env.Do(apitest.Request{Method: http.MethodPost,
		Path: "service-accounts/" + sa.Id.String() + "/tokens/" + uuid.NewString() + ":signing-key", Token: admin.AccessToken}).Status)
	require.Equal(t, http.StatusNoContent, env.Do(apitest.Request{Method: http.MethodDelete, Path: "service-accounts/" + sa.Id.String() + "/tokens/" + keyID, Token: admin.AccessToken}).Status)
	res = env.Do(signed(t, sign, http.MethodGet, "auth/me", nil))
	refused(t, res, "unknown_key")
	require.Contains(t, res.Err(t).Error.HumanMessage, "revoked")
	require.Equal(t, http.StatusNotFound, env.Do(apitest.Request{Method: http.MethodPost,
		Path: "service-accounts/" + sa.Id.String() + "/tokens/" + keyID + ":signing-key", Token: admin.AccessToken}).Status, "a revoked token gets no key")

	// A signed request carries the token's role: a viewer token is refused a write with 403.
	var ro api.APITokenCreated
	env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts/" + sa.Id.String() + "/tokens", Token: admin.AccessToken,
		JSON: map[string]any{"name": "ro", "role": "viewer", "signing_key": true}}).Decode(t, &ro)
	roSign := &httpsig.Signer{KeyID: ro.TokenMeta.Id.String(), Key: *ro.SigningKey, Now: sign.Now}
	res = env.Do(signed(t, roSign, http.MethodPost, "service-accounts", body))
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	res = env.Do(signed(t, roSign, http.MethodPost, "service-accounts/"+sa.Id.String()+"/tokens/"+ro.TokenMeta.Id.String()+":signing-key", nil))
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	require.Equal(t, "service_account:write", res.Err(t).Error.Detail["required_permission"])

	// The periodic sweep drops expired nonces of every token and keeps the live ones.
	var live int
	require.NoError(t, env.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM signed_request_nonces`).Scan(&live))
	require.Positive(t, live)
	_, err := env.App.Pool.Exec(context.Background(), `INSERT INTO signed_request_nonces (token_id, nonce, expires_at) VALUES ($1, 'old-1', $2), ($1, 'old-2', $2)`,
		ro.TokenMeta.Id, now.Add(-time.Hour))
	require.NoError(t, err)
	swept, err := env.App.Auth.SweepNonces(context.Background())
	require.NoError(t, err)
	require.EqualValues(t, 2, swept)
	var left int
	require.NoError(t, env.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM signed_request_nonces`).Scan(&left))
	require.Equal(t, live, left)

	// Both a signature and an Authorization header: refused rather than guessed.
	both := signed(t, sign, http.MethodGet, "auth/me", nil)
	both.Token = admin.AccessToken
	refused(t, env.Do(both), "ambiguous")
}

// TestSignedGoClient: the generated client signs through httpsig.Signer, over real HTTP.
func TestSignedGoClient(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	var sa api.ServiceAccount
	env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts", Token: admin.AccessToken,
		JSON: map[string]string{"name": "go-client", "role": "admin"}}).Decode(t, &sa)
	var tok api.APITokenCreated
	env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts/" + sa.Id.String() + "/tokens", Token: admin.AccessToken,
		JSON: map[string]any{"name": "go", "signing_key": true}}).Decode(t, &tok)

	srv := httptest.NewServer(env.App.Handler())
	t.Cleanup(srv.Close)
	signer, err := httpsig.NewSigner(tok.TokenMeta.Id.String(), base64.StdEncoding.EncodeToString(*tok.SigningKey))
	require.NoError(t, err)
	c, err := client.NewClientWithResponses(srv.URL+"/api/v1", client.WithRequestEditorFn(signer.RequestEditor))
	require.NoError(t, err)
	ctx := context.Background()
	me, err := c.GetMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, me.StatusCode(), "%s", me.Body)
	require.Equal(t, "go-client", me.JSON200.Username)
	made, err := c.CreateServiceAccountWithResponse(ctx, nil, client.CreateServiceAccountJSONRequestBody{Name: "made-by-go", Role: "viewer"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, made.StatusCode(), "%s", made.Body)
	require.Equal(t, "made-by-go", made.JSON201.Name)
}
