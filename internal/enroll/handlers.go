package enroll

import (
	"bytes"
	"context"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/reqinfo"
)

// Handlers implements the enrollment operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// GetEnrollScript implements GET /enroll.sh (anonymous, the token authorizes it).
func (h *Handlers) GetEnrollScript(ctx context.Context, req api.GetEnrollScriptRequestObject) (api.GetEnrollScriptResponseObject, error) {
	info := reqinfo.From(ctx)
	script, err := h.svc.Script(ctx, req.Params.Token, info.Host, info.ClientAddr)
	if err != nil {
		return nil, err
	}
	return api.GetEnrollScript200TextxShellscriptResponse{Body: bytes.NewReader(script), ContentLength: int64(len(script))}, nil
}

// SubmitEnrollment implements POST /enroll (anonymous, the token authorizes it).
func (h *Handlers) SubmitEnrollment(ctx context.Context, req api.SubmitEnrollmentRequestObject) (api.SubmitEnrollmentResponseObject, error) {
	b := req.Body
	out, err := h.svc.Submit(ctx, SubmitInput{Token: b.Token, HostKey: b.HostKey, Facts: fromAPIFacts(b.Facts),
		ClientAddr: reqinfo.From(ctx).ClientAddr})
	if err != nil {
		return nil, err
	}
	return api.SubmitEnrollment201JSONResponse{Id: out.ID, Status: api.EnrollmentRequestStatus(out.Status), PollSecret: out.PollSecret}, nil
}

// GetEnrollmentStatus implements GET /enroll/status/{token} (anonymous, the poll secret
// authorizes it).
func (h *Handlers) GetEnrollmentStatus(ctx context.Context, req api.GetEnrollmentStatusRequestObject) (api.GetEnrollmentStatusResponseObject, error) {
	st, err := h.svc.RequestStatus(ctx, req.Token, reqinfo.From(ctx).ClientAddr)
	if err != nil {
		return nil, err
	}
	return api.GetEnrollmentStatus200JSONResponse{Status: api.EnrollmentRequestStatus(st.Status),
		HostCertificate: opt(st.Certificate), Reason: opt(st.Reason)}, nil
}

// ConfirmEnrollment implements POST /enroll/status/{token}:installed (anonymous, the poll
// secret authorizes it).
func (h *Handlers) ConfirmEnrollment(ctx context.Context, req api.ConfirmEnrollmentRequestObject) (api.ConfirmEnrollmentResponseObject, error) {
	st, err := h.svc.Installed(ctx, req.Token, reqinfo.From(ctx).ClientAddr)
	if err != nil {
		return nil, err
	}
	return api.ConfirmEnrollment200JSONResponse{Status: api.EnrollmentRequestStatus(st.Status),
		HostCertificate: opt(st.Certificate), Reason: opt(st.Reason)}, nil
}

// ListEnrollmentTokens implements GET /admin/enrollment-tokens (enrollment:read).
func (h *Handlers) ListEnrollmentTokens(ctx context.Context, req api.ListEnrollmentTokensRequestObject) (api.ListEnrollmentTokensResponseObject, error) {
	p := req.Params
	page, err := cursor.Serve(ctx, cursor.ByTime{}, p.Cursor, p.Limit, cursor.Limits(api.ListEnrollmentTokensPageLimit()),
		h.svc.ListTokens, toAPIToken)
	if err != nil {
		return nil, err
	}
	return api.ListEnrollmentTokens200JSONResponse{Tokens: page.Items, NextCursor: page.Next}, nil
}

// CreateEnrollmentToken implements POST /admin/enrollment-tokens (enrollment:write).
func (h *Handlers) CreateEnrollmentToken(ctx context.Context, req api.CreateEnrollmentTokenRequestObject) (api.CreateEnrollmentTokenResponseObject, error) {
	// Where hosts reach the server is settled first: a token whose command cannot be
	// shown is never created.
	serverURL, err := h.svc.ServerURL(reqinfo.From(ctx).Host)
	if err != nil {
		return nil, err
	}
	bundle, err := h.svc.CABundle()
	if err != nil {
		return nil, err
	}
	b := req.Body
	created, err := h.svc.CreateToken(ctx, authz.PrincipalFrom(ctx), TokenInput{Name: b.Name, ExpiresAt: b.ExpiresAt,
		MaxUses: deref(b.MaxUses), AutoApprove: deref(b.AutoApprove), GroupID: b.GroupId, Environment: deref(b.Environment),
		Tags: deref(b.Tags), Username: deref(b.Username)})
	if err != nil {
		return nil, err
	}
	out := api.CreateEnrollmentToken201JSONResponse{Token: toAPIToken(created.Token), Secret: created.Secret}
	out.ScriptUrl = ScriptURL(serverURL, created.Secret)
	out.Command = Command(out.ScriptUrl, bundle != "")
	out.CaCertificate = opt(bundle)
	return out, nil
}

// RevokeEnrollmentToken implements DELETE /admin/enrollment-tokens/{id} (enrollment:write).
func (h *Handlers) RevokeEnrollmentToken(ctx context.Context, req api.RevokeEnrollmentTokenRequestObject) (api.RevokeEnrollmentTokenResponseObject, error) {
	if err := h.svc.RevokeToken(ctx, authz.PrincipalFrom(ctx), req.Id); err != nil {
		return nil, err
	}
	return api.RevokeEnrollmentToken204Response{}, nil
}

// ListEnrollments implements GET /admin/enrollments (enrollment:read).
func (h *Handlers) ListEnrollments(ctx context.Context, req api.ListEnrollmentsRequestObject) (api.ListEnrollmentsResponseObject, error) {
	p := req.Params
	f := Filter{Status: (*string)(p.Status)}
	page, err := cursor.Serve(ctx, cursor.ByTime{}, p.Cursor, p.Limit, cursor.Limits(api.ListEnrollmentsPageLimit()),
		func(ctx context.Context, r cursor.Request[cursor.TimeID]) (cursor.Page[Request], error) {
			return h.svc.List(ctx, f, r)
		},
		toAPIRequest)
	if err != nil {
		return nil, err
	}
	return api.ListEnrollments200JSONResponse{Enrollments: page.Items, NextCursor: page.Next}, nil
}

// ApproveEnrollment implements POST /admin/enrollments/{id}:approve (enrollment:write).
func (h *Handlers) ApproveEnrollment(ctx context.Context, req api.ApproveEnrollmentRequestObject) (api.ApproveEnrollmentResponseObject, error) {
	r, err := h.svc.Approve(ctx, authz.PrincipalFrom(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return api.ApproveEnrollment200JSONResponse(toAPIRequest(r)), nil
}

// DenyEnrollment implements POST /admin/enrollments/{id}:deny (enrollment:write).
func (h *Handlers) DenyEnrollment(ctx context.Context, req api.DenyEnrollmentRequestObject) (api.DenyEnrollmentResponseObject, error) {
	r, err := h.svc.Deny(ctx, authz.PrincipalFrom(ctx), req.Id, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return api.DenyEnrollment200JSONResponse(toAPIRequest(r)), nil
}
