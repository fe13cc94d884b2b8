package scan

import (
	"context"

	api "github.com/openwatch/openwatch/gen/api"
)

// GetScanConfig implements GET /system/scan/config (system:read).
func (h *Handlers) GetScanConfig(ctx context.Context, _ api.GetScanConfigRequestObject) (api.GetScanConfigResponseObject, error) {
	cfg, err := h.svc.ScheduleConfig(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetScanConfig200JSONResponse(toScanConfigResponse(cfg)), nil
}

// PutScanConfig implements PUT /system/scan/config (system:config:write).
func (h *Handlers) PutScanConfig(ctx context.Context, req api.PutScanConfigRequestObject) (api.PutScanConfigResponseObject, error) {
	cfg, err := h.svc.SetScheduleConfig(ctx, fromScanConfig(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.PutScanConfig200JSONResponse(toScanConfigResponse(cfg)), nil
}

// GetScanSchedulePreview implements GET /system/scan/schedule-preview (scan:read).
func (h *Handlers) GetScanSchedulePreview(ctx context.Context, req api.GetScanSchedulePreviewRequestObject) (api.GetScanSchedulePreviewResponseObject, error) {
	p, err := h.svc.Preview(ctx, fleetLimit(req.Params.Limit))
	if err != nil {
		return nil, err
	}
	return api.GetScanSchedulePreview200JSONResponse(toSchedulePreview(p)), nil
}
