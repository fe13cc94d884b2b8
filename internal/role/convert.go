package role

import (
	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
)

func toAPIRole(r authz.Role) api.RoleEntry {
	perms := r.Permissions
	if perms == nil {
		perms = []string{}
	}
	return api.RoleEntry{Id: r.ID, Description: r.Description, IsBuiltIn: r.BuiltIn, Permissions: perms}
}

func toAPIRoles(rs []authz.Role) []api.RoleEntry {
	out := make([]api.RoleEntry, len(rs))
	for i, r := range rs {
		out[i] = toAPIRole(r)
	}
	return out
}
