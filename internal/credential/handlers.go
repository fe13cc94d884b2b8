package credential

import (
	"context"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
)

// Handlers implements the credential operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the credential handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// ListCredentials implements GET /credentials (credential:read).
func (h *Handlers) ListCredentials(ctx context.Context, req api.ListCredentialsRequestObject) (api.ListCredentialsResponseObject, error) {
	p := req.Params
	page, err := cursor.Serve(ctx, cursor.ByID{}, p.Cursor, p.Limit, cursor.Limits(api.ListCredentialsPageLimit()),
		h.svc.List, toAPI)
	if err != nil {
		return nil, err
	}
	return api.ListCredentials200JSONResponse{Credentials: page.Items, NextCursor: page.Next}, nil
}

// CreateCredential implements POST /credentials (credential:write).
func (h *Handlers) CreateCredential(ctx context.Context, req api.CreateCredentialRequestObject) (api.CreateCredentialResponseObject, error) {
	b := req.Body
	in := CreateInput{
		Scope: string(b.Scope), ScopeID: b.ScopeId, Name: b.Name, Description: deref(b.Description), Username: b.Username,
		AuthMethod: string(b.AuthMethod), Password: deref(b.Password), PrivateKey: deref(b.PrivateKey),
		PrivateKeyPassphrase: deref(b.PrivateKeyPassphrase), IsDefault: deref(b.IsDefault),
	}
	c, err := h.svc.Create(ctx, authz.PrincipalFrom(ctx), in)
	if err != nil {
		return nil, err
	}
	return api.CreateCredential201JSONResponse(toAPI(c)), nil
}

// GetCredential implements GET /credentials/{id} (credential:read).
func (h *Handlers) GetCredential(ctx context.Context, req api.GetCredentialRequestObject) (api.GetCredentialResponseObject, error) {
	c, err := h.svc.Get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetCredential200JSONResponse(toAPI(c)), nil
}

// UpdateCredential implements PATCH /credentials/{id} (credential:write).
func (h *Handlers) UpdateCredential(ctx context.Context, req api.UpdateCredentialRequestObject) (api.UpdateCredentialResponseObject, error) {
	b := req.Body
	in := UpdateInput{Name: b.Name, Description: b.Description, Username: b.Username, Password: b.Password,
		PrivateKey: b.PrivateKey, PrivateKeyPassphrase: b.PrivateKeyPassphrase, IsDefault: b.IsDefault}
	if b.AuthMethod != nil {
		m := string(*b.AuthMethod)
		in.AuthMethod = &m
	}
	c, err := h.svc.Update(ctx, authz.PrincipalFrom(ctx), req.Id, in)
	if err != nil {
		return nil, err
	}
	return api.UpdateCredential200JSONResponse(toAPI(c)), nil
}

// DeleteCredential implements DELETE /credentials/{id} (credential:delete).
func (h *Handlers) DeleteCredential(ctx context.Context, req api.DeleteCredentialRequestObject) (api.DeleteCredentialResponseObject, error) {
	if err := h.svc.Delete(ctx, authz.PrincipalFrom(ctx), req.Id); err != nil {
		return nil, err
	}
	return api.DeleteCredential204Response{}, nil
}

// CloneCredential implements POST /credentials/{id}:clone (credential:write).
func (h *Handlers) CloneCredential(ctx context.Context, req api.CloneCredentialRequestObject) (api.CloneCredentialResponseObject, error) {
	in := CloneInput{Scope: string(req.Body.Scope), ScopeID: req.Body.ScopeId, Name: req.Body.Name,
		IsDefault: deref(req.Body.IsDefault)}
	c, err := h.svc.Clone(ctx, authz.PrincipalFrom(ctx), req.Id, in)
	if err != nil {
		return nil, err
	}
	return api.CloneCredential201JSONResponse(toAPI(c)), nil
}

// ResolveHostCredential implements POST /hosts/{host_id}/credentials:resolve (credential:read).
func (h *Handlers) ResolveHostCredential(ctx context.Context, req api.ResolveHostCredentialRequestObject) (api.ResolveHostCredentialResponseObject, error) {
	r, err := h.svc.Resolve(ctx, req.HostId)
	if err != nil {
		return nil, err
	}
	out := toAPI(r.Credential)
	src := api.CredentialResponseResolutionSource(r.Source)
	out.ResolutionSource = &src
	out.ResolutionReason = &r.Reason
	return api.ResolveHostCredential200JSONResponse(out), nil
}
