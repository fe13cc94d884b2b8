package netscan

import (
	"context"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/host"
)

// Handlers implements the discovery operations (network scans).
type Handlers struct {
	svc *Service
}

// NewHandlers returns the handlers.
func NewHandlers(svc *Service) *Handlers {
	return &Handlers{svc: svc}
}

// StartCIDRDiscovery implements POST /discovery/cidr (host:write).
func (h *Handlers) StartCIDRDiscovery(ctx context.Context, req api.StartCIDRDiscoveryRequestObject) (api.StartCIDRDiscoveryResponseObject, error) {
	var ports []int
	if req.Body.Ports != nil {
		ports = *req.Body.Ports
	}
	scan, err := h.svc.Start(ctx, authz.PrincipalFrom(ctx), req.Body.Cidr, ports)
	if err != nil {
		return nil, err
	}
	return api.StartCIDRDiscovery202JSONResponse(scanToAPI(scan)), nil
}

// GetCIDRDiscovery implements GET /discovery/{scan_id} (host:read).
func (h *Handlers) GetCIDRDiscovery(ctx context.Context, req api.GetCIDRDiscoveryRequestObject) (api.GetCIDRDiscoveryResponseObject, error) {
	scan, err := h.svc.Get(ctx, req.ScanId)
	if err != nil {
		return nil, err
	}
	return api.GetCIDRDiscovery200JSONResponse(scanToAPI(scan)), nil
}

// RegisterDiscoveredHost implements POST /discovery/{scan_id}/hosts/{address}:register
// (host:write).
func (h *Handlers) RegisterDiscoveredHost(ctx context.Context, req api.RegisterDiscoveredHostRequestObject) (api.RegisterDiscoveredHostResponseObject, error) {
	var in RegisterInput
	if b := req.Body; b != nil {
		in = RegisterInput{Hostname: deref(b.Hostname), DisplayName: deref(b.DisplayName), Environment: deref(b.Environment),
			GroupID: b.GroupId, Username: deref(b.Username)}
		if b.Tags != nil {
			in.Tags = *b.Tags
		}
	}
	created, err := h.svc.Register(ctx, authz.PrincipalFrom(ctx), req.ScanId, req.Address, in)
	if err != nil {
		return nil, err
	}
	return api.RegisterDiscoveredHost201JSONResponse(host.Response(created)), nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
