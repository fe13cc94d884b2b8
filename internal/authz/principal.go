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
	// ServiceAccountID and TokenID are set when the caller is an API token of a service
	// account (UserID and SessionID are then zero); Username is the account's name.
	ServiceAccountID uuid.UUID
	TokenID          uuid.UUID
	Username         string
	Email            string
	// Roles are the role ids held; Role is the primary one (see PrimaryRole).
	Roles       []string
	Role        string
	Permissions PermissionSet
}

// Key identifies the principal for per-caller state such as idempotency keys.
func (p *Principal) Key() string {
	if p.IsServiceAccount() {
		return "token:" + p.TokenID.String()
	}
	return "user:" + p.UserID.String()
}

// IsServiceAccount reports whether the caller is an API token of a service account.
func (p *Principal) IsServiceAccount() bool { return p.TokenID != uuid.Nil }

// ID returns the id of the acting identity: the user, or the service account.
func (p *Principal) ID() uuid.UUID {
	if p.IsServiceAccount() {
		return p.ServiceAccountID
	}
	return p.UserID
}

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
