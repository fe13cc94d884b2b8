package role

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/auth"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
)

// Service lists, creates, changes and deletes roles.
type Service struct {
	pool  *pgxpool.Pool
	q     *dbq.Queries
	audit *audit.Writer
}

// NewService returns the role service.
func NewService(pool *pgxpool.Pool, aw *audit.Writer) *Service {
	return &Service{pool: pool, q: dbq.New(pool), audit: aw}
}

// List returns the built-in roles followed by the custom roles. Guarded by role:read (and
// by account:self through the permissions registry).
func (s *Service) List(ctx context.Context) ([]authz.Role, error) {
	roles := authz.BuiltInRoles()
	custom, err := s.q.CustomRoleList(ctx)
	if err != nil {
		return nil, pg.Translate(err)
	}
	for _, c := range custom {
		roles = append(roles, authz.Role{ID: c.ID, Description: c.Description, Permissions: c.Permissions})
	}
	return roles, nil
}

// CreateInput describes a custom role.
type CreateInput struct {
	ID          string
	Description string
	Permissions []string
}

// Create adds a custom role. Every permission must be in the catalogue and held by actor.
// Guarded by role:write.
// Errors: validation_failed (unknown permission), authz.permission_denied, resource.conflict.
func (s *Service) Create(ctx context.Context, actor *authz.Principal, in CreateInput) (authz.Role, error) {
	perms, err := checkPermissions(in.Permissions)
	if err != nil {
		return authz.Role{}, err
	}
	if authz.IsBuiltInRole(in.ID) {
		return authz.Role{}, apperr.Conflict(fmt.Sprintf("%q is a built-in role.", in.ID)).WithDetail("field", "id")
	}
	if err := mustHold(actor, "create a role with", perms); err != nil {
		return authz.Role{}, err
	}
	var r dbq.CustomRole
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		r, err = dbq.New(tx).CustomRoleInsert(ctx, dbq.CustomRoleInsertParams{ID: in.ID, Description: in.Description, Permissions: perms, CreatedBy: actor.Actor().UserID()})
		if err != nil {
			err = pg.Translate(err)
			if apperr.Is(err, apperr.CodeConflict) {
				return apperr.Conflict(fmt.Sprintf("A role named %q already exists.", in.ID)).WithDetail("field", "id")
			}
			return err
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionRoleCreated, "role", in.ID,
			map[string]any{"permissions": perms, "description": in.Description}))
	})
	if err != nil {
		return authz.Role{}, err
	}
	return authz.Role{ID: r.ID, Description: r.Description, Permissions: r.Permissions}, nil
}

// checkPermissions returns perms sorted without duplicates, or a validation error naming
// the first permission that is not in the catalogue.
func checkPermissions(in []string) ([]string, error) {
	perms := make([]string, 0, len(in))
	for _, p := range in {
		if !authz.IsPermission(p) {
			return nil, apperr.Invalid("permissions", fmt.Sprintf("permission %q does not exist", p))
		}
		if !slices.Contains(perms, p) {
			perms = append(perms, p)
		}
	}
	sort.Strings(perms)
	return perms, nil
}

// mustHold refuses (authz.permission_denied) when actor lacks any of perms: nobody makes,
// changes or removes a role above themself. doing completes "You cannot … permissions".
func mustHold(actor *authz.Principal, doing string, perms []string) error {
	if missing := authz.Missing(actor.Permissions, perms); len(missing) > 0 {
		return apperr.Newf(apperr.CodePermissionDenied,
			"You cannot %s permissions you do not have (%s).", doing, strings.Join(missing, ", ")).
			WithDetail("required_permission", missing[0]).WithDetail("missing_permissions", missing)
	}
	return nil
}

func errRoleNotFound(id string) error {
	return apperr.NotFound(fmt.Sprintf("There is no custom role %q.", id))
}

// errBuiltIn refuses to change or delete a built-in role: they are defined in code.
func errBuiltIn(id string) error {
	return apperr.Conflict(fmt.Sprintf("%q is a built-in role; built-in roles cannot be changed or deleted.", id)).
		WithDetail("role", id)
}

// UpdateInput changes a custom role; nil fields stay as they are.
type UpdateInput struct {
	Description *string
	Permissions *[]string
}

// Update changes a custom role's description or permissions. The actor must hold every
// permission the role grants before and after the change. Every cached session and token
// is dropped so holders get the new permissions on their next request, and service-account
// tokens the change leaves above their account's role are revoked. Guarded by role:write.
// Errors: validation_failed (unknown permission), authz.permission_denied,
// resource.not_found, resource.conflict (a built-in role).
func (s *Service) Update(ctx context.Context, actor *authz.Principal, id string, in UpdateInput) (authz.Role, error) {
	if authz.IsBuiltInRole(id) {
		return authz.Role{}, errBuiltIn(id)
	}
	var perms []string
	if in.Permissions != nil {
		var err error
		if perms, err = checkPermissions(*in.Permissions); err != nil {
			return authz.Role{}, err
		}
	}
	var r dbq.CustomRole
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		old, err := q.CustomRoleGetForUpdate(ctx, id)
		if err != nil {
			return pg.NotFoundAs(err, errRoleNotFound(id))
		}
		if err := mustHold(actor, "change a role with", old.Permissions); err != nil {
			return err
		}
		if err := mustHold(actor, "give a role", perms); err != nil {
			return err
		}
		r, err = q.CustomRoleUpdate(ctx, dbq.CustomRoleUpdateParams{ID: id, Description: in.Description, Permissions: perms})
		if err != nil {
			return pg.NotFoundAs(err, errRoleNotFound(id))
		}
		revoked, err := revokeTokensAbove(ctx, q, id)
		if err != nil {
			return err
		}
		if err := q.AuthNotify(ctx, "*"); err != nil {
			return pg.Translate(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionRoleUpdated, "role", id,
			map[string]any{"permissions": r.Permissions, "previous_permissions": old.Permissions,
				"description": r.Description, "revoked_token_count": revoked}))
	})
	if err != nil {
		return authz.Role{}, err
	}
	return authz.Role{ID: r.ID, Description: r.Description, Permissions: r.Permissions}, nil
}

// revokeTokensAbove keeps a token from exceeding its service account after role id changed:
// a token with the role may now hold more than its account's role, and an account with the
// role may now hold less than its tokens. Those tokens are revoked; it returns how many.
func revokeTokensAbove(ctx context.Context, q *dbq.Queries, id string) (int, error) {
	accounts, err := q.CustomRoleTokenAccounts(ctx, id)
	if err != nil {
		return 0, pg.Translate(err)
	}
	total := 0
	for _, a := range accounts {
		n, err := auth.RevokeExceedingTokens(ctx, q, a.ID, a.Role)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// Delete removes a custom role nobody holds. The actor must hold every permission it
// grants. Guarded by role:write.
// Errors: authz.permission_denied, resource.not_found, resource.conflict (a built-in role,
// or a role still held: detail users and service_accounts count the holders).
func (s *Service) Delete(ctx context.Context, actor *authz.Principal, id string) error {
	if authz.IsBuiltInRole(id) {
		return errBuiltIn(id)
	}
	return pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		old, err := q.CustomRoleGetForUpdate(ctx, id)
		if err != nil {
			return pg.NotFoundAs(err, errRoleNotFound(id))
		}
		if err := mustHold(actor, "delete a role with", old.Permissions); err != nil {
			return err
		}
		held, err := q.CustomRoleHolders(ctx, id)
		if err != nil {
			return pg.Translate(err)
		}
		if held.Users > 0 || held.ServiceAccounts > 0 {
			return apperr.Conflict(fmt.Sprintf("The role %q is held by %s and %s; take it from them first.",
				id, count(held.Users, "user"), count(held.ServiceAccounts, "service account"))).
				WithDetail("users", held.Users).WithDetail("service_accounts", held.ServiceAccounts)
		}
		if _, err := q.CustomRoleDelete(ctx, id); err != nil {
			return pg.Translate(err)
		}
		return s.audit.Append(ctx, tx, audit.For(ctx, actor, audit.ActionRoleDeleted, "role", id,
			map[string]any{"permissions": old.Permissions, "description": old.Description}))
	})
}

// count is "1 user", "2 users", "no user".
func count(n int64, noun string) string {
	switch n {
	case 0:
		return "no " + noun
	case 1:
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
