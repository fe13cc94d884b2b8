package auth

import (
	"context"
	"net/http"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/reqinfo"
)

// CookieName is the browser session cookie.
const CookieName = "openwatch_session"

// Handlers implements the auth operations of the API.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the auth handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// Login implements POST /auth/login (anonymous).
func (h *Handlers) Login(ctx context.Context, req api.LoginRequestObject) (api.LoginResponseObject, error) {
	info := reqinfo.From(ctx)
	res, err := h.svc.Login(ctx, LoginInput{
		Username: req.Body.Username, Password: req.Body.Password,
		ClientAddr: info.ClientAddr, UserAgent: info.UserAgent, CorrelationID: info.CorrelationID,
	})
	if err != nil {
		return nil, err
	}
	cookie := &http.Cookie{
		Name: CookieName, Value: res.Cookie, Path: "/", Expires: res.SessionExpires,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode,
	}
	setCookie := cookie.String()
	return api.Login200JSONResponse{
		Body: api.AuthLoginResponse{
			AccessToken:  res.AccessToken,
			RefreshToken: res.RefreshToken,
			User: api.AuthMeResponse{
				Id: res.User.ID, Username: res.User.Username, Email: res.User.Email, Role: res.User.Role,
			},
		},
		Headers: api.Login200ResponseHeaders{SetCookie: &setCookie},
	}, nil
}

// GetMe implements GET /auth/me (account:self).
func (h *Handlers) GetMe(ctx context.Context, _ api.GetMeRequestObject) (api.GetMeResponseObject, error) {
	p := authz.PrincipalFrom(ctx)
	if p == nil {
		return nil, apperr.New(apperr.CodeAuthRequired, "")
	}
	return api.GetMe200JSONResponse{Id: p.UserID, Username: p.Username, Email: p.Email, Role: p.Role}, nil
}
