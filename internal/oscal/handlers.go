package oscal

import (
	"context"
	"encoding/json"

	api "github.com/openwatch/openwatch/gen/api"
)

// Handlers implements the OSCAL export operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// GetScanOscalResults implements GET /scans/{id}/oscal (scan:read).
func (h *Handlers) GetScanOscalResults(ctx context.Context, req api.GetScanOscalResultsRequestObject) (api.GetScanOscalResultsResponseObject, error) {
	b, err := h.svc.ScanResults(ctx, req.Id, "")
	if err != nil {
		return nil, err
	}
	return api.GetScanOscalResults200JSONResponse{RawMessage: json.RawMessage(b)}, nil
}

// GetScanOscalPlan implements GET /scans/{id}/oscal/assessment-plan (scan:read).
func (h *Handlers) GetScanOscalPlan(ctx context.Context, req api.GetScanOscalPlanRequestObject) (api.GetScanOscalPlanResponseObject, error) {
	b, err := h.svc.ScanPlan(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetScanOscalPlan200JSONResponse{RawMessage: json.RawMessage(b)}, nil
}

// GetScanRuleOscalResults implements GET /scans/{id}/rules/{ruleId}/oscal (scan:read).
func (h *Handlers) GetScanRuleOscalResults(ctx context.Context, req api.GetScanRuleOscalResultsRequestObject) (api.GetScanRuleOscalResultsResponseObject, error) {
	b, err := h.svc.ScanResults(ctx, req.Id, req.RuleId)
	if err != nil {
		return nil, err
	}
	return api.GetScanRuleOscalResults200JSONResponse{RawMessage: json.RawMessage(b)}, nil
}
