package exception

import (
	"context"

	"github.com/google/uuid"

	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
)

// Handlers implements the exception operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the exception handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

func str[T ~string](v *T) *string {
	if v == nil {
		return nil
	}
	s := string(*v)
	return &s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (h *Handlers) render(ctx context.Context) func(dbq.ComplianceException) api.Exception {
	p := authz.PrincipalFrom(ctx)
	return func(e dbq.ComplianceException) api.Exception { return h.toAPIException(p, e) }
}

// ListExceptions implements GET /compliance/exceptions (exception:read).
func (h *Handlers) ListExceptions(ctx context.Context, req api.ListExceptionsRequestObject) (api.ListExceptionsResponseObject, error) {
	p := req.Params
	f := Filter{Status: str(p.Status), RuleID: p.RuleId, Kind: str(p.Kind), AdvisoryID: p.AdvisoryId, Scope: str(p.Scope), HostID: p.HostId, GroupID: p.GroupId,
		ExpiringBefore: p.ExpiringBefore}
	if p.RequestedBy != nil {
		s := p.RequestedBy.String()
		f.RequestedBy = &s
	}
	page, err := cursor.Serve(ctx, cursor.JSON[uuid.UUID]{}, p.Cursor, p.Limit, cursor.Limits(api.ListExceptionsPageLimit()),
		func(ctx context.Context, r cursor.Request[uuid.UUID]) (cursor.Page[dbq.ComplianceException], error) {
			return h.svc.List(ctx, f, r)
		}, h.render(ctx))
	if err != nil {
		return nil, err
	}
	return api.ListExceptions200JSONResponse{Items: page.Items, NextCursor: page.Next}, nil
}

// ListHostExceptions implements GET /hosts/{id}/exceptions (exception:read).
func (h *Handlers) ListHostExceptions(ctx context.Context, req api.ListHostExceptionsRequestObject) (api.ListHostExceptionsResponseObject, error) {
	p := req.Params
	page, err := cursor.Serve(ctx, cursor.JSON[uuid.UUID]{}, p.Cursor, p.Limit, cursor.Limits(api.ListHostExceptionsPageLimit()),
		func(ctx context.Context, r cursor.Request[uuid.UUID]) (cursor.Page[dbq.ComplianceException], error) {
			return h.svc.ListForHost(ctx, req.Id, str(p.Status), r)
		}, h.render(ctx))
	if err != nil {
		return nil, err
	}
	return api.ListHostExceptions200JSONResponse{Items: page.Items, NextCursor: page.Next}, nil
}

// RequestHostException implements POST /hosts/{id}/exceptions (exception:request).
func (h *Handlers) RequestHostException(ctx context.Context, req api.RequestHostExceptionRequestObject) (api.RequestHostExceptionResponseObject, error) {
	b := req.Body
	hostID := req.Id
	e, err := h.svc.Request(ctx, authz.PrincipalFrom(ctx), Request{Kind: deref(str(b.Kind)), RuleID: deref(b.RuleId),
		AdvisoryID: deref(b.AdvisoryId), Scope: ScopeHost, HostID: &hostID, Reason: b.Reason, ExpiresAt: b.ExpiresAt}, true)
	if err != nil {
		return nil, err
	}
	return api.RequestHostException201JSONResponse(h.render(ctx)(e)), nil
}

// RequestException implements POST /compliance/exceptions (exception:request).
func (h *Handlers) RequestException(ctx context.Context, req api.RequestExceptionRequestObject) (api.RequestExceptionResponseObject, error) {
	b := req.Body
	e, err := h.svc.Request(ctx, authz.PrincipalFrom(ctx), Request{Kind: deref(str(b.Kind)), RuleID: deref(b.RuleId),
		AdvisoryID: deref(b.AdvisoryId), Scope: string(b.Scope),
		HostID: b.HostId, GroupID: b.GroupId, Reason: b.Reason, ExpiresAt: b.ExpiresAt}, false)
	if err != nil {
		return nil, err
	}
	return api.RequestException201JSONResponse(h.render(ctx)(e)), nil
}

// GetException implements GET /exceptions/{id} (exception:read).
func (h *Handlers) GetException(ctx context.Context, req api.GetExceptionRequestObject) (api.GetExceptionResponseObject, error) {
	e, err := h.svc.Get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetException200JSONResponse(h.render(ctx)(e)), nil
}

func (h *Handlers) decide(ctx context.Context, id uuid.UUID, action Action, b *api.ExceptionDecision) (api.Exception, error) {
	reason := ""
	if b != nil {
		reason = b.Reason
	}
	e, err := h.svc.Decide(ctx, authz.PrincipalFrom(ctx), id, action, reason)
	if err != nil {
		return api.Exception{}, err
	}
	return h.render(ctx)(e), nil
}

// ApproveException implements POST /exceptions/{id}:approve (exception:approve).
func (h *Handlers) ApproveException(ctx context.Context, req api.ApproveExceptionRequestObject) (api.ApproveExceptionResponseObject, error) {
	e, err := h.decide(ctx, req.Id, Approve, req.Body)
	if err != nil {
		return nil, err
	}
	return api.ApproveException200JSONResponse(e), nil
}

// RejectException implements POST /exceptions/{id}:reject (exception:approve).
func (h *Handlers) RejectException(ctx context.Context, req api.RejectExceptionRequestObject) (api.RejectExceptionResponseObject, error) {
	e, err := h.decide(ctx, req.Id, Reject, req.Body)
	if err != nil {
		return nil, err
	}
	return api.RejectException200JSONResponse(e), nil
}

// RevokeException implements POST /exceptions/{id}:revoke (exception:revoke).
func (h *Handlers) RevokeException(ctx context.Context, req api.RevokeExceptionRequestObject) (api.RevokeExceptionResponseObject, error) {
	e, err := h.decide(ctx, req.Id, Revoke, req.Body)
	if err != nil {
		return nil, err
	}
	return api.RevokeException200JSONResponse(e), nil
}
