package authz

import (
	"context"

	"github.com/google/uuid"
)

// Principal is the identity a request acts as. Bearer tokens and the session cookie both
// resolve to one.
type Principal struct {
	UserID    uuid.UUID
	SessionID uuid.UUID
	Username  string
	Email     string
	// Roles are the role ids held; Role is the primary one (see PrimaryRole).
	Roles       []string
	Role        string
	Permissions PermissionSet
}

// Key identifies the principal for per-caller state such as idempotency keys.
func (p *Principal) Key() string { return "user:" + p.UserID.String() }

// Can reports whether the principal holds permission.
func (p *Principal) Can(permission string) bool {
	return p != nil && p.Permissions.Has(permission)
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx, or nil for an anonymous request.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
