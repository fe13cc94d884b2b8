package alert

import (
	"context"

	"github.com/google/uuid"

	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
)

// Handlers implements the alert operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the alert handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// ListAlerts implements GET /alerts (alert:read).
func (h *Handlers) ListAlerts(ctx context.Context, req api.ListAlertsRequestObject) (api.ListAlertsResponseObject, error) {
	p := req.Params
	f := Filter{HostID: p.HostId, Since: p.Since, Until: p.Until}
	if p.State != nil {
		s := string(*p.State)
		f.State = &s
	}
	if p.Severity != nil {
		s := string(*p.Severity)
		f.Severity = &s
	}
	page, err := cursor.Serve(ctx, cursor.JSON[uuid.UUID]{}, p.Cursor, p.Limit, cursor.Limits(api.ListAlertsPageLimit()),
		func(ctx context.Context, r cursor.Request[uuid.UUID]) (cursor.Page[dbq.Alert], error) {
			return h.svc.List(ctx, f, r)
		}, toAPIAlert)
	if err != nil {
		return nil, err
	}
	return api.ListAlerts200JSONResponse{Items: page.Items, NextCursor: page.Next}, nil
}

// GetAlert implements GET /alerts/{id} (alert:read).
func (h *Handlers) GetAlert(ctx context.Context, req api.GetAlertRequestObject) (api.GetAlertResponseObject, error) {
	a, err := h.svc.Get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetAlert200JSONResponse(toAPIAlert(a)), nil
}

func input(b *api.AlertActionRequest) Input {
	if b == nil {
		return Input{}
	}
	in := Input{Until: b.Until}
	if b.Reason != nil {
		in.Reason = *b.Reason
	}
	return in
}

func (h *Handlers) move(ctx context.Context, id uuid.UUID, action Action, b *api.AlertActionRequest) (api.Alert, error) {
	a, err := h.svc.Transition(ctx, authz.PrincipalFrom(ctx), id, action, input(b))
	if err != nil {
		return api.Alert{}, err
	}
	return toAPIAlert(a), nil
}

// AcknowledgeAlert implements POST /alerts/{id}:acknowledge (alert:acknowledge).
func (h *Handlers) AcknowledgeAlert(ctx context.Context, req api.AcknowledgeAlertRequestObject) (api.AcknowledgeAlertResponseObject, error) {
	a, err := h.move(ctx, req.Id, Acknowledge, req.Body)
	if err != nil {
		return nil, err
	}
	return api.AcknowledgeAlert200JSONResponse(a), nil
}

// SilenceAlert implements POST /alerts/{id}:silence (alert:write).
func (h *Handlers) SilenceAlert(ctx context.Context, req api.SilenceAlertRequestObject) (api.SilenceAlertResponseObject, error) {
	a, err := h.move(ctx, req.Id, Silence, req.Body)
	if err != nil {
		return nil, err
	}
	return api.SilenceAlert200JSONResponse(a), nil
}

// ResolveAlert implements POST /alerts/{id}:resolve (alert:resolve).
func (h *Handlers) ResolveAlert(ctx context.Context, req api.ResolveAlertRequestObject) (api.ResolveAlertResponseObject, error) {
	a, err := h.move(ctx, req.Id, Resolve, req.Body)
	if err != nil {
		return nil, err
	}
	return api.ResolveAlert200JSONResponse(a), nil
}

// DismissAlert implements POST /alerts/{id}:dismiss (alert:write).
func (h *Handlers) DismissAlert(ctx context.Context, req api.DismissAlertRequestObject) (api.DismissAlertResponseObject, error) {
	a, err := h.move(ctx, req.Id, Dismiss, req.Body)
	if err != nil {
		return nil, err
	}
	return api.DismissAlert200JSONResponse(a), nil
}

// GetAlertHistory implements GET /alerts/{id}/history (alert:read).
func (h *Handlers) GetAlertHistory(ctx context.Context, req api.GetAlertHistoryRequestObject) (api.GetAlertHistoryResponseObject, error) {
	rows, err := h.svc.History(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	items := make([]api.AlertTransition, len(rows))
	for i, t := range rows {
		items[i] = toAPITransition(t)
	}
	return api.GetAlertHistory200JSONResponse{Items: items}, nil
}
