package sso

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/auth"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/reqinfo"
)

// CookieName is the cookie binding a sign-in in flight to the browser that started it.
const CookieName = "openwatch_sso"

// The web app's pages a sign-in ends on.
const (
	handoffPage = "/sso/callback"
	signInPage  = "/sign-in"
)

// Handlers implements the single sign-on operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// bindingCookie renders the openwatch_sso cookie (maxAge -1 deletes it).
func bindingCookie(value string, maxAge int) string {
	return (&http.Cookie{Name: CookieName, Value: value, Path: "/api/v1/auth/sso/", MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode}).String()
}

func failedSignIn(err error) string {
	return signInPage + "?" + url.Values{"sso_error": {Readable(err)}}.Encode()
}

// ListSSOProviders implements GET /sso/providers (admin:sso_provider).
func (h *Handlers) ListSSOProviders(ctx context.Context, req api.ListSSOProvidersRequestObject) (api.ListSSOProvidersResponseObject, error) {
	p := req.Params
	page, err := cursor.Serve(ctx, cursor.ByID{}, p.Cursor, p.Limit, cursor.Limits(api.ListSSOProvidersPageLimit()), h.svc.List, toAPI)
	if err != nil {
		return nil, err
	}
	return api.ListSSOProviders200JSONResponse{Providers: page.Items, NextCursor: page.Next}, nil
}

// CreateSSOProvider implements POST /sso/providers (admin:sso_provider).
func (h *Handlers) CreateSSOProvider(ctx context.Context, req api.CreateSSOProviderRequestObject) (api.CreateSSOProviderResponseObject, error) {
	p, err := h.svc.Create(ctx, authz.PrincipalFrom(ctx), fromAPI(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.CreateSSOProvider201JSONResponse(toAPI(p)), nil
}

// GetSSOProvider implements GET /sso/providers/{id} (admin:sso_provider).
func (h *Handlers) GetSSOProvider(ctx context.Context, req api.GetSSOProviderRequestObject) (api.GetSSOProviderResponseObject, error) {
	p, err := h.svc.Get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetSSOProvider200JSONResponse(toAPI(p)), nil
}

// UpdateSSOProvider implements PUT /sso/providers/{id} (admin:sso_provider).
func (h *Handlers) UpdateSSOProvider(ctx context.Context, req api.UpdateSSOProviderRequestObject) (api.UpdateSSOProviderResponseObject, error) {
	p, err := h.svc.Update(ctx, authz.PrincipalFrom(ctx), req.Id, fromAPI(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.UpdateSSOProvider200JSONResponse(toAPI(p)), nil
}

// DeleteSSOProvider implements DELETE /sso/providers/{id} (admin:sso_provider).
func (h *Handlers) DeleteSSOProvider(ctx context.Context, req api.DeleteSSOProviderRequestObject) (api.DeleteSSOProviderResponseObject, error) {
	if err := h.svc.Delete(ctx, authz.PrincipalFrom(ctx), req.Id); err != nil {
		return nil, err
	}
	return api.DeleteSSOProvider204Response{}, nil
}

// ListEnabledSSOProviders implements GET /sso/providers/enabled (anonymous).
func (h *Handlers) ListEnabledSSOProviders(ctx context.Context, _ api.ListEnabledSSOProvidersRequestObject) (api.ListEnabledSSOProvidersResponseObject, error) {
	list, err := h.svc.ListEnabled(ctx)
	if err != nil {
		return nil, err
	}
	out := api.ListEnabledSSOProviders200JSONResponse{Providers: make([]api.SSOEnabledProvider, len(list))}
	for i, p := range list {
		out.Providers[i] = api.SSOEnabledProvider{Id: p.ID, Name: p.Name, LoginPath: LoginPath(p.ID)}
	}
	return out, nil
}

// DiscoverSSOProvider implements POST /sso/providers:discover (admin:sso_provider).
func (h *Handlers) DiscoverSSOProvider(ctx context.Context, req api.DiscoverSSOProviderRequestObject) (api.DiscoverSSOProviderResponseObject, error) {
	d, err := h.svc.Discover(ctx, req.Body.Issuer)
	if err != nil {
		return nil, err
	}
	return api.DiscoverSSOProvider200JSONResponse(toAPIDiscovery(d)), nil
}

// TestSSOProvider implements POST /sso/providers/{id}:test (admin:sso_provider).
func (h *Handlers) TestSSOProvider(ctx context.Context, req api.TestSSOProviderRequestObject) (api.TestSSOProviderResponseObject, error) {
	checks, err := h.svc.Test(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	out := api.TestSSOProvider200JSONResponse{Ok: true, Checks: make([]api.SSOTestCheck, len(checks))}
	for i, c := range checks {
		out.Checks[i] = api.SSOTestCheck{Name: c.Name, Ok: c.OK, Detail: c.Detail}
		out.Ok = out.Ok && c.OK
	}
	return out, nil
}

// StartSSOLogin implements GET /auth/sso/{id}/login (anonymous): a redirect to the
// identity provider, or back to the sign-in page with a readable error.
func (h *Handlers) StartSSOLogin(ctx context.Context, req api.StartSSOLoginRequestObject) (api.StartSSOLoginResponseObject, error) {
	info := reqinfo.From(ctx)
	origin := "http://" + info.Host
	if info.TLS {
		origin = "https://" + info.Host
	}
	start, err := h.svc.StartLogin(ctx, req.Id, origin)
	if err != nil {
		h.svc.opts.Logger.WarnContext(ctx, "single sign-on not started", slog.String("provider_id", req.Id.String()), slog.Any("error", err))
		loc := failedSignIn(err)
		return api.StartSSOLogin302Response{Headers: api.StartSSOLogin302ResponseHeaders{Location: &loc}}, nil
	}
	cookie := bindingCookie(start.State, int(LoginTTL/time.Second))
	return api.StartSSOLogin302Response{Headers: api.StartSSOLogin302ResponseHeaders{Location: &start.RedirectURL, SetCookie: &cookie}}, nil
}

// CompleteSSOLogin implements GET /auth/sso/{id}/callback (anonymous): a redirect to the
// web app's handoff page, or to the sign-in page with a readable error.
func (h *Handlers) CompleteSSOLogin(ctx context.Context, req api.CompleteSSOLoginRequestObject) (api.CompleteSSOLoginResponseObject, error) {
	p := req.Params
	cb := Callback{Code: deref(p.Code), State: deref(p.State), Error: deref(p.Error), ErrorDescription: deref(p.ErrorDescription),
		BoundState: deref(p.OpenwatchSso)}
	clear := bindingCookie("", -1)
	code, err := h.svc.Complete(ctx, req.Id, cb) // Complete logs and audits failures
	var loc string
	if err != nil {
		loc = failedSignIn(err)
	} else {
		loc = handoffPage + "?" + url.Values{"handoff": {code}}.Encode()
	}
	return api.CompleteSSOLogin302Response{Headers: api.CompleteSSOLogin302ResponseHeaders{Location: &loc, SetCookie: &clear}}, nil
}

// ExchangeSSOHandoff implements POST /auth/sso/handoff (anonymous).
func (h *Handlers) ExchangeSSOHandoff(ctx context.Context, req api.ExchangeSSOHandoffRequestObject) (api.ExchangeSSOHandoffResponseObject, error) {
	info := reqinfo.From(ctx)
	t, err := h.svc.ExchangeHandoff(ctx, req.Body.HandoffCode,
		auth.ClientInfo{ClientAddr: info.ClientAddr, UserAgent: info.UserAgent, CorrelationID: info.CorrelationID})
	if err != nil {
		return nil, err
	}
	cookie := auth.SessionCookieOf(t)
	return api.ExchangeSSOHandoff200JSONResponse{Body: auth.LoginResponse(t), Headers: api.ExchangeSSOHandoff200ResponseHeaders{SetCookie: &cookie}}, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
