package health

import (
	"context"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
)

// Handlers implements the health-check operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the health-check handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// ListHealthChecks implements GET /health-checks (health_check:read).
func (h *Handlers) ListHealthChecks(ctx context.Context, req api.ListHealthChecksRequestObject) (api.ListHealthChecksResponseObject, error) {
	p := req.Params
	page, err := cursor.Serve(ctx, cursor.ByID{}, p.Cursor, p.Limit, cursor.Limits(api.ListHealthChecksPageLimit()),
		h.svc.List, toAPI)
	if err != nil {
		return nil, err
	}
	return api.ListHealthChecks200JSONResponse{Checks: page.Items, NextCursor: page.Next}, nil
}

// CreateHealthCheck implements POST /health-checks (health_check:write).
func (h *Handlers) CreateHealthCheck(ctx context.Context, req api.CreateHealthCheckRequestObject) (api.CreateHealthCheckResponseObject, error) {
	c, err := h.svc.Create(ctx, authz.PrincipalFrom(ctx), fromCreate(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.CreateHealthCheck201JSONResponse(toAPI(c)), nil
}

// GetHealthCheck implements GET /health-checks/{id} (health_check:read).
func (h *Handlers) GetHealthCheck(ctx context.Context, req api.GetHealthCheckRequestObject) (api.GetHealthCheckResponseObject, error) {
	c, err := h.svc.Get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetHealthCheck200JSONResponse(toAPI(c)), nil
}

// UpdateHealthCheck implements PATCH /health-checks/{id} (health_check:write).
func (h *Handlers) UpdateHealthCheck(ctx context.Context, req api.UpdateHealthCheckRequestObject) (api.UpdateHealthCheckResponseObject, error) {
	c, err := h.svc.Update(ctx, authz.PrincipalFrom(ctx), req.Id, fromUpdate(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.UpdateHealthCheck200JSONResponse(toAPI(c)), nil
}

// DeleteHealthCheck implements DELETE /health-checks/{id} (health_check:write).
func (h *Handlers) DeleteHealthCheck(ctx context.Context, req api.DeleteHealthCheckRequestObject) (api.DeleteHealthCheckResponseObject, error) {
	if err := h.svc.Delete(ctx, authz.PrincipalFrom(ctx), req.Id); err != nil {
		return nil, err
	}
	return api.DeleteHealthCheck204Response{}, nil
}

// TestHealthCheck implements POST /health-checks/{id}:test (health_check:test).
func (h *Handlers) TestHealthCheck(ctx context.Context, req api.TestHealthCheckRequestObject) (api.TestHealthCheckResponseObject, error) {
	r, err := h.svc.Test(ctx, authz.PrincipalFrom(ctx), req.Id, req.Body.HostId)
	if err != nil {
		return nil, err
	}
	return api.TestHealthCheck200JSONResponse(toAPIOutcome(r)), nil
}
