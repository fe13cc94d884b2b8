package role

import (
	"context"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
)

// Handlers implements the role operations and the permissions registry.
type Handlers struct {
	svc   *Service
	gates map[string]string
}

// NewHandlers returns the role handlers; gates maps each license-gated permission to the
// license feature it needs (authz.Operations.LicenseGates, read from the spec).
func NewHandlers(svc *Service, gates map[string]string) *Handlers {
	return &Handlers{svc: svc, gates: gates}
}

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

// UpdateRole implements PATCH /roles/{id} (role:write).
func (h *Handlers) UpdateRole(ctx context.Context, req api.UpdateRoleRequestObject) (api.UpdateRoleResponseObject, error) {
	r, err := h.svc.Update(ctx, authz.PrincipalFrom(ctx), req.Id, UpdateInput{Description: req.Body.Description, Permissions: req.Body.Permissions})
	if err != nil {
		return nil, err
	}
	return api.UpdateRole200JSONResponse(toAPIRole(r)), nil
}

// DeleteRole implements DELETE /roles/{id} (role:write).
func (h *Handlers) DeleteRole(ctx context.Context, req api.DeleteRoleRequestObject) (api.DeleteRoleResponseObject, error) {
	if err := h.svc.Delete(ctx, authz.PrincipalFrom(ctx), req.Id); err != nil {
		return nil, err
	}
	return api.DeleteRole204Response{}, nil
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
		if f, ok := h.gates[p.ID]; ok {
			e.LicenseGated = &f
		}
		out.Permissions = append(out.Permissions, e)
	}
	return out, nil
}
