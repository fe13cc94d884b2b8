package user_test

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

// auditCount counts the audit events of an action on a user.
func auditCount(t *testing.T, env *apitest.Env, action, userID string) int {
	t.Helper()
	var n int
	require.NoError(t, env.App.Pool.QueryRow(t.Context(),
		`SELECT count(*) FROM audit_events WHERE action = $1 AND resource_id = $2 AND detail->>'reason' <> ''`, action, userID).Scan(&n))
	return n
}

// TestRevokeSessionsEndsEverySessionInEveryProcess: two sessions and a refresh token of a
// user are refused at once in this process and, once the notification arrives, in another
// process on the same database.
func TestRevokeSessionsEndsEverySessionInEveryProcess(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	// A second process on the same database and key files.
	peer := apitest.New(t, func(d *app.Deps) { d.Pool, d.Config.Server.DataDir = env.App.Pool, env.App.Config.Server.DataDir })
	admin := env.Admin()
	pw := env.CreateUser("olga", authz.RoleViewer)
	s1 := env.Login("olga", pw)
	s2 := env.Login("olga", pw)
	var u api.UserResponse
	id := userID(t, env, "olga")
	env.Do(apitest.Request{Method: http.MethodGet, Path: "users/" + id, Token: admin.AccessToken}).Decode(t, &u)
	me := func(e *apitest.Env, s apitest.Session) int {
		return e.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: s.AccessToken}).Status
	}
	require.Equal(t, http.StatusOK, me(env, s1))
	require.Equal(t, http.StatusOK, me(peer, s2), "the other process caches s2")
	path := "users/" + id + ":revoke-sessions"

	// Bad input, unknown user, oneself, no permission.
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: path, Token: admin.AccessToken, JSON: map[string]string{}})
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Equal(t, "reason", res.Err(t).Error.Detail["field"])
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: path, Token: admin.AccessToken, JSON: map[string]string{"reason": "  "}})
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Equal(t, "reason", res.Err(t).Error.Detail["field"])
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users/0190c9d2-0000-7000-8000-000000000000:revoke-sessions", Token: admin.AccessToken, JSON: map[string]string{"reason": "x"}})
	require.Equal(t, http.StatusNotFound, res.Status)
	adminID := userID(t, env, "admin")
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + adminID + ":revoke-sessions", Token: admin.AccessToken, JSON: map[string]string{"reason": "x"}})
	require.Equal(t, http.StatusConflict, res.Status)
	require.Equal(t, "user.self_lockout", res.Err(t).Error.Code)
	require.Contains(t, res.Err(t).Error.HumanMessage, "account page")
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + adminID + ":revoke-sessions", Token: s1.AccessToken, JSON: map[string]string{"reason": "x"}})
	require.Equal(t, http.StatusForbidden, res.Status, "a viewer cannot sign others out")

	res = env.Do(apitest.Request{Method: http.MethodPost, Path: path, Token: admin.AccessToken, JSON: map[string]string{"reason": "laptop stolen"}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var out api.UserSessionsRevoked
	res.Decode(t, &out)
	require.EqualValues(t, 2, out.SessionsRevoked)

	require.Equal(t, http.StatusUnauthorized, me(env, s1), "this process refuses at once")
	require.Equal(t, http.StatusUnauthorized, me(env, s2))
	eventually(t, func() bool { return me(peer, s2) == http.StatusUnauthorized })
	require.Equal(t, http.StatusUnauthorized, env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Cookie: s1.Cookie}).Status)
	res = peer.Do(apitest.Request{Method: http.MethodPost, Path: "auth/refresh", JSON: map[string]string{"refresh_token": s1.RefreshToken}})
	require.Equal(t, http.StatusUnauthorized, res.Status, "the refresh token ended with its session")
	require.Equal(t, 1, auditCount(t, env, "user.sessions_revoked", id))
	require.Equal(t, http.StatusOK, me(env, env.Login("olga", pw)), "the user can sign in again")
}

// TestResetMFA: the second factor is removed, sessions end, and sign-in asks to enrol again.
func TestResetMFA(t *testing.T) {
	t.Parallel()
	now := time.Now()
	env := apitest.New(t, func(d *app.Deps) { d.NowFunc = func() time.Time { return now } })
	admin := env.Admin()
	pw := env.CreateUser("mona", authz.RoleViewer)
	s := env.Login("mona", pw)
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/mfa:enroll", Token: s.AccessToken})
	require.Equal(t, http.StatusOK, res.Status)
	var enrol api.AuthMFAEnrollResponse
	res.Decode(t, &enrol)
	code, err := totp.GenerateCode(enrol.Secret, now)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/mfa:verify", Token: s.AccessToken, JSON: map[string]string{"otp": code}}).Status)
	id := userID(t, env, "mona")
	var u api.UserResponse
	env.Do(apitest.Request{Method: http.MethodGet, Path: "users/" + id, Token: admin.AccessToken}).Decode(t, &u)
	require.True(t, *u.MfaEnabled)

	path := "users/" + id + ":reset-mfa"
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: path, Token: admin.AccessToken, JSON: map[string]string{"reason": ""}})
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Equal(t, "reason", res.Err(t).Error.Detail["field"])
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + userID(t, env, "admin") + ":reset-mfa", Token: admin.AccessToken, JSON: map[string]string{"reason": "x"}})
	require.Equal(t, http.StatusConflict, res.Status)
	require.Equal(t, "user.self_lockout", res.Err(t).Error.Code)
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users/0190c9d2-0000-7000-8000-000000000000:reset-mfa", Token: admin.AccessToken, JSON: map[string]string{"reason": "x"}})
	require.Equal(t, http.StatusNotFound, res.Status)
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: path, Token: s.AccessToken, JSON: map[string]string{"reason": "x"}})
	require.Equal(t, http.StatusForbidden, res.Status)

	res = env.Do(apitest.Request{Method: http.MethodPost, Path: path, Token: admin.AccessToken, JSON: map[string]string{"reason": "lost phone"}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &u)
	require.False(t, *u.MfaEnabled)
	require.Equal(t, http.StatusUnauthorized, env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: s.AccessToken}).Status, "the sessions ended")
	var codes int
	require.NoError(t, env.App.Pool.QueryRow(t.Context(), `SELECT count(*) FROM user_recovery_codes WHERE user_id = $1`, id).Scan(&codes))
	require.Zero(t, codes, "the recovery codes are gone")
	require.Equal(t, 1, auditCount(t, env, "user.mfa_reset", id))

	// With MFA required, the user signs in with the password alone and must enrol again.
	res = env.Do(apitest.Request{Method: http.MethodPut, Path: "system/security/config", Token: admin.AccessToken, JSON: map[string]bool{"require_mfa": true}})
	require.Equal(t, http.StatusOK, res.Status)
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/login", JSON: map[string]string{"username": "mona", "password": pw}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var login api.AuthLoginResponse
	res.Decode(t, &login)
	require.NotNil(t, login.MfaEnrollmentRequired)
	require.True(t, *login.MfaEnrollmentRequired)
	require.Equal(t, http.StatusOK, env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/mfa:enroll", Token: login.AccessToken}).Status)
}

func userID(t *testing.T, env *apitest.Env, username string) string {
	t.Helper()
	var id string
	require.NoError(t, env.App.Pool.QueryRow(t.Context(), `SELECT id::text FROM users WHERE username = $1`, username).Scan(&id))
	return id
}

func eventually(t *testing.T, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
