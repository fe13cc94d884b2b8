package license_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/license"
)

// testKeys writes a JWK set with one trusted key and returns the private key.
func testKeys(t *testing.T, dir string) (ed25519.PrivateKey, string) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	set := map[string]any{"keys": []map[string]any{{
		"kty": "OKP", "crv": "Ed25519", "kid": "test-2026", "use": "sig", "alg": "EdDSA",
		"x": base64.RawURLEncoding.EncodeToString(pub),
	}}}
	data, err := json.Marshal(set)
	require.NoError(t, err)
	path := filepath.Join(dir, "trusted.jwks")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return priv, path
}

func TestLicenseEndpoints(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	priv, keysPath := testKeys(t, dir)
	now := time.Now()
	token, err := license.Mint(priv, "test-2026", license.Claims{
		Tier: license.TierPlus, CustomerID: "acme", IssuedAt: now, NotBefore: now.Add(-time.Minute), ExpiresAt: now.Add(365 * 24 * time.Hour),
	})
	require.NoError(t, err)
	licPath := filepath.Join(dir, "license.jwt")
	require.NoError(t, os.WriteFile(licPath, []byte(token), 0o600))

	env := apitest.New(t, func(d *app.Deps) {
		d.Config.License.TrustedKeysFile = keysPath
		d.Config.License.File = licPath
	})
	admin := env.Admin()
	viewer := env.Login("v", env.CreateUser("v", authz.RoleViewer))

	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "license", Token: viewer.AccessToken})
	require.Equal(t, http.StatusOK, res.Status)
	var st api.LicenseStateResponse
	res.Decode(t, &st)
	require.Equal(t, api.LicenseStateResponseTier("openwatch_plus"), st.Tier)
	require.Equal(t, api.LicenseStateResponseStatus("active"), st.Status)
	require.Contains(t, st.Features, "audit_export")

	verify := func(tok string) api.LicenseVerifyResponse {
		res := env.Do(apitest.Request{Method: http.MethodPost, Path: "admin/license:verify", Token: admin.AccessToken, JSON: map[string]string{"license_jwt": tok}})
		require.Equal(t, http.StatusOK, res.Status)
		var v api.LicenseVerifyResponse
		res.Decode(t, &v)
		return v
	}
	v := verify(token)
	require.True(t, v.IsValid)
	require.Equal(t, "valid", v.VerifyResult)
	expired, err := license.Mint(priv, "test-2026", license.Claims{Tier: license.TierEnterprise, CustomerID: "acme",
		IssuedAt: now.Add(-60 * 24 * time.Hour), NotBefore: now.Add(-60 * 24 * time.Hour), ExpiresAt: now.Add(-30 * 24 * time.Hour)})
	require.NoError(t, err)
	v = verify(expired)
	require.False(t, v.IsValid)
	require.Equal(t, "expired", v.VerifyResult)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	forged, err := license.Mint(other, "test-2026", license.Claims{Tier: license.TierEnterprise, CustomerID: "x", IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
	require.NoError(t, err)
	require.Equal(t, "bad_signature", verify(forged).VerifyResult)
	require.Equal(t, "malformed", verify("not-a-jwt").VerifyResult)
	var checks int
	require.NoError(t, env.App.Pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_events WHERE action = 'license.verified'`).Scan(&checks))
	require.Equal(t, 4, checks, "every dry-run check is audited")

	require.Equal(t, http.StatusForbidden, env.Do(apitest.Request{Method: http.MethodPost, Path: "admin/license:verify", Token: viewer.AccessToken,
		JSON: map[string]string{"license_jwt": token}}).Status)

	// Replacing the file and reloading (what SIGHUP does) changes the state.
	require.NoError(t, os.WriteFile(licPath, []byte(expired), 0o600))
	require.NoError(t, env.App.License.Reload())
	env.Do(apitest.Request{Method: http.MethodGet, Path: "license", Token: viewer.AccessToken}).Decode(t, &st)
	require.Equal(t, api.LicenseStateResponseStatus("expired"), st.Status)
	require.Equal(t, api.LicenseStateResponseTier("free"), st.Tier)
}

func TestNoLicenseIsFree(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	var st api.LicenseStateResponse
	env.Do(apitest.Request{Method: http.MethodGet, Path: "license", Token: admin.AccessToken}).Decode(t, &st)
	require.Equal(t, api.LicenseStateResponseTier("free"), st.Tier)
	require.Equal(t, api.LicenseStateResponseStatus("no_license"), st.Status)
	require.Empty(t, st.Features)
}

func TestInstallLicense(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	priv, keysPath := testKeys(t, dir)
	env := apitest.New(t, func(d *app.Deps) { d.Config.License.TrustedKeysFile = keysPath })
	admin := env.Admin()
	viewer := env.Login("v", env.CreateUser("v", authz.RoleViewer))
	now := time.Now()
	mint := func(c license.Claims) string {
		tok, err := license.Mint(priv, "test-2026", c)
		require.NoError(t, err)
		return tok
	}
	install := func(token, tok string) *apitest.Response {
		return env.Do(apitest.Request{Method: http.MethodPut, Path: "admin/license", Token: token, JSON: map[string]string{"license_jwt": tok}})
	}
	state := func() api.LicenseStateResponse {
		var st api.LicenseStateResponse
		env.Do(apitest.Request{Method: http.MethodGet, Path: "license", Token: viewer.AccessToken}).Decode(t, &st)
		return st
	}
	require.Equal(t, api.LicenseStateResponseStatus("no_license"), state().Status)
	require.Empty(t, state().Warnings, "no file installed yet is no license, without a warning")

	// Refused licenses change nothing and say why on the field.
	expired := mint(license.Claims{Tier: license.TierEnterprise, CustomerID: "acme",
		IssuedAt: now.Add(-60 * 24 * time.Hour), ExpiresAt: now.Add(-30 * 24 * time.Hour)})
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	forged, err := license.Mint(other, "test-2026", license.Claims{Tier: license.TierEnterprise, CustomerID: "x", ExpiresAt: now.Add(time.Hour)})
	require.NoError(t, err)
	for tok, result := range map[string]string{expired: "expired", forged: "bad_signature", "not-a-jwt": "malformed"} {
		res := install(admin.AccessToken, tok)
		require.Equal(t, http.StatusBadRequest, res.Status, result)
		e := res.Err(t)
		require.Equal(t, "validation_failed", e.Error.Code)
		require.Equal(t, "license_jwt", e.Error.Detail["field"])
		require.Equal(t, result, e.Error.Detail["verify_result"])
		require.NotEmpty(t, e.Error.HumanMessage)
	}
	require.Equal(t, api.LicenseStateResponseTier("free"), state().Tier)
	installed := filepath.Join(env.App.Config.Server.DataDir, "license.jwt")
	require.NoFileExists(t, installed)

	require.Equal(t, http.StatusForbidden, install(viewer.AccessToken, "x").Status)

	// A license in force is written (private) and in force at once.
	plus := mint(license.Claims{Tier: license.TierPlus, CustomerID: "acme", NotBefore: now.Add(-time.Minute), ExpiresAt: now.Add(365 * 24 * time.Hour)})
	res := install(admin.AccessToken, plus)
	require.Equal(t, http.StatusOK, res.Status, string(res.Body))
	var st api.LicenseStateResponse
	res.Decode(t, &st)
	require.Equal(t, api.LicenseStateResponseTier("openwatch_plus"), st.Tier)
	require.Equal(t, api.LicenseStateResponseStatus("active"), st.Status)
	require.Equal(t, api.LicenseStateResponseTier("openwatch_plus"), state().Tier)
	require.Contains(t, state().Features, "audit_export")
	info, err := os.Stat(installed)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	data, err := os.ReadFile(installed)
	require.NoError(t, err)
	require.Equal(t, plus+"\n", string(data))

	// A second license replaces the first, and a reload (SIGHUP) keeps it.
	ent := mint(license.Claims{Tier: license.TierEnterprise, CustomerID: "acme", NotBefore: now.Add(-time.Minute), ExpiresAt: now.Add(30 * 24 * time.Hour)})
	require.Equal(t, http.StatusOK, install(admin.AccessToken, ent).Status)
	require.NoError(t, env.App.License.Reload())
	require.Equal(t, api.LicenseStateResponseTier("enterprise"), state().Tier)

	var n int
	var detail map[string]any
	require.NoError(t, env.App.Pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_events WHERE action = 'license.installed'`).Scan(&n))
	require.Equal(t, 2, n, "every installation is audited, refusals are not")
	require.NoError(t, env.App.Pool.QueryRow(t.Context(),
		`SELECT detail FROM audit_events WHERE action = 'license.installed' ORDER BY seq DESC LIMIT 1`).Scan(&detail))
	require.Equal(t, "enterprise", detail["tier"])
	require.Equal(t, "openwatch_plus", detail["previous_tier"])
}

func TestInstallLicenseWritesTheConfiguredFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	priv, keysPath := testKeys(t, dir)
	licPath := filepath.Join(dir, "conf", "license.jwt")
	env := apitest.New(t, func(d *app.Deps) {
		d.Config.License.TrustedKeysFile = keysPath
		d.Config.License.File = licPath
	})
	admin := env.Admin()
	now := time.Now()
	tok, err := license.Mint(priv, "test-2026", license.Claims{Tier: license.TierEnterprise, CustomerID: "acme",
		NotBefore: now.Add(-time.Minute), ExpiresAt: now.Add(24 * time.Hour * 90)})
	require.NoError(t, err)
	res := env.Do(apitest.Request{Method: http.MethodPut, Path: "admin/license", Token: admin.AccessToken, JSON: map[string]string{"license_jwt": "  " + tok + "\n"}})
	require.Equal(t, http.StatusOK, res.Status, string(res.Body))
	data, err := os.ReadFile(licPath)
	require.NoError(t, err)
	require.Equal(t, tok+"\n", string(data))
	require.NoFileExists(t, filepath.Join(env.App.Config.Server.DataDir, "license.jwt"))
}
