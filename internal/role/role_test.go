package role_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/authz"
)

func TestCustomRoles(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	aud := env.Login("aud", env.CreateUser("aud", authz.RoleAuditor))
	sec := env.Login("sec", env.CreateUser("sec", authz.RoleSecurityAdmin))

	body := map[string]any{"id": "helpdesk", "description": "Resets passwords", "permissions": []string{"user:read", "user:write", "user:read"}}
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "roles:create", Token: sec.AccessToken, JSON: body})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var r api.RoleEntry
	res.Decode(t, &r)
	require.Equal(t, []string{"user:read", "user:write"}, r.Permissions)
	require.False(t, r.IsBuiltIn)

	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "roles:create", Token: sec.AccessToken, JSON: body})
	require.Equal(t, http.StatusConflict, res.Status)
	body["id"] = "admin"
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "roles:create", Token: admin.AccessToken, JSON: body})
	require.Equal(t, http.StatusConflict, res.Status, "built-in ids are taken")
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "roles:create", Token: admin.AccessToken,
		JSON: map[string]any{"id": "bogus", "description": "x", "permissions": []string{"host:fly"}}})
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Equal(t, "permissions", res.Err(t).Error.Detail["field"])
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "roles:create", Token: admin.AccessToken,
		JSON: map[string]any{"id": "Bad-Id", "description": "x", "permissions": []string{}}})
	require.Equal(t, http.StatusBadRequest, res.Status)
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "roles:create", Token: aud.AccessToken,
		JSON: map[string]any{"id": "sneaky", "description": "x", "permissions": []string{"user:write"}}})
	require.Equal(t, http.StatusForbidden, res.Status, "auditor lacks role:write")

	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "roles", Token: aud.AccessToken})
	require.Equal(t, http.StatusOK, res.Status)
	var list api.AdminRolesResponse
	res.Decode(t, &list)
	ids := []string{}
	for _, r := range list.Roles {
		ids = append(ids, r.Id)
	}
	require.Equal(t, []string{"viewer", "auditor", "security_admin", "admin", "helpdesk"}, ids)

	viewer := env.Login("vic", env.CreateUser("vic", authz.RoleViewer))
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/permissions:registry", Token: viewer.AccessToken})
	require.Equal(t, http.StatusOK, res.Status)
	var reg api.PermissionsRegistryResponse
	res.Decode(t, &reg)
	require.Len(t, reg.Permissions, len(authz.Permissions()))
	for _, p := range reg.Permissions {
		if p.Id == authz.PermAuditExport {
			require.Equal(t, "audit_export", *p.LicenseGated, "the spec gates audit:export")
		} else {
			require.Nil(t, p.LicenseGated, p.Id)
		}
	}
	// The registry shows every built-in role with exactly the catalogue's permissions, and
	// the custom role with its own.
	want := map[string][]string{"helpdesk": {"user:read", "user:write"}}
	for _, r := range authz.BuiltInRoles() {
		want[r.ID] = r.Permissions
	}
	got := map[string][]string{}
	for _, r := range reg.Roles {
		require.Equal(t, r.Id != "helpdesk", r.IsBuiltIn, r.Id)
		got[r.Id] = r.Permissions
	}
	require.Equal(t, want, got)
}

// TestCannotCreateRoleAboveOneself: a custom role holder with role:write but not user:delete
// cannot mint a role with user:delete.
func TestCannotCreateRoleAboveOneself(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "roles:create", Token: admin.AccessToken,
		JSON: map[string]any{"id": "role_maker", "description": "x", "permissions": []string{"account:self", "role:write"}}})
	require.Equal(t, http.StatusCreated, res.Status)
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Token: admin.AccessToken,
		JSON: map[string]string{"username": "maker", "email": "maker@example.com", "password": "maker-password-1", "role": "role_maker"}})
	require.Equal(t, http.StatusCreated, res.Status)
	maker := env.Login("maker", "maker-password-1")
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "roles:create", Token: maker.AccessToken,
		JSON: map[string]any{"id": "deleter", "description": "x", "permissions": []string{"user:delete"}}})
	require.Equal(t, http.StatusForbidden, res.Status)
	e := res.Err(t)
	require.Equal(t, "authz.permission_denied", e.Error.Code)
	require.Equal(t, "user:delete", e.Error.Detail["required_permission"])
}
