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
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
)

// Service lists and creates roles.
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
	perms := make([]string, 0, len(in.Permissions))
	for _, p := range in.Permissions {
		if !authz.IsPermission(p) {
			return authz.Role{}, apperr.Invalid("permissions", fmt.Sprintf("permission %q does not exist", p))
		}
		if !slices.Contains(perms, p) {
			perms = append(perms, p)
		}
	}
	sort.Strings(perms)
	if authz.IsBuiltInRole(in.ID) {
		return authz.Role{}, apperr.Conflict(fmt.Sprintf("%q is a built-in role.", in.ID)).WithDetail("field", "id")
	}
	if missing := authz.Missing(actor.Permissions, perms); len(missing) > 0 {
		return authz.Role{}, apperr.Newf(apperr.CodePermissionDenied,
			"You cannot create a role with permissions you do not have (%s).", strings.Join(missing, ", ")).
			WithDetail("required_permission", missing[0]).WithDetail("missing_permissions", missing)
	}
	var r dbq.CustomRole
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
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
