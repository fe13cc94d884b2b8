package role_test

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

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

// TestEditAndDeleteCustomRoles: a custom role's description and permissions change (its
// holders get the new permissions), a role still held cannot be deleted (the answer
// counts the holders), built-in roles cannot be changed at all, and both changes are
// audited.
func TestEditAndDeleteCustomRoles(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "roles:create", Token: admin.AccessToken,
		JSON: map[string]any{"id": "helpdesk", "description": "Resets passwords", "permissions": []string{"account:self", "user:read"}}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Token: admin.AccessToken,
		JSON: map[string]string{"username": "hal", "email": "hal@example.com", "password": "hal-password-0123", "role": "helpdesk"}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var hal api.UserResponse
	res.Decode(t, &hal)
	halSession := env.Login("hal", "hal-password-0123")
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "hosts", Token: halSession.AccessToken})
	require.Equal(t, http.StatusForbidden, res.Status)

	res = env.Do(apitest.Request{Method: http.MethodPatch, Path: "roles/helpdesk", Token: admin.AccessToken,
		JSON: map[string]any{"description": "Reads users and hosts", "permissions": []string{"host:read", "user:read", "account:self", "host:read"}}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var r api.RoleEntry
	res.Decode(t, &r)
	require.Equal(t, api.RoleEntry{Id: "helpdesk", Description: "Reads users and hosts", Permissions: []string{"account:self", "host:read", "user:read"}}, r)
	require.Eventually(t, func() bool {
		return env.Do(apitest.Request{Method: http.MethodGet, Path: "hosts", Token: halSession.AccessToken}).Status == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond, "the holder's session gets the new permission")

	// Only the description: the permissions stay.
	res = env.Do(apitest.Request{Method: http.MethodPatch, Path: "roles/helpdesk", Token: admin.AccessToken, JSON: map[string]any{"description": "Help desk"}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &r)
	require.Equal(t, []string{"account:self", "host:read", "user:read"}, r.Permissions)
	require.Equal(t, "Help desk", r.Description)

	for _, c := range []struct {
		name   string
		path   string
		body   any
		status int
		field  string
	}{
		{"unknownPermission", "roles/helpdesk", map[string]any{"permissions": []string{"host:fly"}}, http.StatusBadRequest, "permissions"},
		{"emptyBody", "roles/helpdesk", map[string]any{}, http.StatusBadRequest, ""},
		{"unknownField", "roles/helpdesk", map[string]any{"id": "other"}, http.StatusBadRequest, ""},
		{"badID", "roles/Bad-Id", map[string]any{"description": "x"}, http.StatusBadRequest, ""},
		{"missing", "roles/nobody_has_it", map[string]any{"description": "x"}, http.StatusNotFound, ""},
		{"builtIn", "roles/viewer", map[string]any{"description": "x"}, http.StatusConflict, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := env.Do(apitest.Request{Method: http.MethodPatch, Path: c.path, Token: admin.AccessToken, JSON: c.body})
			require.Equal(t, c.status, res.Status, "%s", res.Body)
			if c.field != "" {
				require.Equal(t, c.field, res.Err(t).Error.Detail["field"])
			}
		})
	}
	res = env.Do(apitest.Request{Method: http.MethodDelete, Path: "roles/admin", Token: admin.AccessToken})
	require.Equal(t, http.StatusConflict, res.Status)
	require.Contains(t, res.Err(t).Error.HumanMessage, "built-in")
	res = env.Do(apitest.Request{Method: http.MethodDelete, Path: "roles/nobody_has_it", Token: admin.AccessToken})
	require.Equal(t, http.StatusNotFound, res.Status)

	// Held by a user and by a service account (as its role, and another through a token).
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts", Token: admin.AccessToken,
		JSON: map[string]string{"name": "desk-bot", "role": "helpdesk"}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var bot api.ServiceAccount
	res.Decode(t, &bot)
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts", Token: admin.AccessToken,
		JSON: map[string]string{"name": "big-bot", "role": "admin"}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var big api.ServiceAccount
	res.Decode(t, &big)
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts/" + big.Id.String() + "/tokens", Token: admin.AccessToken,
		JSON: map[string]any{"name": "narrow", "role": "helpdesk"}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var narrow api.APITokenCreated
	res.Decode(t, &narrow)

	res = env.Do(apitest.Request{Method: http.MethodDelete, Path: "roles/helpdesk", Token: admin.AccessToken})
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	e := res.Err(t)
	require.Equal(t, `The role "helpdesk" is held by 1 user and 2 service accounts; take it from them first.`, e.Error.HumanMessage)
	require.EqualValues(t, 1, e.Error.Detail["users"])
	require.EqualValues(t, 2, e.Error.Detail["service_accounts"])

	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + hal.Id.String() + "/roles:unassign", Token: admin.AccessToken,
		JSON: map[string]string{"role_id": "helpdesk"}})
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	res = env.Do(apitest.Request{Method: http.MethodDelete, Path: "service-accounts/" + bot.Id.String(), Token: admin.AccessToken})
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	res = env.Do(apitest.Request{Method: http.MethodDelete, Path: "roles/helpdesk", Token: admin.AccessToken})
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	require.Equal(t, `The role "helpdesk" is held by no user and 1 service account; take it from them first.`, res.Err(t).Error.HumanMessage)
	res = env.Do(apitest.Request{Method: http.MethodDelete, Path: "service-accounts/" + big.Id.String() + "/tokens/" + narrow.TokenMeta.Id.String(), Token: admin.AccessToken})
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)

	res = env.Do(apitest.Request{Method: http.MethodDelete, Path: "roles/helpdesk", Token: admin.AccessToken})
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "roles", Token: admin.AccessToken})
	var list api.AdminRolesResponse
	res.Decode(t, &list)
	for _, r := range list.Roles {
		require.NotEqual(t, "helpdesk", r.Id)
	}
	res = env.Do(apitest.Request{Method: http.MethodDelete, Path: "roles/helpdesk", Token: admin.AccessToken})
	require.Equal(t, http.StatusNotFound, res.Status)

	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "audit/events?limit=50", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var page api.AuditEventsPage
	res.Decode(t, &page)
	seen := map[string]int{}
	for _, ev := range page.Items {
		if ev.ResourceId != nil && *ev.ResourceId == "helpdesk" {
			seen[ev.Action]++
		}
	}
	require.Equal(t, map[string]int{"role.created": 1, "role.updated": 2, "role.deleted": 1}, seen)
}

// TestCannotEditRoleAboveOneself: a holder of role:write cannot give a role a permission
// they lack, nor change or delete a role granting one.
func TestCannotEditRoleAboveOneself(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	for _, body := range []map[string]any{
		{"id": "role_maker", "description": "x", "permissions": []string{"account:self", "role:write", "user:read"}},
		{"id": "deleters", "description": "x", "permissions": []string{"user:delete"}},
		{"id": "readers", "description": "x", "permissions": []string{"user:read"}},
	} {
		res := env.Do(apitest.Request{Method: http.MethodPost, Path: "roles:create", Token: admin.AccessToken, JSON: body})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	}
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Token: admin.AccessToken,
		JSON: map[string]string{"username": "maker", "email": "maker@example.com", "password": "maker-password-1", "role": "role_maker"}})
	require.Equal(t, http.StatusCreated, res.Status)
	maker := env.Login("maker", "maker-password-1")

	for _, c := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPatch, "roles/readers", map[string]any{"permissions": []string{"user:read", "user:delete"}}},
		{http.MethodPatch, "roles/deleters", map[string]any{"permissions": []string{"user:read"}}},
		{http.MethodPatch, "roles/deleters", map[string]any{"description": "y"}},
		{http.MethodDelete, "roles/deleters", nil},
	} {
		res := env.Do(apitest.Request{Method: c.method, Path: c.path, Token: maker.AccessToken, JSON: c.body})
		require.Equal(t, http.StatusForbidden, res.Status, "%s %s: %s", c.method, c.path, res.Body)
		e := res.Err(t)
		require.Equal(t, "authz.permission_denied", e.Error.Code)
		require.Equal(t, "user:delete", e.Error.Detail["required_permission"])
	}
	res = env.Do(apitest.Request{Method: http.MethodPatch, Path: "roles/readers", Token: maker.AccessToken,
		JSON: map[string]any{"permissions": []string{}}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var r api.RoleEntry
	res.Decode(t, &r)
	require.Empty(t, r.Permissions)
	res = env.Do(apitest.Request{Method: http.MethodDelete, Path: "roles/readers", Token: maker.AccessToken})
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
}

// TestRoleEditKeepsTokensUnderTheirAccount: a service-account token never holds more than
// its account. When an edit of the token's role lifts it above the account's role, or an
// edit of the account's role drops it below the token's, the token is revoked (and stops
// working); a token still within its account survives, and role.updated counts them.
func TestRoleEditKeepsTokensUnderTheirAccount(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	for _, body := range []map[string]any{
		{"id": "bot_account", "description": "x", "permissions": []string{"host:read", "user:read"}},
		{"id": "bot_hosts", "description": "x", "permissions": []string{"host:read"}},
		{"id": "bot_users", "description": "x", "permissions": []string{"user:read"}},
	} {
		res := env.Do(apitest.Request{Method: http.MethodPost, Path: "roles:create", Token: admin.AccessToken, JSON: body})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	}
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts", Token: admin.AccessToken,
		JSON: map[string]string{"name": "reader-bot", "role": "bot_account"}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var bot api.ServiceAccount
	res.Decode(t, &bot)
	token := func(name, role string) string {
		res := env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts/" + bot.Id.String() + "/tokens", Token: admin.AccessToken,
			JSON: map[string]any{"name": name, "role": role}})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		var tok api.APITokenCreated
		res.Decode(t, &tok)
		return tok.Token
	}
	hosts, users, full := token("hosts", "bot_hosts"), token("users", "bot_users"), token("full", "bot_account")
	works := func(tok, path string) bool {
		return env.Do(apitest.Request{Method: http.MethodGet, Path: path, Token: tok}).Status == http.StatusOK
	}
	require.True(t, works(hosts, "hosts"))
	require.True(t, works(users, "users"))
	require.True(t, works(full, "hosts"))

	// The token's role gains a permission its account lacks: that token goes, the others stay.
	res = env.Do(apitest.Request{Method: http.MethodPatch, Path: "roles/bot_hosts", Token: admin.AccessToken,
		JSON: map[string]any{"permissions": []string{"host:read", "scan:read"}}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.Eventually(t, func() bool { return !works(hosts, "hosts") }, 10*time.Second, 50*time.Millisecond, "the lifted token is revoked")
	require.True(t, works(users, "users"))

	// The account's role loses user:read: the token of bot_users now exceeds it and goes;
	// the token carrying the account's own role narrows with it and stays.
	res = env.Do(apitest.Request{Method: http.MethodPatch, Path: "roles/bot_account", Token: admin.AccessToken,
		JSON: map[string]any{"permissions": []string{"host:read"}}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.Eventually(t, func() bool { return !works(users, "users") }, 10*time.Second, 50*time.Millisecond, "the token above its narrowed account is revoked")
	require.True(t, works(full, "hosts"))

	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "audit/events?limit=50", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var page api.AuditEventsPage
	res.Decode(t, &page)
	revoked := map[string]float64{}
	for _, ev := range page.Items {
		if n, ok := ev.Detail["revoked_token_count"].(float64); ok && ev.Action == "role.updated" && ev.ResourceId != nil {
			revoked[*ev.ResourceId] = n
		}
	}
	require.Equal(t, map[string]float64{"bot_hosts": 1, "bot_account": 1}, revoked, "%s", res.Body)
}

// TestDeleteRoleRacingAGrant: a role deleted while it is being given to a user is either
// deleted before the grant (which then fails: no such role) or refused as held; never both
// deleted and held.
func TestDeleteRoleRacingAGrant(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Token: admin.AccessToken,
		JSON: map[string]string{"username": "racer", "email": "racer@example.com", "password": "racer-password-0123", "role": "viewer"}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var racer api.UserResponse
	res.Decode(t, &racer)
	for i := range 15 {
		id := fmt.Sprintf("race_%d", i)
		res := env.Do(apitest.Request{Method: http.MethodPost, Path: "roles:create", Token: admin.AccessToken,
			JSON: map[string]any{"id": id, "description": "x", "permissions": []string{"host:read"}}})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		var grant, del int
		var wg sync.WaitGroup
		wg.Go(func() {
			grant = env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + racer.Id.String() + "/roles:assign",
				Token: admin.AccessToken, JSON: map[string]string{"role_id": id}}).Status
		})
		wg.Go(func() {
			del = env.Do(apitest.Request{Method: http.MethodDelete, Path: "roles/" + id, Token: admin.AccessToken}).Status
		})
		wg.Wait()
		res = env.Do(apitest.Request{Method: http.MethodGet, Path: "users/" + racer.Id.String(), Token: admin.AccessToken})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var u api.UserResponse
		res.Decode(t, &u)
		held := slices.Contains(u.Roles, id)
		switch del {
		case http.StatusNoContent:
			require.False(t, held, "round %d: the role was deleted yet is held (grant answered %d)", i, grant)
			require.Equal(t, http.StatusBadRequest, grant, "round %d: a grant after the delete names a role that does not exist", i)
		case http.StatusConflict:
			require.True(t, held, "round %d", i)
			require.Equal(t, http.StatusNoContent, grant, "round %d", i)
		default:
			t.Fatalf("round %d: delete answered %d", i, del)
		}
	}
}
