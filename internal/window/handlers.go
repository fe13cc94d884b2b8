package window

import (
	"context"

	"github.com/google/uuid"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
)

// Handlers implements the maintenance-window operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the maintenance-window handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// ListHostMaintenanceWindows implements GET /hosts/{host_id}/maintenance-windows (host:read).
func (h *Handlers) ListHostMaintenanceWindows(ctx context.Context, req api.ListHostMaintenanceWindowsRequestObject) (api.ListHostMaintenanceWindowsResponseObject, error) {
	rows, err := h.svc.ListForHost(ctx, req.HostId)
	if err != nil {
		return nil, err
	}
	return api.ListHostMaintenanceWindows200JSONResponse(toAPIWindows(rows)), nil
}

// CreateHostMaintenanceWindow implements POST /hosts/{host_id}/maintenance-windows (host:write).
func (h *Handlers) CreateHostMaintenanceWindow(ctx context.Context, req api.CreateHostMaintenanceWindowRequestObject) (api.CreateHostMaintenanceWindowResponseObject, error) {
	sp, err := fromCreate(*req.Body)
	if err != nil {
		return nil, err
	}
	id := uuid.UUID(req.HostId)
	w, err := h.svc.Create(ctx, authz.PrincipalFrom(ctx), Owner{HostID: &id}, sp)
	if err != nil {
		return nil, err
	}
	return api.CreateHostMaintenanceWindow201JSONResponse(toAPIWindow(w)), nil
}

// PreviewHostMaintenanceWindows implements GET /hosts/{host_id}/maintenance-windows:preview (host:read).
func (h *Handlers) PreviewHostMaintenanceWindows(ctx context.Context, req api.PreviewHostMaintenanceWindowsRequestObject) (api.PreviewHostMaintenanceWindowsResponseObject, error) {
	ss, open, err := h.svc.PreviewHost(ctx, req.HostId, count(req.Params.Count))
	if err != nil {
		return nil, err
	}
	return api.PreviewHostMaintenanceWindows200JSONResponse(toAPIPreview(ss, open)), nil
}

// ListGroupMaintenanceWindows implements GET /groups/{id}/maintenance-windows (host:read).
func (h *Handlers) ListGroupMaintenanceWindows(ctx context.Context, req api.ListGroupMaintenanceWindowsRequestObject) (api.ListGroupMaintenanceWindowsResponseObject, error) {
	rows, err := h.svc.ListForGroup(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.ListGroupMaintenanceWindows200JSONResponse(toAPIWindows(rows)), nil
}

// CreateGroupMaintenanceWindow implements POST /groups/{id}/maintenance-windows (host:write).
func (h *Handlers) CreateGroupMaintenanceWindow(ctx context.Context, req api.CreateGroupMaintenanceWindowRequestObject) (api.CreateGroupMaintenanceWindowResponseObject, error) {
	sp, err := fromCreate(*req.Body)
	if err != nil {
		return nil, err
	}
	id := uuid.UUID(req.Id)
	w, err := h.svc.Create(ctx, authz.PrincipalFrom(ctx), Owner{GroupID: &id}, sp)
	if err != nil {
		return nil, err
	}
	return api.CreateGroupMaintenanceWindow201JSONResponse(toAPIWindow(w)), nil
}

// GetMaintenanceWindow implements GET /maintenance-windows/{id} (host:read).
func (h *Handlers) GetMaintenanceWindow(ctx context.Context, req api.GetMaintenanceWindowRequestObject) (api.GetMaintenanceWindowResponseObject, error) {
	w, err := h.svc.Get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetMaintenanceWindow200JSONResponse(toAPIWindow(w)), nil
}

// UpdateMaintenanceWindow implements PATCH /maintenance-windows/{id} (host:write).
func (h *Handlers) UpdateMaintenanceWindow(ctx context.Context, req api.UpdateMaintenanceWindowRequestObject) (api.UpdateMaintenanceWindowResponseObject, error) {
	p, err := fromUpdate(*req.Body)
	if err != nil {
		return nil, err
	}
	w, err := h.svc.Update(ctx, authz.PrincipalFrom(ctx), req.Id, p)
	if err != nil {
		return nil, err
	}
	return api.UpdateMaintenanceWindow200JSONResponse(toAPIWindow(w)), nil
}

// DeleteMaintenanceWindow implements DELETE /maintenance-windows/{id} (host:write).
func (h *Handlers) DeleteMaintenanceWindow(ctx context.Context, req api.DeleteMaintenanceWindowRequestObject) (api.DeleteMaintenanceWindowResponseObject, error) {
	if err := h.svc.Delete(ctx, authz.PrincipalFrom(ctx), req.Id); err != nil {
		return nil, err
	}
	return api.DeleteMaintenanceWindow204Response{}, nil
}

// PreviewMaintenanceWindow implements GET /maintenance-windows/{id}:preview (host:read).
func (h *Handlers) PreviewMaintenanceWindow(ctx context.Context, req api.PreviewMaintenanceWindowRequestObject) (api.PreviewMaintenanceWindowResponseObject, error) {
	ss, open, err := h.svc.Preview(ctx, req.Id, count(req.Params.Count))
	if err != nil {
		return nil, err
	}
	return api.PreviewMaintenanceWindow200JSONResponse(toAPIPreview(ss, open)), nil
}

func count(c *api.OpeningCount) int {
	if c == nil {
		return DefaultPreviewCount
	}
	return int(*c)
}
