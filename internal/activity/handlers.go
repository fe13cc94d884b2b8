package activity

import (
	"context"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
)

// Handlers implements the activity feed operation.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the activity handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// ListActivity implements GET /activity (activity:read; items further filtered by the
// caller's permissions).
func (h *Handlers) ListActivity(ctx context.Context, req api.ListActivityRequestObject) (api.ListActivityResponseObject, error) {
	p := req.Params
	r, err := cursor.Parse(cursor.ByTime{}, p.Cursor, p.Limit, cursor.Limits(api.ListActivityPageLimit()))
	if err != nil {
		return nil, err
	}
	page, err := h.svc.List(ctx, authz.PrincipalFrom(ctx), Filter{Source: (*string)(p.Source),
		Severity: (*string)(p.Severity), HostID: p.HostId, Since: p.Since, Until: p.Until}, r)
	if err != nil {
		return nil, err
	}
	out := cursor.Map(page.Page, toAPI)
	return api.ListActivity200JSONResponse{Items: out.Items, HiddenCount: int(page.Hidden), NextCursor: out.Next}, nil
}
