package liveness

import (
	"context"

	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
)

// Handlers implements the liveness and connectivity operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the handlers over svc.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// ListHostMonitoringHistory implements GET /hosts/{host_id}/monitoring/history (host:read).
func (h *Handlers) ListHostMonitoringHistory(ctx context.Context, req api.ListHostMonitoringHistoryRequestObject) (api.ListHostMonitoringHistoryResponseObject, error) {
	p := req.Params
	page, err := cursor.Serve(ctx, cursor.BySeq{}, p.Cursor, p.Limit, cursor.Limits(api.ListHostMonitoringHistoryPageLimit()),
		func(ctx context.Context, r cursor.Request[int64]) (cursor.Page[dbq.HostMonitoringHistory], error) {
			return h.svc.History(ctx, req.HostId, r)
		}, historyEntry)
	if err != nil {
		return nil, err
	}
	return api.ListHostMonitoringHistory200JSONResponse{HostId: req.HostId, Entries: page.Items, NextCursor: page.Next}, nil
}

// CheckHostConnectivity implements POST /hosts/{id}/connectivity:check (host:write).
func (h *Handlers) CheckHostConnectivity(ctx context.Context, req api.CheckHostConnectivityRequestObject) (api.CheckHostConnectivityResponseObject, error) {
	res, err := h.svc.Check(ctx, authz.PrincipalFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return api.CheckHostConnectivity200JSONResponse(checkResult(res)), nil
}

// GetFleetLiveness implements GET /fleet/liveness (system:read).
func (h *Handlers) GetFleetLiveness(ctx context.Context, _ api.GetFleetLivenessRequestObject) (api.GetFleetLivenessResponseObject, error) {
	r, err := h.svc.FleetReachability(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetFleetLiveness200JSONResponse{Reachable: r.Reachable, Unreachable: r.Unreachable, Unknown: r.Unknown, NeverProbed: r.NeverProbed}, nil
}

// GetFleetConnectivityBreakdown implements GET /fleet/connectivity/breakdown (system:read).
func (h *Handlers) GetFleetConnectivityBreakdown(ctx context.Context, _ api.GetFleetConnectivityBreakdownRequestObject) (api.GetFleetConnectivityBreakdownResponseObject, error) {
	r, err := h.svc.FleetStates(ctx)
	if err != nil {
		return nil, err
	}
	// Every probed host has a known state, so unknown hosts are the never-probed ones.
	var unknown int64
	return api.GetFleetConnectivityBreakdown200JSONResponse{Online: r.Online, Degraded: r.Degraded, Critical: r.Critical,
		Down: r.Down, Maintenance: &r.Maintenance, Unknown: &unknown, NeverProbed: r.NeverProbed}, nil
}

// GetConnectivityConfig implements GET /system/connectivity/config (system:read).
func (h *Handlers) GetConnectivityConfig(ctx context.Context, _ api.GetConnectivityConfigRequestObject) (api.GetConnectivityConfigResponseObject, error) {
	c, err := h.svc.Config(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetConnectivityConfig200JSONResponse{Config: configToAPI(c), Defaults: configToAPI(DefaultConfig)}, nil
}

// PutConnectivityConfig implements PUT /system/connectivity/config (system:write).
func (h *Handlers) PutConnectivityConfig(ctx context.Context, req api.PutConnectivityConfigRequestObject) (api.PutConnectivityConfigResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.Invalid("body", "a request body is required")
	}
	c, err := h.svc.SetConfig(ctx, authz.PrincipalFrom(ctx), configFromAPI(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.PutConnectivityConfig200JSONResponse(configToAPI(c)), nil
}

// GetConnectivityStatus implements GET /system/connectivity/status (system:read).
func (h *Handlers) GetConnectivityStatus(ctx context.Context, _ api.GetConnectivityStatusRequestObject) (api.GetConnectivityStatusResponseObject, error) {
	s, err := h.svc.Status(ctx)
	if err != nil {
		return nil, err
	}
	c := s.Counters
	return api.GetConnectivityStatus200JSONResponse{
		ProbeCount: c.ProbeCount, ProbeSuccessCount: c.ProbeSuccessCount, ProbeFailureCount: c.ProbeFailureCount,
		StateTransitionCount: c.StateTransitionCount, LastProbeAt: c.LastProbeAt, LastTickAt: c.LastTickAt,
		MaintenanceActive: s.MaintenanceActive, WorkerRunning: s.WorkerRunning, QueueDepth: s.QueueDepth, HostsDue: s.HostsDue,
	}, nil
}
