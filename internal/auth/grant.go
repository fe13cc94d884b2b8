package auth

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
)

// CheckGrantable makes sure role exists and that actor (nil: the system) holds every
// permission it grants. Called in the transaction that grants the role, it keeps a custom
// role from being changed or deleted until that transaction ends (grantedPermissions).
func CheckGrantable(ctx context.Context, q *dbq.Queries, actor *authz.Principal, field, role string) error {
	perms, err := grantedPermissions(ctx, q, role)
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
	return permissionsOf(ctx, role, q.CustomRoleGet)
}

// grantedPermissions is RolePermissions for a grant: a custom role's row stays locked
// against an edit or a delete (role.Service) until the granting transaction ends, so the
// delete's count of holders, or the edit's revocation of tokens above their account, sees
// this grant.
func grantedPermissions(ctx context.Context, q *dbq.Queries, role string) ([]string, error) {
	return permissionsOf(ctx, role, q.CustomRoleGetForShare)
}

func permissionsOf(ctx context.Context, role string, get func(context.Context, string) (dbq.CustomRole, error)) ([]string, error) {
	if perms := authz.RolePermissions(role); perms != nil {
		return perms.Sorted(), nil
	}
	r, err := get(ctx, role)
	if err != nil {
		return nil, pg.Translate(err)
	}
	return r.Permissions, nil
}

// RevokeExceedingTokens revokes the live tokens of service account id whose role holds a
// permission the account's role lacks, or no longer exists: a token never exceeds its account.
// It returns how many it revoked. Each token role is looked up once.
func RevokeExceedingTokens(ctx context.Context, q *dbq.Queries, id uuid.UUID, role string) (int, error) {
	accountPerms, err := RolePermissions(ctx, q, role)
	if err != nil {
		return 0, err
	}
	have := authz.NewPermissionSet(accountPerms...)
	tokens, err := q.APITokenList(ctx, id)
	if err != nil {
		return 0, pg.Translate(err)
	}
	exceeds := map[string]bool{}
	revoked := 0
	for _, t := range tokens {
		if t.RevokedAt != nil {
			continue
		}
		over, known := exceeds[t.Role]
		if !known {
			perms, err := RolePermissions(ctx, q, t.Role)
			if err != nil && !apperr.Is(err, apperr.CodeNotFound) {
				return revoked, err
			}
			over = err != nil || len(authz.Missing(have, perms)) > 0
			exceeds[t.Role] = over
		}
		if over {
			if _, err := q.APITokenRevoke(ctx, dbq.APITokenRevokeParams{ID: t.ID, ServiceAccountID: id}); err != nil {
				return revoked, pg.Translate(err)
			}
			revoked++
		}
	}
	return revoked, nil
}
