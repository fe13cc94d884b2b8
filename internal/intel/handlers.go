package intel

import (
	"context"

	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
)

// Handlers implements the host system info ("discovery" in the API) and intelligence
// operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// GetHostSystemInfo implements GET /hosts/{id}/system-info (host:read).
func (h *Handlers) GetHostSystemInfo(ctx context.Context, req api.GetHostSystemInfoRequestObject) (api.GetHostSystemInfoResponseObject, error) {
	row, err := h.svc.SystemInfo(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetHostSystemInfo200JSONResponse(systemInfo(row)), nil
}

// RunHostDiscovery implements POST /hosts/{id}/discovery:run (host:write).
func (h *Handlers) RunHostDiscovery(ctx context.Context, req api.RunHostDiscoveryRequestObject) (api.RunHostDiscoveryResponseObject, error) {
	info, err := h.svc.CollectSystemInfo(ctx, authz.PrincipalFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return api.RunHostDiscovery200JSONResponse(systemInfo(info)), nil
}

// CollectHostIntelligence implements POST /hosts/{id}/intelligence:collect (host:write).
func (h *Handlers) CollectHostIntelligence(ctx context.Context, req api.CollectHostIntelligenceRequestObject) (api.CollectHostIntelligenceResponseObject, error) {
	st, err := h.svc.Collect(ctx, authz.PrincipalFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return api.CollectHostIntelligence200JSONResponse(intelState(st)), nil
}

// ListIntelligenceEvents implements GET /intelligence/events (host:read).
func (h *Handlers) ListIntelligenceEvents(ctx context.Context, req api.ListIntelligenceEventsRequestObject) (api.ListIntelligenceEventsResponseObject, error) {
	p := req.Params
	f := EventFilter{HostID: p.HostId, EventCode: (*string)(p.EventCode), Severity: (*string)(p.Severity),
		Since: p.Since, Until: p.Until}
	page, err := cursor.Serve(ctx, cursor.ByTime{}, p.Cursor, p.Limit, cursor.Limits(api.ListIntelligenceEventsPageLimit()),
		func(ctx context.Context, r cursor.Request[cursor.TimeID]) (cursor.Page[dbq.IntelligenceEvent], error) {
			return h.svc.Events(ctx, f, r)
		}, intelEvent)
	if err != nil {
		return nil, err
	}
	return api.ListIntelligenceEvents200JSONResponse{Items: page.Items, NextCursor: page.Next}, nil
}

// GetIntelligenceState implements GET /intelligence/state/{host_id} (host:read).
func (h *Handlers) GetIntelligenceState(ctx context.Context, req api.GetIntelligenceStateRequestObject) (api.GetIntelligenceStateResponseObject, error) {
	st, err := h.svc.State(ctx, req.HostId)
	if err != nil {
		return nil, err
	}
	return api.GetIntelligenceState200JSONResponse(intelState(st)), nil
}

// GetIntelligenceConfig implements GET /system/intelligence/config (system:read).
func (h *Handlers) GetIntelligenceConfig(ctx context.Context, _ api.GetIntelligenceConfigRequestObject) (api.GetIntelligenceConfigResponseObject, error) {
	c, err := h.svc.IntelligenceConfig(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetIntelligenceConfig200JSONResponse{Config: intelConfig(c), Defaults: intelConfig(DefaultIntelligenceConfig)}, nil
}

// PutIntelligenceConfig implements PUT /system/intelligence/config (system:config:write).
func (h *Handlers) PutIntelligenceConfig(ctx context.Context, req api.PutIntelligenceConfigRequestObject) (api.PutIntelligenceConfigResponseObject, error) {
	b := req.Body
	c, err := h.svc.SetIntelligenceConfig(ctx, authz.PrincipalFrom(ctx), IntelligenceConfig{IntervalSec: b.IntervalSec,
		RateLimit: b.RateLimit, MaintenanceGlobal: b.MaintenanceGlobal})
	if err != nil {
		return nil, err
	}
	return api.PutIntelligenceConfig200JSONResponse(intelConfig(c)), nil
}

// GetDiscoveryConfig implements GET /system/discovery/config (system:read).
func (h *Handlers) GetDiscoveryConfig(ctx context.Context, _ api.GetDiscoveryConfigRequestObject) (api.GetDiscoveryConfigResponseObject, error) {
	c, err := h.svc.SystemInfoConfig(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetDiscoveryConfig200JSONResponse{Config: systemInfoConfig(c), Defaults: systemInfoConfig(DefaultSystemInfoConfig)}, nil
}

// PutDiscoveryConfig implements PUT /system/discovery/config (system:config:write). An
// absent max_cidr_hosts keeps the stored value.
func (h *Handlers) PutDiscoveryConfig(ctx context.Context, req api.PutDiscoveryConfigRequestObject) (api.PutDiscoveryConfigResponseObject, error) {
	b := req.Body
	in := SystemInfoConfig{IntervalSec: b.IntervalSec, RateLimit: b.RateLimit, DetectOnFirstContact: b.DetectOnFirstContact,
		MaintenanceGlobal: b.MaintenanceGlobal}
	if b.MaxCidrHosts != nil {
		in.MaxCIDRHosts = *b.MaxCidrHosts
	}
	c, err := h.svc.SetSystemInfoConfig(ctx, authz.PrincipalFrom(ctx), in)
	if err != nil {
		return nil, err
	}
	return api.PutDiscoveryConfig200JSONResponse(systemInfoConfig(c)), nil
}

// RunDiscoverySweep implements POST /system/discovery/sweep (system:config:write).
func (h *Handlers) RunDiscoverySweep(ctx context.Context, _ api.RunDiscoverySweepRequestObject) (api.RunDiscoverySweepResponseObject, error) {
	n, err := h.svc.Sweep(ctx, authz.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	return api.RunDiscoverySweep200JSONResponse{Enqueued: n}, nil
}
