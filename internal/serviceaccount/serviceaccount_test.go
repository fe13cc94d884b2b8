package serviceaccount_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
)

func TestServiceAccountTokens(t *testing.T) {
	t.Parallel()
	now := time.Now()
	env := apitest.New(t, func(d *app.Deps) { d.NowFunc = func() time.Time { return now } })
	admin := env.Admin()

	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts", Token: admin.AccessToken,
		JSON: map[string]string{"name": "terraform", "description": "automation", "role": "security_admin"}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var sa api.ServiceAccount
	res.Decode(t, &sa)
	require.Equal(t, api.ServiceAccountStatusActive, sa.Status)
	var adminMe api.AuthMeResponse
	env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: admin.AccessToken}).Decode(t, &adminMe)
	require.Equal(t, adminMe.Id.String(), sa.CreatedBy, "the creator's id")
	var got api.ServiceAccount
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "service-accounts/" + sa.Id.String(), Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &got)
	require.Equal(t, sa, got)
	require.Equal(t, http.StatusNotFound, env.Do(apitest.Request{Method: http.MethodGet, Path: "service-accounts/" + uuid.NewString(), Token: admin.AccessToken}).Status)

	mint := func(body map[string]any) *apitest.Response {
		return env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts/" + sa.Id.String() + "/tokens", Token: admin.AccessToken, JSON: body})
	}
	require.Equal(t, http.StatusBadRequest, mint(map[string]any{"name": "x", "ttl": "24h", "eternal": true}).Status, "ttl and eternal are exclusive")
	require.Equal(t, http.StatusBadRequest, mint(map[string]any{"name": "x", "role": "admin"}).Status, "no higher than the account's role")
	require.Equal(t, http.StatusBadRequest, mint(map[string]any{"name": "x", "ttl": "soon"}).Status)

	res = mint(map[string]any{"name": "ci", "ttl": "24h"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var full api.APITokenCreated
	res.Decode(t, &full)
	require.True(t, strings.HasPrefix(full.Token, "owt_"))
	require.Equal(t, "security_admin", full.TokenMeta.Role)
	require.WithinDuration(t, now.Add(24*time.Hour), *full.TokenMeta.ExpiresAt, time.Second)

	res = mint(map[string]any{"name": "dashboards", "eternal": true, "role": "viewer"})
	require.Equal(t, http.StatusCreated, res.Status)
	var ro api.APITokenCreated
	res.Decode(t, &ro)
	require.Nil(t, ro.TokenMeta.ExpiresAt)

	// Bearer and Basic (token id as user name, the secret as password) both work.
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "users", Token: full.Token})
	require.Equal(t, http.StatusOK, res.Status)
	secret := full.Token[strings.Index(full.Token, ".")+1:]
	basic := base64.StdEncoding.EncodeToString([]byte(full.TokenMeta.Id.String() + ":" + secret))
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Headers: map[string]string{"Authorization": "Basic " + basic}})
	require.Equal(t, http.StatusOK, res.Status)
	var me api.AuthMeResponse
	res.Decode(t, &me)
	require.Equal(t, "terraform", me.Username)
	require.Equal(t, sa.Id, me.Id)

	// The read-only key: 403 naming the permission, never 401.
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Token: ro.Token,
		JSON: map[string]string{"username": "x", "email": "x@example.com", "password": "long-enough-pw"}})
	require.Equal(t, http.StatusForbidden, res.Status)
	require.Equal(t, "user:write", res.Err(t).Error.Detail["required_permission"])
	require.Equal(t, http.StatusConflict, env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/password:change", Token: ro.Token,
		JSON: map[string]string{"current_password": "a", "new_password": "b-long-enough"}}).Status)

	// 401 bodies say why.
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: "owt_" + strings.Repeat("0", 32) + ".nope"})
	require.Equal(t, http.StatusUnauthorized, res.Status)
	require.Contains(t, res.Err(t).Error.HumanMessage, "unknown")
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: full.Token[:len(full.Token)-2] + "xx"})
	require.Equal(t, http.StatusUnauthorized, res.Status, "a wrong secret")

	res = env.Do(apitest.Request{Method: http.MethodDelete, Path: "service-accounts/" + sa.Id.String() + "/tokens/" + ro.TokenMeta.Id.String(), Token: admin.AccessToken})
	require.Equal(t, http.StatusNoContent, res.Status)
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: ro.Token})
	require.Equal(t, http.StatusUnauthorized, res.Status, "revocation takes effect on the next request")
	require.Contains(t, res.Err(t).Error.HumanMessage, "revoked")

	now = now.Add(25 * time.Hour)
	env.App.Auth.InvalidateToken(full.TokenMeta.Id) // the cache trusts an entry for a minute at most; skip the wait
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: full.Token})
	require.Equal(t, http.StatusUnauthorized, res.Status)
	require.Contains(t, res.Err(t).Error.HumanMessage, "expired")

	admin = env.Login("admin", "pw-admin-0123456789") // the old access token expired with the clock jump
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "service-accounts/" + sa.Id.String() + "/tokens", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status)
	require.NotContains(t, string(res.Body), secret, "secrets are never listed")
	var list api.APITokenList
	res.Decode(t, &list)
	require.Len(t, list.Tokens, 2)
	require.Equal(t, api.APITokenMetaStatusExpired, list.Tokens[0].Status)
	require.Equal(t, api.APITokenMetaStatusRevoked, list.Tokens[1].Status)
	require.NotNil(t, list.Tokens[0].LastUsedAt)
}

func TestDisablingAnAccountRevokesItsTokens(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	var sa api.ServiceAccount
	env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts", Token: admin.AccessToken,
		JSON: map[string]string{"name": "robot", "role": "auditor"}}).Decode(t, &sa)
	var tok api.APITokenCreated
	env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts/" + sa.Id.String() + "/tokens", Token: admin.AccessToken,
		JSON: map[string]any{"name": "t"}}).Decode(t, &tok)
	require.Equal(t, http.StatusOK, env.Do(apitest.Request{Method: http.MethodGet, Path: "users", Token: tok.Token}).Status)

	res := env.Do(apitest.Request{Method: http.MethodPut, Path: "service-accounts/" + sa.Id.String(), Token: admin.AccessToken,
		JSON: map[string]string{"name": "robot", "role": "viewer"}})
	require.Equal(t, http.StatusOK, res.Status)
	require.Equal(t, http.StatusUnauthorized, env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: tok.Token}).Status,
		"lowering the account's role revokes tokens that held more")

	env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts/" + sa.Id.String() + "/tokens", Token: admin.AccessToken,
		JSON: map[string]any{"name": "t2"}}).Decode(t, &tok)
	require.Equal(t, http.StatusOK, env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: tok.Token}).Status)
	require.Equal(t, http.StatusNoContent, env.Do(apitest.Request{Method: http.MethodDelete, Path: "service-accounts/" + sa.Id.String(), Token: admin.AccessToken}).Status)
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: tok.Token})
	require.Equal(t, http.StatusUnauthorized, res.Status)
	require.Contains(t, res.Err(t).Error.HumanMessage, "revoked")
	require.Equal(t, http.StatusConflict, env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts/" + sa.Id.String() + "/tokens", Token: admin.AccessToken,
		JSON: map[string]any{"name": "t3"}}).Status)

	var page api.ServiceAccountList
	env.Do(apitest.Request{Method: http.MethodGet, Path: "service-accounts", Token: admin.AccessToken}).Decode(t, &page)
	require.Len(t, page.ServiceAccounts, 1)
	require.Equal(t, api.ServiceAccountStatusDisabled, page.ServiceAccounts[0].Status)
}
