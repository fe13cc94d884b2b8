package scan

import (
	"context"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/cursor"
)

// GetHostCompliance implements GET /hosts/{id}/compliance (compliance:read).
func (h *Handlers) GetHostCompliance(ctx context.Context, req api.GetHostComplianceRequestObject) (api.GetHostComplianceResponseObject, error) {
	p := req.Params
	page, err := cursor.Parse(cursor.JSON[string]{}, p.Cursor, p.Limit, cursor.Limits(api.GetHostCompliancePageLimit()))
	if err != nil {
		return nil, err
	}
	f := HostResultFilter{Framework: p.Framework, AsOf: p.AsOf}
	if p.Status != nil {
		f.Status = string(*p.Status)
	}
	if p.Severity != nil {
		f.Severity = string(*p.Severity)
	}
	res, err := h.svc.HostResults(ctx, req.Id, f, page)
	if err != nil {
		return nil, err
	}
	return api.GetHostCompliance200JSONResponse(toHostCompliance(req.Id, res)), nil
}

// GetHostComplianceTrend implements GET /hosts/{id}/compliance/trend (compliance:read).
func (h *Handlers) GetHostComplianceTrend(ctx context.Context, req api.GetHostComplianceTrendRequestObject) (api.GetHostComplianceTrendResponseObject, error) {
	p := req.Params
	tr, err := h.svc.HostTrend(ctx, req.Id, p.Framework, TrendRange{Since: p.Since, Until: p.Until, Interval: deref((*string)(p.Interval))})
	if err != nil {
		return nil, err
	}
	return api.GetHostComplianceTrend200JSONResponse(toTrend(tr)), nil
}

// GetFleetComplianceTrend implements GET /fleet/compliance/trend (compliance:read).
func (h *Handlers) GetFleetComplianceTrend(ctx context.Context, req api.GetFleetComplianceTrendRequestObject) (api.GetFleetComplianceTrendResponseObject, error) {
	p := req.Params
	tr, err := h.svc.FleetTrend(ctx, p.Framework, TrendRange{Since: p.Since, Until: p.Until, Interval: deref((*string)(p.Interval))})
	if err != nil {
		return nil, err
	}
	return api.GetFleetComplianceTrend200JSONResponse(toTrend(tr)), nil
}
