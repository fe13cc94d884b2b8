package user

import (
	"context"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
)

// Handlers implements the user operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the user handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// ListUsers implements GET /users (user:read).
func (h *Handlers) ListUsers(ctx context.Context, req api.ListUsersRequestObject) (api.ListUsersResponseObject, error) {
	p := req.Params
	page, err := cursor.Serve(ctx, cursor.ByID{}, p.Cursor, p.Limit, cursor.Limits(api.ListUsersPageLimit()),
		h.svc.List, toAPI)
	if err != nil {
		return nil, err
	}
	return api.ListUsers200JSONResponse{Users: page.Items, NextCursor: page.Next}, nil
}

// CreateUser implements POST /users (user:write).
func (h *Handlers) CreateUser(ctx context.Context, req api.CreateUserRequestObject) (api.CreateUserResponseObject, error) {
	in := CreateInput{Username: req.Body.Username, Email: string(req.Body.Email), Password: req.Body.Password}
	if req.Body.Role != nil {
		in.Role = *req.Body.Role
	}
	u, err := h.svc.Create(ctx, authz.PrincipalFrom(ctx), in)
	if err != nil {
		return nil, err
	}
	return api.CreateUser201JSONResponse(toAPI(u)), nil
}

// GetUser implements GET /users/{id} (user:read).
func (h *Handlers) GetUser(ctx context.Context, req api.GetUserRequestObject) (api.GetUserResponseObject, error) {
	u, err := h.svc.Get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetUser200JSONResponse(toAPI(u)), nil
}

// UpdateUser implements PATCH /users/{id} (user:write).
func (h *Handlers) UpdateUser(ctx context.Context, req api.UpdateUserRequestObject) (api.UpdateUserResponseObject, error) {
	in := UpdateInput{Username: req.Body.Username}
	if req.Body.Email != nil {
		e := string(*req.Body.Email)
		in.Email = &e
	}
	u, err := h.svc.Update(ctx, authz.PrincipalFrom(ctx), req.Id, in)
	if err != nil {
		return nil, err
	}
	return api.UpdateUser200JSONResponse(toAPI(u)), nil
}

// DeleteUser implements DELETE /users/{id} (user:delete).
func (h *Handlers) DeleteUser(ctx context.Context, req api.DeleteUserRequestObject) (api.DeleteUserResponseObject, error) {
	if err := h.svc.Delete(ctx, authz.PrincipalFrom(ctx), req.Id); err != nil {
		return nil, err
	}
	return api.DeleteUser204Response{}, nil
}

// DisableUser implements POST /users/{id}:disable (user:write).
func (h *Handlers) DisableUser(ctx context.Context, req api.DisableUserRequestObject) (api.DisableUserResponseObject, error) {
	u, err := h.svc.SetDisabled(ctx, authz.PrincipalFrom(ctx), req.Id, true)
	if err != nil {
		return nil, err
	}
	return api.DisableUser200JSONResponse(toAPI(u)), nil
}

// EnableUser implements POST /users/{id}:enable (user:write).
func (h *Handlers) EnableUser(ctx context.Context, req api.EnableUserRequestObject) (api.EnableUserResponseObject, error) {
	u, err := h.svc.SetDisabled(ctx, authz.PrincipalFrom(ctx), req.Id, false)
	if err != nil {
		return nil, err
	}
	return api.EnableUser200JSONResponse(toAPI(u)), nil
}

// RevokeUserSessions implements POST /users/{id}:revoke-sessions (user:write).
func (h *Handlers) RevokeUserSessions(ctx context.Context, req api.RevokeUserSessionsRequestObject) (api.RevokeUserSessionsResponseObject, error) {
	n, err := h.svc.RevokeSessions(ctx, authz.PrincipalFrom(ctx), req.Id, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return api.RevokeUserSessions200JSONResponse{SessionsRevoked: n}, nil
}

// ResetUserMFA implements POST /users/{id}:reset-mfa (user:write).
func (h *Handlers) ResetUserMFA(ctx context.Context, req api.ResetUserMFARequestObject) (api.ResetUserMFAResponseObject, error) {
	u, err := h.svc.ResetMFA(ctx, authz.PrincipalFrom(ctx), req.Id, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return api.ResetUserMFA200JSONResponse(toAPI(u)), nil
}

// ResetUserPassword implements POST /users/{id}/password:reset (user:write).
func (h *Handlers) ResetUserPassword(ctx context.Context, req api.ResetUserPasswordRequestObject) (api.ResetUserPasswordResponseObject, error) {
	if err := h.svc.ResetPassword(ctx, authz.PrincipalFrom(ctx), req.Id, req.Body.NewPassword); err != nil {
		return nil, err
	}
	return api.ResetUserPassword204Response{}, nil
}

// AssignUserRole implements POST /users/{id}/roles:assign (role:assign).
func (h *Handlers) AssignUserRole(ctx context.Context, req api.AssignUserRoleRequestObject) (api.AssignUserRoleResponseObject, error) {
	if err := h.svc.AssignRole(ctx, authz.PrincipalFrom(ctx), req.Id, req.Body.RoleId); err != nil {
		return nil, err
	}
	return api.AssignUserRole204Response{}, nil
}

// UnassignUserRole implements POST /users/{id}/roles:unassign (role:assign).
func (h *Handlers) UnassignUserRole(ctx context.Context, req api.UnassignUserRoleRequestObject) (api.UnassignUserRoleResponseObject, error) {
	if err := h.svc.UnassignRole(ctx, authz.PrincipalFrom(ctx), req.Id, req.Body.RoleId); err != nil {
		return nil, err
	}
	return api.UnassignUserRole204Response{}, nil
}
