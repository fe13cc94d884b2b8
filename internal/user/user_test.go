package user_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/authz"
)

func create(t *testing.T, env *apitest.Env, token, username, role string) api.UserResponse {
	t.Helper()
	body := map[string]string{"username": username, "email": username + "@example.com", "password": "pw-" + username + "-0123456789"}
	if role != "" {
		body["role"] = role
	}
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Token: token, JSON: body})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var u api.UserResponse
	res.Decode(t, &u)
	return u
}

func TestUserLifecycle(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	u := create(t, env, admin.AccessToken, "frank", "")
	require.Equal(t, []string{"viewer"}, u.Roles)

	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "users/" + u.Id.String(), Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status)

	res = env.Do(apitest.Request{Method: http.MethodPatch, Path: "users/" + u.Id.String(), Token: admin.AccessToken,
		JSON: map[string]string{"email": "frank@corp.example"}})
	require.Equal(t, http.StatusOK, res.Status)
	var got api.UserResponse
	res.Decode(t, &got)
	require.Equal(t, "frank@corp.example", got.Email)

	res = env.Do(apitest.Request{Method: http.MethodPatch, Path: "users/" + u.Id.String(), Token: admin.AccessToken, JSON: map[string]string{}})
	require.Equal(t, http.StatusBadRequest, res.Status, "an empty patch is refused")
	res = env.Do(apitest.Request{Method: http.MethodPatch, Path: "users/" + u.Id.String(), Token: admin.AccessToken, JSON: map[string]string{"username": "admin"}})
	require.Equal(t, http.StatusConflict, res.Status)

	frank := env.Login("frank", "pw-frank-0123456789")
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + u.Id.String() + ":disable", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status)
	res.Decode(t, &got)
	require.NotNil(t, got.DisabledAt)
	require.Equal(t, http.StatusUnauthorized, env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: frank.AccessToken}).Status,
		"disabling ends the sessions at once")
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/login", JSON: map[string]string{"username": "frank", "password": "pw-frank-0123456789"}})
	require.Equal(t, http.StatusUnauthorized, res.Status)

	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + u.Id.String() + ":enable", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status)
	env.Login("frank", "pw-frank-0123456789")

	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + u.Id.String() + "/password:reset", Token: admin.AccessToken,
		JSON: map[string]string{"new_password": "a-brand-new-secret"}})
	require.Equal(t, http.StatusNoContent, res.Status)
	env.Login("frank", "a-brand-new-secret")

	res = env.Do(apitest.Request{Method: http.MethodDelete, Path: "users/" + u.Id.String(), Token: admin.AccessToken})
	require.Equal(t, http.StatusNoContent, res.Status)
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "users/" + u.Id.String(), Token: admin.AccessToken})
	require.Equal(t, http.StatusNotFound, res.Status)
	require.Equal(t, "resource.not_found", res.Err(t).Error.Code)
	create(t, env, admin.AccessToken, "frank", "") // the name is free again

	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "users/not-a-uuid", Token: admin.AccessToken})
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Equal(t, "id", res.Err(t).Error.Detail["field"])
}

func TestListUsersPaginates(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	for i := range 5 {
		env.CreateUser(fmt.Sprintf("user%02d", i), authz.RoleViewer)
	}
	var seen []string
	cursor := ""
	for page := 0; page < 10; page++ {
		path := "users?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		res := env.Do(apitest.Request{Method: http.MethodGet, Path: path, Token: admin.AccessToken})
		require.Equal(t, http.StatusOK, res.Status)
		var body api.UsersListResponse
		res.Decode(t, &body)
		for _, u := range body.Users {
			seen = append(seen, u.Username)
		}
		if body.NextCursor == nil {
			break
		}
		cursor = *body.NextCursor
	}
	require.Equal(t, []string{"admin", "user00", "user01", "user02", "user03", "user04"}, seen)

	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "users", Token: admin.AccessToken})
	var all api.UsersListResponse
	res.Decode(t, &all)
	require.Len(t, all.Users, 6, "a caller who ignores pagination gets everything at small sizes")
	require.Nil(t, all.NextCursor)

	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "users?cursor=garbage!", Token: admin.AccessToken})
	require.Equal(t, http.StatusBadRequest, res.Status, "a malformed cursor is a 400, not a restart")
	require.Equal(t, "cursor", res.Err(t).Error.Detail["field"])
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "users?limit=0", Token: admin.AccessToken})
	require.Equal(t, http.StatusBadRequest, res.Status)
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "users?limit=201", Token: admin.AccessToken})
	require.Equal(t, http.StatusBadRequest, res.Status)
}

func TestLastAdminAndSelfProtection(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	var me api.AuthMeResponse
	env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: admin.AccessToken}).Decode(t, &me)
	id := me.Id.String()

	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + id + ":disable", Token: admin.AccessToken})
	require.Equal(t, http.StatusConflict, res.Status)
	require.Equal(t, "user.self_lockout", res.Err(t).Error.Code)
	res = env.Do(apitest.Request{Method: http.MethodDelete, Path: "users/" + id, Token: admin.AccessToken})
	require.Equal(t, "user.self_lockout", res.Err(t).Error.Code)
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + id + "/roles:unassign", Token: admin.AccessToken, JSON: map[string]string{"role_id": "admin"}})
	require.Equal(t, http.StatusConflict, res.Status)
	require.Equal(t, "user.last_admin", res.Err(t).Error.Code, "the last admin cannot be demoted")

	// A security admin may manage users but cannot remove the last admin either.
	sec := env.Login("sec", env.CreateUser("sec", authz.RoleSecurityAdmin))
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + id + ":disable", Token: sec.AccessToken})
	require.Equal(t, "user.last_admin", res.Err(t).Error.Code)
	res = env.Do(apitest.Request{Method: http.MethodDelete, Path: "users/" + id, Token: sec.AccessToken})
	require.Equal(t, "user.last_admin", res.Err(t).Error.Code)

	second := create(t, env, admin.AccessToken, "admin2", "admin")
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + second.Id.String() + "/roles:unassign", Token: admin.AccessToken, JSON: map[string]string{"role_id": "admin"}})
	require.Equal(t, http.StatusNoContent, res.Status, "with two admins one may be demoted")
}

func TestRoleAssignmentAndEscalation(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	sec := env.Login("sec", env.CreateUser("sec", authz.RoleSecurityAdmin))
	target := create(t, env, admin.AccessToken, "tina", "")
	tina := env.Login("tina", "pw-tina-0123456789")

	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "roles:create", Token: admin.AccessToken,
		JSON: map[string]any{"id": "user_reader", "description": "Reads users", "permissions": []string{"user:read", "account:self"}}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)

	require.Equal(t, http.StatusForbidden, env.Do(apitest.Request{Method: http.MethodGet, Path: "users", Token: tina.AccessToken}).Status)
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + target.Id.String() + "/roles:assign", Token: sec.AccessToken, JSON: map[string]string{"role_id": "user_reader"}})
	require.Equal(t, http.StatusNoContent, res.Status)
	require.Equal(t, http.StatusOK, env.Do(apitest.Request{Method: http.MethodGet, Path: "users", Token: tina.AccessToken}).Status,
		"a role change takes effect on the very next request")

	var perms api.AuthMePermissionsResponse
	env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me/permissions", Token: tina.AccessToken}).Decode(t, &perms)
	require.Equal(t, []string{"account:self", "activity:read", "alert:read", "compliance:read", "exception:read", "health_check:read", "host:read", "license:read", "patch:read", "remediation:read", "scan:read", "system:read", "user:read", "vulnerability:read"}, perms.Permissions, "the union of viewer and user_reader")

	// An assigner holding role:assign but not user:write cannot hand out security_admin.
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "roles:create", Token: admin.AccessToken,
		JSON: map[string]any{"id": "assigner", "description": "Assigns roles", "permissions": []string{"account:self", "role:assign", "user:read"}}})
	require.Equal(t, http.StatusCreated, res.Status)
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Token: admin.AccessToken,
		JSON: map[string]string{"username": "ann", "email": "ann@example.com", "password": "ann-password-12", "role": "assigner"}})
	require.Equal(t, http.StatusCreated, res.Status)
	ann := env.Login("ann", "ann-password-12")
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + target.Id.String() + "/roles:assign", Token: ann.AccessToken, JSON: map[string]string{"role_id": "security_admin"}})
	require.Equal(t, http.StatusForbidden, res.Status, "nobody grants a role holding permissions they lack")
	e := res.Err(t)
	require.Equal(t, "authz.permission_denied", e.Error.Code)
	require.Equal(t, "activity:read", e.Error.Detail["required_permission"], "the first missing permission, sorted")
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + target.Id.String() + "/roles:assign", Token: sec.AccessToken, JSON: map[string]string{"role_id": "wizard"}})
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Equal(t, "role_id", res.Err(t).Error.Detail["field"])

	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + target.Id.String() + "/roles:unassign", Token: sec.AccessToken, JSON: map[string]string{"role_id": "user_reader"}})
	require.Equal(t, http.StatusNoContent, res.Status)
	require.Equal(t, http.StatusForbidden, env.Do(apitest.Request{Method: http.MethodGet, Path: "users", Token: tina.AccessToken}).Status,
		"demotion takes effect on the very next request")
}
