package serviceaccount

import (
	"context"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
)

// Handlers implements the service account operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the service account handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

func input(b api.ServiceAccountCreate) Input {
	in := Input{Name: b.Name, Role: b.Role}
	if b.Description != nil {
		in.Description = *b.Description
	}
	return in
}

// ListServiceAccounts implements GET /service-accounts (service_account:read).
func (h *Handlers) ListServiceAccounts(ctx context.Context, req api.ListServiceAccountsRequestObject) (api.ListServiceAccountsResponseObject, error) {
	p := req.Params
	page, err := cursor.Serve(ctx, cursor.ByID{}, p.Cursor, p.Limit, cursor.Limits(api.ListServiceAccountsPageLimit()),
		h.svc.List, toAPI)
	if err != nil {
		return nil, err
	}
	return api.ListServiceAccounts200JSONResponse{ServiceAccounts: page.Items, NextCursor: page.Next}, nil
}

// CreateServiceAccount implements POST /service-accounts (service_account:write).
func (h *Handlers) CreateServiceAccount(ctx context.Context, req api.CreateServiceAccountRequestObject) (api.CreateServiceAccountResponseObject, error) {
	a, err := h.svc.Create(ctx, authz.PrincipalFrom(ctx), input(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.CreateServiceAccount201JSONResponse(toAPI(a)), nil
}

// GetServiceAccount implements GET /service-accounts/{id} (service_account:read).
func (h *Handlers) GetServiceAccount(ctx context.Context, req api.GetServiceAccountRequestObject) (api.GetServiceAccountResponseObject, error) {
	a, err := h.svc.Get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetServiceAccount200JSONResponse(toAPI(a)), nil
}

// UpdateServiceAccount implements PUT /service-accounts/{id} (service_account:write).
func (h *Handlers) UpdateServiceAccount(ctx context.Context, req api.UpdateServiceAccountRequestObject) (api.UpdateServiceAccountResponseObject, error) {
	a, err := h.svc.Update(ctx, authz.PrincipalFrom(ctx), req.Id, input(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.UpdateServiceAccount200JSONResponse(toAPI(a)), nil
}

// DeleteServiceAccount implements DELETE /service-accounts/{id} (service_account:write).
func (h *Handlers) DeleteServiceAccount(ctx context.Context, req api.DeleteServiceAccountRequestObject) (api.DeleteServiceAccountResponseObject, error) {
	if err := h.svc.Disable(ctx, authz.PrincipalFrom(ctx), req.Id); err != nil {
		return nil, err
	}
	return api.DeleteServiceAccount204Response{}, nil
}

// ListServiceAccountTokens implements GET /service-accounts/{id}/tokens (service_account:read).
func (h *Handlers) ListServiceAccountTokens(ctx context.Context, req api.ListServiceAccountTokensRequestObject) (api.ListServiceAccountTokensResponseObject, error) {
	ts, err := h.svc.Tokens(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	now := h.svc.now()
	out := api.ListServiceAccountTokens200JSONResponse{Tokens: make([]api.APITokenMeta, 0, len(ts))}
	for _, t := range ts {
		out.Tokens = append(out.Tokens, tokenToAPI(t, now))
	}
	return out, nil
}

// CreateServiceAccountToken implements POST /service-accounts/{id}/tokens (service_account:write).
func (h *Handlers) CreateServiceAccountToken(ctx context.Context, req api.CreateServiceAccountTokenRequestObject) (api.CreateServiceAccountTokenResponseObject, error) {
	in := TokenInput{Name: req.Body.Name}
	if req.Body.Ttl != nil {
		in.TTL = *req.Body.Ttl
	}
	if req.Body.Eternal != nil {
		in.Eternal = *req.Body.Eternal
	}
	if req.Body.Role != nil {
		in.Role = *req.Body.Role
	}
	if req.Body.SigningKey != nil {
		in.SigningKey = *req.Body.SigningKey
	}
	m, err := h.svc.MintToken(ctx, authz.PrincipalFrom(ctx), req.Id, in)
	if err != nil {
		return nil, err
	}
	out := api.CreateServiceAccountToken201JSONResponse{Token: m.Raw, TokenMeta: tokenToAPI(m.Token, h.svc.now())}
	if m.SigningKey != nil {
		out.SigningKey = &m.SigningKey
	}
	return out, nil
}

// CreateServiceAccountTokenSigningKey implements POST
// /service-accounts/{id}/tokens/{token_id}:signing-key (service_account:write).
func (h *Handlers) CreateServiceAccountTokenSigningKey(ctx context.Context, req api.CreateServiceAccountTokenSigningKeyRequestObject) (api.CreateServiceAccountTokenSigningKeyResponseObject, error) {
	key, t, err := h.svc.CreateSigningKey(ctx, authz.PrincipalFrom(ctx), req.Id, req.TokenId)
	if err != nil {
		return nil, err
	}
	return api.CreateServiceAccountTokenSigningKey201JSONResponse{SigningKey: key, TokenMeta: tokenToAPI(t, h.svc.now())}, nil
}

// RevokeServiceAccountToken implements DELETE /service-accounts/{id}/tokens/{token_id} (service_account:write).
func (h *Handlers) RevokeServiceAccountToken(ctx context.Context, req api.RevokeServiceAccountTokenRequestObject) (api.RevokeServiceAccountTokenResponseObject, error) {
	if err := h.svc.RevokeToken(ctx, authz.PrincipalFrom(ctx), req.Id, req.TokenId); err != nil {
		return nil, err
	}
	return api.RevokeServiceAccountToken204Response{}, nil
}
