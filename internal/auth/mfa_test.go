package auth_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/authz"
)

func TestMFAEnrolVerifyAndSignIn(t *testing.T) {
	t.Parallel()
	now := time.Now()
	env := apitest.New(t, func(d *app.Deps) { d.NowFunc = func() time.Time { return now } })
	pw := env.CreateUser("mia", authz.RoleViewer)
	s := env.Login("mia", pw)

	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/mfa:enroll", Token: s.AccessToken})
	require.Equal(t, http.StatusOK, res.Status)
	var enrol api.AuthMFAEnrollResponse
	res.Decode(t, &enrol)
	require.Contains(t, enrol.ProvisioningUri, "otpauth://totp/OpenWatch:mia")
	var sealed []byte
	require.NoError(t, env.App.Pool.QueryRow(t.Context(), `SELECT mfa_secret_sealed FROM users WHERE username = 'mia'`).Scan(&sealed))
	require.NotContains(t, string(sealed), enrol.Secret, "the secret is sealed at rest")

	verify := func(code string) *apitest.Response {
		return env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/mfa:verify", Token: s.AccessToken, JSON: map[string]string{"otp": code}})
	}
	require.Equal(t, http.StatusUnauthorized, verify("000000").Status)
	code, err := totp.GenerateCode(enrol.Secret, now)
	require.NoError(t, err)
	res = verify(code)
	require.Equal(t, http.StatusOK, res.Status)
	var rc api.AuthMFARecoveryCodes
	res.Decode(t, &rc)
	require.Len(t, rc.RecoveryCodes, 10)
	res = verify(code)
	require.Equal(t, http.StatusUnauthorized, res.Status, "a used code is refused")
	require.Equal(t, "auth.mfa_invalid", res.Err(t).Error.Code)
	require.Equal(t, http.StatusConflict, env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/mfa:enroll", Token: s.AccessToken}).Status)

	login := func(body map[string]string) *apitest.Response {
		body["username"], body["password"] = "mia", pw
		return env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/login", JSON: body})
	}
	res = login(map[string]string{})
	require.Equal(t, http.StatusUnauthorized, res.Status)
	require.Equal(t, "auth.mfa_required", res.Err(t).Error.Code)
	res = login(map[string]string{"otp": code})
	require.Equal(t, http.StatusUnauthorized, res.Status, "the code used to verify cannot sign in again")

	now = now.Add(30 * time.Second)
	next, err := totp.GenerateCode(enrol.Secret, now)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, login(map[string]string{"otp": next}).Status)
	require.Equal(t, http.StatusUnauthorized, login(map[string]string{"otp": next}).Status, "replay refused")

	require.Equal(t, http.StatusOK, login(map[string]string{"recovery_code": rc.RecoveryCodes[0]}).Status)
	require.Equal(t, http.StatusUnauthorized, login(map[string]string{"recovery_code": rc.RecoveryCodes[0]}).Status, "recovery codes are single-use")
	require.Equal(t, http.StatusOK, login(map[string]string{"recovery_code": rc.RecoveryCodes[1]}).Status)
}

func TestRequireMFAIsEnforcedByTheServer(t *testing.T) {
	t.Parallel()
	now := time.Now()
	env := apitest.New(t, func(d *app.Deps) { d.NowFunc = func() time.Time { return now } })
	admin := env.Admin()
	res := env.Do(apitest.Request{Method: http.MethodPut, Path: "system/security/config", Token: admin.AccessToken, JSON: map[string]bool{"require_mfa": true}})
	require.Equal(t, http.StatusOK, res.Status)

	require.Equal(t, http.StatusForbidden, env.Do(apitest.Request{Method: http.MethodGet, Path: "users", Token: admin.AccessToken}).Status,
		"an admin without MFA is restricted to its own account on the very next request")
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/login", JSON: map[string]string{"username": "admin", "password": "pw-admin-0123456789"}})
	require.Equal(t, http.StatusOK, res.Status)
	var login api.AuthLoginResponse
	res.Decode(t, &login)
	require.NotNil(t, login.MfaEnrollmentRequired)
	require.True(t, *login.MfaEnrollmentRequired)

	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/mfa:enroll", Token: login.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "enrolment stays possible")
	var enrol api.AuthMFAEnrollResponse
	res.Decode(t, &enrol)
	code, err := totp.GenerateCode(enrol.Secret, now)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/mfa:verify", Token: login.AccessToken, JSON: map[string]string{"otp": code}}).Status)
	require.Equal(t, http.StatusOK, env.Do(apitest.Request{Method: http.MethodGet, Path: "users", Token: login.AccessToken}).Status,
		"verification lifts the restriction on the very next request")

	var sec api.SecurityConfig
	env.Do(apitest.Request{Method: http.MethodGet, Path: "system/security/config", Token: login.AccessToken}).Decode(t, &sec)
	require.True(t, sec.RequireMfa)
}
