package host

import (
	"context"

	"github.com/google/uuid"

	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
)

// ListGroups implements GET /groups (host:read).
func (h *Handlers) ListGroups(ctx context.Context, req api.ListGroupsRequestObject) (api.ListGroupsResponseObject, error) {
	p := req.Params
	page, err := cursor.Serve(ctx, cursor.ByID{}, p.Cursor, p.Limit, cursor.Limits(api.ListGroupsPageLimit()),
		h.svc.ListGroups, func(g dbq.GroupListRow) api.HostGroup { return groupToAPI(Group(g)) })
	if err != nil {
		return nil, err
	}
	return api.ListGroups200JSONResponse{Groups: page.Items, NextCursor: page.Next}, nil
}

// CreateGroup implements POST /groups (host:write).
func (h *Handlers) CreateGroup(ctx context.Context, req api.CreateGroupRequestObject) (api.CreateGroupResponseObject, error) {
	desc := ""
	if req.Body.Description != nil {
		desc = *req.Body.Description
	}
	g, err := h.svc.CreateGroup(ctx, authz.PrincipalFrom(ctx), req.Body.Name, desc)
	if err != nil {
		return nil, err
	}
	return api.CreateGroup201JSONResponse(groupToAPI(g)), nil
}

// GetGroup implements GET /groups/{id} (host:read).
func (h *Handlers) GetGroup(ctx context.Context, req api.GetGroupRequestObject) (api.GetGroupResponseObject, error) {
	g, err := h.svc.GetGroup(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetGroup200JSONResponse(groupToAPI(g)), nil
}

// UpdateGroup implements PATCH /groups/{id} (host:write).
func (h *Handlers) UpdateGroup(ctx context.Context, req api.UpdateGroupRequestObject) (api.UpdateGroupResponseObject, error) {
	g, err := h.svc.UpdateGroup(ctx, authz.PrincipalFrom(ctx), req.Id, req.Body.Name, req.Body.Description)
	if err != nil {
		return nil, err
	}
	return api.UpdateGroup200JSONResponse(groupToAPI(g)), nil
}

// DeleteGroup implements DELETE /groups/{id} (host:delete).
func (h *Handlers) DeleteGroup(ctx context.Context, req api.DeleteGroupRequestObject) (api.DeleteGroupResponseObject, error) {
	if err := h.svc.DeleteGroup(ctx, authz.PrincipalFrom(ctx), req.Id); err != nil {
		return nil, err
	}
	return api.DeleteGroup204Response{}, nil
}

// ListGroupMembers implements GET /groups/{id}/members (host:read).
func (h *Handlers) ListGroupMembers(ctx context.Context, req api.ListGroupMembersRequestObject) (api.ListGroupMembersResponseObject, error) {
	p := req.Params
	page, err := cursor.Serve(ctx, cursor.ByID{}, p.Cursor, p.Limit, cursor.Limits(api.ListGroupMembersPageLimit()),
		func(ctx context.Context, r cursor.Request[uuid.UUID]) (cursor.Page[dbq.HostListRow], error) {
			return h.svc.GroupMembers(ctx, req.Id, r)
		}, listItem)
	if err != nil {
		return nil, err
	}
	return api.ListGroupMembers200JSONResponse{Hosts: page.Items, NextCursor: page.Next}, nil
}

// AddGroupMember implements PUT /groups/{id}/members/{host_id} (host:write).
func (h *Handlers) AddGroupMember(ctx context.Context, req api.AddGroupMemberRequestObject) (api.AddGroupMemberResponseObject, error) {
	if err := h.svc.SetMember(ctx, authz.PrincipalFrom(ctx), req.Id, req.HostId, true); err != nil {
		return nil, err
	}
	return api.AddGroupMember204Response{}, nil
}

// RemoveGroupMember implements DELETE /groups/{id}/members/{host_id} (host:write).
func (h *Handlers) RemoveGroupMember(ctx context.Context, req api.RemoveGroupMemberRequestObject) (api.RemoveGroupMemberResponseObject, error) {
	if err := h.svc.SetMember(ctx, authz.PrincipalFrom(ctx), req.Id, req.HostId, false); err != nil {
		return nil, err
	}
	return api.RemoveGroupMember204Response{}, nil
}

// SetGroupMaintenance implements POST /groups/{id}:maintenance (host:write).
func (h *Handlers) SetGroupMaintenance(ctx context.Context, req api.SetGroupMaintenanceRequestObject) (api.SetGroupMaintenanceResponseObject, error) {
	g, err := h.svc.SetGroupMaintenance(ctx, authz.PrincipalFrom(ctx), req.Id, req.Body.Enabled)
	if err != nil {
		return nil, err
	}
	return api.SetGroupMaintenance200JSONResponse(groupToAPI(g)), nil
}
