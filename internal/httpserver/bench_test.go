package httpserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/openwatch/openwatch/internal/authz"
)

type staticAuth struct{ p *authz.Principal }

func (a staticAuth) AuthenticateBearer(context.Context, string) (*authz.Principal, error) {
	return a.p, nil
}

func (a staticAuth) AuthenticateCookie(context.Context, string) (*authz.Principal, error) {
	return a.p, nil
}

func (a staticAuth) AuthenticateSigned(context.Context, uuid.UUID, time.Time, string, func([]byte) error) (*authz.Principal, error) {
	return a.p, nil
}

func (a staticAuth) AuthenticateAPIToken(context.Context, uuid.UUID, string) (*authz.Principal, error) {
	return a.p, nil
}

// BenchmarkPermissionMiddleware measures authentication lookup plus the permission check
// for one request, with the credential already resolved (the cached path).
func BenchmarkPermissionMiddleware(b *testing.B) {
	p := &authz.Principal{UserID: uuid.New(), Role: authz.RoleAdmin, Permissions: authz.RolePermissions(authz.RoleAdmin)}
	s := &Server{auth: staticAuth{p}}
	op := &authz.Operation{ID: "createUser", Permission: authz.PermUserWrite}
	h := s.authorize(op)(func(c echo.Context) error { return nil })
	e := echo.New()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/users", nil)
	req.Header.Set("Authorization", "Bearer token")
	rec := httptest.NewRecorder()
	c := e.NewContext(req, rec)
	b.ReportAllocs()
	for b.Loop() {
		c.SetRequest(req)
		if err := h(c); err != nil {
			b.Fatal(err)
		}
	}
}
