package retention

import (
	"context"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
)

// shownRuns is how many runs the API shows.
const shownRuns = 10

// Handlers implements the retention policy operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// GetRetentionPolicy implements GET /admin/retention (admin:retention_policy).
func (h *Handlers) GetRetentionPolicy(ctx context.Context, _ api.GetRetentionPolicyRequestObject) (api.GetRetentionPolicyResponseObject, error) {
	out, err := h.settings(ctx, nil)
	if err != nil {
		return nil, err
	}
	return api.GetRetentionPolicy200JSONResponse(out), nil
}

// UpdateRetentionPolicy implements PUT /admin/retention (admin:retention_policy).
func (h *Handlers) UpdateRetentionPolicy(ctx context.Context, req api.UpdateRetentionPolicyRequestObject) (api.UpdateRetentionPolicyResponseObject, error) {
	b := req.Body
	p, err := h.svc.UpdatePolicy(ctx, authz.PrincipalFrom(ctx), PolicyInput{EventsDays: b.EventsDays,
		ScanEvidenceDays: b.ScanEvidenceDays, MonitoringDays: b.MonitoringDays, JobsDays: b.JobsDays,
		ChangeJobsDays: b.ChangeJobsDays, ReportsDays: b.ReportsDays, NotificationDeliveriesDays: b.NotificationDeliveriesDays})
	if err != nil {
		return nil, err
	}
	out, err := h.settings(ctx, &p)
	if err != nil {
		return nil, err
	}
	return api.UpdateRetentionPolicy200JSONResponse(out), nil
}
