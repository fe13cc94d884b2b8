package auth

import (
	"context"
	"fmt"
	"strings"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
)

// CheckGrantable makes sure role exists and that actor (nil: the system) holds every
// permission it grants.
func CheckGrantable(ctx context.Context, q *dbq.Queries, actor *authz.Principal, field, role string) error {
	perms, err := RolePermissions(ctx, q, role)
	if err != nil {
		if apperr.Is(err, apperr.CodeNotFound) {
			return apperr.Invalid(field, fmt.Sprintf("role %q does not exist", role))
		}
		return err
	}
	if actor == nil {
		return nil
	}
	if missing := authz.Missing(actor.Permissions, perms); len(missing) > 0 {
		return apperr.Newf(apperr.CodePermissionDenied,
			"You cannot grant the role %q: it holds permissions you do not have (%s).", role, strings.Join(missing, ", ")).
			WithDetail("required_permission", missing[0]).WithDetail("missing_permissions", missing)
	}
	return nil
}

// RolePermissions returns the permissions of a built-in or custom role.
func RolePermissions(ctx context.Context, q *dbq.Queries, role string) ([]string, error) {
	if perms := authz.RolePermissions(role); perms != nil {
		return perms.Sorted(), nil
	}
	r, err := q.CustomRoleGet(ctx, role)
	if err != nil {
		return nil, pg.Translate(err)
	}
	return r.Permissions, nil
}
