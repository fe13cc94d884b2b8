package alert

import (
	"context"

	api "github.com/openwatch/openwatch/gen/api"
)

// GetAlertsConfig implements GET /system/alerts/config (system:read).
func (h *Handlers) GetAlertsConfig(ctx context.Context, _ api.GetAlertsConfigRequestObject) (api.GetAlertsConfigResponseObject, error) {
	c, defaults, err := h.svc.Config(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetAlertsConfig200JSONResponse{Config: toAPIConfig(c), Defaults: toAPIConfig(defaults)}, nil
}

// PutAlertsConfig implements PUT /system/alerts/config (system:config:write).
func (h *Handlers) PutAlertsConfig(ctx context.Context, req api.PutAlertsConfigRequestObject) (api.PutAlertsConfigResponseObject, error) {
	c, err := h.svc.SetConfig(ctx, fromAPIConfig(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.PutAlertsConfig200JSONResponse{Config: toAPIConfig(c), Defaults: toAPIConfig(h.svc.defaults)}, nil
}
