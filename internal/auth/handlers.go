package auth

import (
	"context"
	"net/http"
	"time"

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

func clientInfo(ctx context.Context) ClientInfo {
	info := reqinfo.From(ctx)
	return ClientInfo{ClientAddr: info.ClientAddr, UserAgent: info.UserAgent, CorrelationID: info.CorrelationID}
}

// sessionCookie renders the Set-Cookie value of the session cookie (maxAge -1 deletes it).
func sessionCookie(value string, expires time.Time, maxAge int) string {
	return (&http.Cookie{
		Name: CookieName, Value: value, Path: "/", Expires: expires, MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode,
	}).String()
}

// LoginResponse is the body of every answer that signs someone in (a password sign-in, a
// refresh, a single sign-on handoff).
func LoginResponse(t Tokens) api.AuthLoginResponse { return loginResponse(t) }

// SessionCookieOf renders the Set-Cookie value carrying the session cookie of t.
func SessionCookieOf(t Tokens) string { return sessionCookie(t.Cookie, t.SessionExpires, 0) }

func loginResponse(t Tokens) api.AuthLoginResponse {
	var enroll *bool
	if t.MFAEnrollmentRequired {
		enroll = &t.MFAEnrollmentRequired
	}
	return api.AuthLoginResponse{
		MfaEnrollmentRequired: enroll,
		AccessToken:           t.AccessToken,
		RefreshToken:          t.RefreshToken,
		User: api.AuthMeResponse{
			Id: t.User.ID, Username: t.User.Username, Email: t.User.Email, Role: authz.PrimaryRole(t.Roles),
		},
	}
}

// Login implements POST /auth/login (anonymous).
func (h *Handlers) Login(ctx context.Context, req api.LoginRequestObject) (api.LoginResponseObject, error) {
	in := LoginInput{Username: req.Body.Username, Password: req.Body.Password, ClientInfo: clientInfo(ctx)}
	if req.Body.Otp != nil {
		in.OTP = *req.Body.Otp
	}
	if req.Body.RecoveryCode != nil {
		in.RecoveryCode = *req.Body.RecoveryCode
	}
	t, err := h.svc.Login(ctx, in)
	if err != nil {
		return nil, err
	}
	cookie := sessionCookie(t.Cookie, t.SessionExpires, 0)
	return api.Login200JSONResponse{Body: loginResponse(t), Headers: api.Login200ResponseHeaders{SetCookie: &cookie}}, nil
}

// RefreshToken implements POST /auth/refresh (anonymous).
func (h *Handlers) RefreshToken(ctx context.Context, req api.RefreshTokenRequestObject) (api.RefreshTokenResponseObject, error) {
	t, err := h.svc.Refresh(ctx, req.Body.RefreshToken)
	if err != nil {
		return nil, err
	}
	return api.RefreshToken200JSONResponse(loginResponse(t)), nil
}

// Logout implements POST /auth/logout (account:self).
func (h *Handlers) Logout(ctx context.Context, _ api.LogoutRequestObject) (api.LogoutResponseObject, error) {
	if err := h.svc.Logout(ctx, principal(ctx)); err != nil {
		return nil, err
	}
	clear := sessionCookie("", time.Unix(0, 0), -1)
	return api.Logout204Response{Headers: api.Logout204ResponseHeaders{SetCookie: &clear}}, nil
}

// GetMe implements GET /auth/me (account:self).
func (h *Handlers) GetMe(ctx context.Context, _ api.GetMeRequestObject) (api.GetMeResponseObject, error) {
	p := principal(ctx)
	return api.GetMe200JSONResponse{Id: p.Actor().ID, Username: p.Username, Email: p.Email, Role: p.Role}, nil
}

// GetMyPermissions implements GET /auth/me/permissions (account:self).
func (h *Handlers) GetMyPermissions(ctx context.Context, _ api.GetMyPermissionsRequestObject) (api.GetMyPermissionsResponseObject, error) {
	p := principal(ctx)
	roles := append([]string{}, p.Roles...)
	res := api.GetMyPermissions200JSONResponse{Permissions: p.Permissions.Sorted()}
	res.Identity.Id = p.Actor().ID.String()
	res.Identity.Role = p.Role
	res.Identity.Roles = &roles
	return res, nil
}

// ChangePassword implements POST /auth/password:change (account:self).
func (h *Handlers) ChangePassword(ctx context.Context, req api.ChangePasswordRequestObject) (api.ChangePasswordResponseObject, error) {
	if err := h.svc.ChangePassword(ctx, principal(ctx), req.Body.CurrentPassword, req.Body.NewPassword); err != nil {
		return nil, err
	}
	return api.ChangePassword204Response{}, nil
}

// principal returns the authenticated caller; the pipeline guarantees one for every
// operation that is not anonymous.
func principal(ctx context.Context) *authz.Principal {
	p := authz.PrincipalFrom(ctx)
	if p == nil {
		panic(apperr.New(apperr.CodeAuthRequired, "no principal in an authenticated operation"))
	}
	return p
}

// EnrollMFA implements POST /auth/mfa:enroll (account:self).
func (h *Handlers) EnrollMFA(ctx context.Context, _ api.EnrollMFARequestObject) (api.EnrollMFAResponseObject, error) {
	e, err := h.svc.EnrollMFA(ctx, principal(ctx))
	if err != nil {
		return nil, err
	}
	return api.EnrollMFA200JSONResponse{ProvisioningUri: e.ProvisioningURI, Secret: e.Secret}, nil
}

// VerifyMFA implements POST /auth/mfa:verify (account:self).
func (h *Handlers) VerifyMFA(ctx context.Context, req api.VerifyMFARequestObject) (api.VerifyMFAResponseObject, error) {
	codes, err := h.svc.VerifyMFA(ctx, principal(ctx), reqinfo.From(ctx).ClientAddr, req.Body.Otp)
	if err != nil {
		return nil, err
	}
	if codes == nil {
		return api.VerifyMFA204Response{}, nil
	}
	return api.VerifyMFA200JSONResponse{RecoveryCodes: codes}, nil
}

// GetSecurityConfig implements GET /system/security/config (security:read).
func (h *Handlers) GetSecurityConfig(ctx context.Context, _ api.GetSecurityConfigRequestObject) (api.GetSecurityConfigResponseObject, error) {
	c, err := h.svc.SecurityConfig(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetSecurityConfig200JSONResponse{RequireMfa: c.RequireMFA}, nil
}

// PutSecurityConfig implements PUT /system/security/config (security:write).
func (h *Handlers) PutSecurityConfig(ctx context.Context, req api.PutSecurityConfigRequestObject) (api.PutSecurityConfigResponseObject, error) {
	c, err := h.svc.SetSecurityConfig(ctx, principal(ctx), SecurityConfig{RequireMFA: req.Body.RequireMfa})
	if err != nil {
		return nil, err
	}
	return api.PutSecurityConfig200JSONResponse{RequireMfa: c.RequireMFA}, nil
}
