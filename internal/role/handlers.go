package role

import (
	"context"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
)

// Handlers implements the role operations and the permissions registry.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the role handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// ListRoles implements GET /roles (role:read).
func (h *Handlers) ListRoles(ctx context.Context, _ api.ListRolesRequestObject) (api.ListRolesResponseObject, error) {
	roles, err := h.svc.List(ctx)
	if err != nil {
		return nil, err
	}
	return api.ListRoles200JSONResponse{Roles: toAPIRoles(roles)}, nil
}

// CreateRole implements POST /roles:create (role:write).
func (h *Handlers) CreateRole(ctx context.Context, req api.CreateRoleRequestObject) (api.CreateRoleResponseObject, error) {
	r, err := h.svc.Create(ctx, authz.PrincipalFrom(ctx), CreateInput{ID: req.Body.Id, Description: req.Body.Description, Permissions: req.Body.Permissions})
	if err != nil {
		return nil, err
	}
	return api.CreateRole201JSONResponse(toAPIRole(r)), nil
}

// GetPermissionsRegistry implements GET /auth/permissions:registry (account:self).
func (h *Handlers) GetPermissionsRegistry(ctx context.Context, _ api.GetPermissionsRegistryRequestObject) (api.GetPermissionsRegistryResponseObject, error) {
	roles, err := h.svc.List(ctx)
	if err != nil {
		return nil, err
	}
	out := api.GetPermissionsRegistry200JSONResponse{Roles: toAPIRoles(roles)}
	for _, c := range authz.Categories() {
		out.Categories = append(out.Categories, api.CategoryEntry{Description: c.Description, Id: c.ID})
	}
	for _, p := range authz.Permissions() {
		e := api.PermissionEntry{Category: p.Category, Dangerous: p.Dangerous, Description: p.Description, Id: p.ID}
		if p.LicenseGated != "" {
			gated := p.LicenseGated
			e.LicenseGated = &gated
		}
		out.Permissions = append(out.Permissions, e)
	}
	return out, nil
}
