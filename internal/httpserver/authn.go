package httpserver

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/auth"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/httpsig"
)

// Authenticator resolves the credentials a request carries to a principal.
type Authenticator interface {
	AuthenticateBearer(ctx context.Context, token string) (*authz.Principal, error)
	AuthenticateCookie(ctx context.Context, value string) (*authz.Principal, error)
	AuthenticateAPIToken(ctx context.Context, id uuid.UUID, secret string) (*authz.Principal, error)
	// AuthenticateSigned resolves a signed request's token; verify checks the signature
	// under the token's signing key.
	AuthenticateSigned(ctx context.Context, tokenID uuid.UUID, created time.Time, nonce string, verify func(key []byte) error) (*authz.Principal, error)
}

// TicketRedeemer consumes a single-use ticket and returns the principal it was issued to.
type TicketRedeemer interface {
	Redeem(ctx context.Context, ticket string) (*authz.Principal, error)
}

// DenialRecorder writes authorization denials to the audit trail.
type DenialRecorder interface {
	RecordDenial(ctx context.Context, p *authz.Principal, operationID, permission string)
}

// License says which licensed features are available now.
type License interface {
	HasFeature(feature string) bool
}

// authorize authenticates the request (bearer token first, then a query ticket where the
// operation accepts one, then the session cookie) and checks the operation's permission:
// 401 without a valid credential, 403 without the permission. It runs before request
// validation, so callers without access learn nothing about the request schema.
func (s *Server) authorize(op *authz.Operation) echo.MiddlewareFunc {
	ticketParam := ""
	if s.tickets != nil {
		ticketParam = queryTicketParam(s.doc, op)
	}
	denied := apperr.Newf(apperr.CodePermissionDenied, "You need the %s permission to do this.", op.Permission).
		WithDetail("required_permission", op.Permission).
		WithDetail("operation", op.ID)
	unlicensed := apperr.Newf(apperr.CodeFeatureUnavailable,
		"Your license does not include %s; it needs OpenWatch Plus or Enterprise.", op.Feature).WithDetail("feature", op.Feature)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			p, err := s.authenticate(req, ticketParam)
			if err != nil {
				return err
			}
			if !p.Can(op.Permission) {
				s.denials.RecordDenial(req.Context(), p, op.ID, op.Permission)
				return denied
			}
			if op.Feature != "" && !s.license.HasFeature(op.Feature) {
				return unlicensed // checked after the permission, so 403 wins over 402
			}
			c.SetRequest(req.WithContext(authz.WithPrincipal(req.Context(), p)))
			return next(c)
		}
	}
}

func errNoCredential() error {
	return apperr.New(apperr.CodeAuthRequired,
		"Authentication is required: send an access token as 'Authorization: Bearer <token>' or sign in for a session cookie.")
}

func errBadScheme() error {
	return apperr.New(apperr.CodeAuthInvalidToken,
		"The Authorization header must use the Bearer scheme, or Basic with an API token id and secret.")
}

// queryTicketParam returns the name of the query parameter carrying a ticket when one of
// the operation's security schemes is an apiKey in the query, or "".
func queryTicketParam(doc *openapi3.T, op *authz.Operation) string {
	if op.Spec == nil || op.Spec.Security == nil || doc.Components == nil {
		return ""
	}
	for _, req := range *op.Spec.Security {
		for name := range req {
			ref := doc.Components.SecuritySchemes[name]
			if ref != nil && ref.Value != nil && ref.Value.Type == "apiKey" && ref.Value.In == "query" {
				return ref.Value.Name
			}
		}
	}
	return ""
}

func (s *Server) authenticate(req *http.Request, ticketParam string) (*authz.Principal, error) {
	if req.Header.Get(httpsig.HeaderSignatureInput) != "" {
		return s.authenticateSigned(req)
	}
	if h := req.Header.Get(echo.HeaderAuthorization); h != "" {
		scheme, token, _ := strings.Cut(h, " ")
		token = strings.TrimSpace(token)
		switch {
		case token == "":
			return nil, errBadScheme()
		case strings.EqualFold(scheme, "Bearer"):
			if id, secret, ok := auth.ParseAPIToken(token); ok {
				return s.auth.AuthenticateAPIToken(req.Context(), id, secret)
			}
			return s.auth.AuthenticateBearer(req.Context(), token)
		case strings.EqualFold(scheme, "Basic"):
			user, secret, ok := req.BasicAuth()
			id, err := uuid.Parse(user)
			if !ok || err != nil || secret == "" {
				return nil, errBadScheme()
			}
			// The password is the secret (the part after the dot) or the whole token, whose
			// id must then be the user name's.
			if tokenID, tokenSecret, whole := auth.ParseAPIToken(secret); whole {
				if tokenID != id {
					return nil, apperr.New(apperr.CodeAuthInvalidToken,
						"The API token given as the Basic password belongs to another token id than the user name.")
				}
				secret = tokenSecret
			}
			return s.auth.AuthenticateAPIToken(req.Context(), id, secret)
		}
		return nil, errBadScheme()
	}
	if ticketParam != "" {
		if ticket := req.URL.Query().Get(ticketParam); ticket != "" {
			return s.tickets.Redeem(req.Context(), ticket)
		}
	}
	if ck, err := req.Cookie(auth.CookieName); err == nil && ck.Value != "" {
		if err := checkSameOrigin(req); err != nil {
			return nil, err
		}
		return s.auth.AuthenticateCookie(req.Context(), ck.Value)
	}
	return nil, errNoCredential()
}

func errCrossSite() error {
	return apperr.New(apperr.CodeCSRFRejected,
		"A cookie-authenticated change must come from the OpenWatch web app itself; scripts should use a bearer token.")
}

// checkSameOrigin is the CSRF defence for cookie-authenticated writes: browsers say where
// a request comes from (Sec-Fetch-Site, or Origin), and a change must come from this
// origin. Safe methods pass; SameSite=Lax already keeps the cookie off cross-site posts in
// current browsers, and this also covers same-site neighbours and older browsers.
func checkSameOrigin(req *http.Request) error {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if site := req.Header.Get("Sec-Fetch-Site"); site != "" {
		if site == "same-origin" || site == "none" {
			return nil
		}
		return errCrossSite()
	}
	origin := req.Header.Get("Origin")
	if origin == "" {
		return nil // not a browser: nothing to forge
	}
	u, err := url.Parse(origin)
	if err != nil || !strings.EqualFold(u.Host, req.Host) {
		return errCrossSite()
	}
	return nil
}
