package host

import (
	"context"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
)

// Handlers implements the host operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the host handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// ListHosts implements GET /hosts (host:read).
func (h *Handlers) ListHosts(ctx context.Context, req api.ListHostsRequestObject) (api.ListHostsResponseObject, error) {
	p := req.Params
	rows, next, err := h.svc.List(ctx, Filter{Environment: p.Environment, Tag: p.Tag, GroupID: p.GroupId, Q: p.Q,
		Maintenance: p.Maintenance, Limit: p.Limit, Cursor: p.Cursor})
	if err != nil {
		return nil, err
	}
	out := api.ListHosts200JSONResponse{Hosts: make([]api.HostListItem, 0, len(rows)), NextCursor: next}
	for _, r := range rows {
		out.Hosts = append(out.Hosts, listItem(r))
	}
	return out, nil
}

// CreateHost implements POST /hosts (host:write).
func (h *Handlers) CreateHost(ctx context.Context, req api.CreateHostRequestObject) (api.CreateHostResponseObject, error) {
	b := req.Body
	in := CreateInput{Hostname: b.Hostname, IPAddress: b.IpAddress, GroupID: b.GroupId}
	if b.Port != nil {
		in.Port = *b.Port
	}
	if b.DisplayName != nil {
		in.DisplayName = *b.DisplayName
	}
	if b.Description != nil {
		in.Description = *b.Description
	}
	if b.Environment != nil {
		in.Environment = *b.Environment
	}
	if b.Tags != nil {
		in.Tags = *b.Tags
	}
	if b.Username != nil {
		in.Username = *b.Username
	}
	host, err := h.svc.Create(ctx, authz.PrincipalFrom(ctx), in)
	if err != nil {
		return nil, err
	}
	return api.CreateHost201JSONResponse(toAPI(host)), nil
}

// GetHost implements GET /hosts/{id} (host:read).
func (h *Handlers) GetHost(ctx context.Context, req api.GetHostRequestObject) (api.GetHostResponseObject, error) {
	host, err := h.svc.Get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetHost200JSONResponse{Host: toAPI(host), ComplianceSummary: api.HostComplianceSummary{}}, nil
}

// UpdateHost implements PATCH /hosts/{id} (host:write).
func (h *Handlers) UpdateHost(ctx context.Context, req api.UpdateHostRequestObject) (api.UpdateHostResponseObject, error) {
	b := req.Body
	host, err := h.svc.Update(ctx, authz.PrincipalFrom(ctx), req.Id, UpdateInput{
		IPAddress: b.IpAddress, Port: b.Port, DisplayName: b.DisplayName, Description: b.Description,
		Environment: b.Environment, Tags: b.Tags, GroupID: b.GroupId, Username: b.Username,
	})
	if err != nil {
		return nil, err
	}
	return api.UpdateHost200JSONResponse(toAPI(host)), nil
}

// DeleteHost implements DELETE /hosts/{id} (host:delete).
func (h *Handlers) DeleteHost(ctx context.Context, req api.DeleteHostRequestObject) (api.DeleteHostResponseObject, error) {
	if err := h.svc.Delete(ctx, authz.PrincipalFrom(ctx), req.Id); err != nil {
		return nil, err
	}
	return api.DeleteHost204Response{}, nil
}

// SetHostMaintenance implements POST /hosts/{host_id}/maintenance (host:write).
func (h *Handlers) SetHostMaintenance(ctx context.Context, req api.SetHostMaintenanceRequestObject) (api.SetHostMaintenanceResponseObject, error) {
	host, err := h.svc.SetMaintenance(ctx, authz.PrincipalFrom(ctx), req.HostId, req.Body.Enabled)
	if err != nil {
		return nil, err
	}
	return api.SetHostMaintenance200JSONResponse(toAPI(host)), nil
}

// PutHostMaintenance implements PUT /hosts/{host_id}/maintenance, the same as POST.
func (h *Handlers) PutHostMaintenance(ctx context.Context, req api.PutHostMaintenanceRequestObject) (api.PutHostMaintenanceResponseObject, error) {
	host, err := h.svc.SetMaintenance(ctx, authz.PrincipalFrom(ctx), req.HostId, req.Body.Enabled)
	if err != nil {
		return nil, err
	}
	return api.PutHostMaintenance200JSONResponse(toAPI(host)), nil
}
