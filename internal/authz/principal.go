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

// ActorKind says what kind of identity acted.
type ActorKind string

// The actor kinds. Audit events record them as their actor_type.
const (
	ActorUser           ActorKind = "user"
	ActorServiceAccount ActorKind = "service_account"
	ActorSystem         ActorKind = "system"
)

// Actor is who acted, in the one form every record of it is derived from: audit events
// (Kind and ID), the text created_by columns (String) and the columns that reference
// users, such as granted_by (UserID).
type Actor struct {
	Kind ActorKind
	// ID is the user's or the service account's id; uuid.Nil for the system.
	ID uuid.UUID
}

// Actor returns who acts as p: the user, the service account an API token belongs to, or
// the system when p is nil (a background job or a command-line bootstrap).
func (p *Principal) Actor() Actor {
	switch {
	case p == nil:
		return Actor{Kind: ActorSystem}
	case p.IsServiceAccount():
		return Actor{Kind: ActorServiceAccount, ID: p.ServiceAccountID}
	case p.UserID == uuid.Nil:
		return Actor{Kind: ActorSystem}
	default:
		return Actor{Kind: ActorUser, ID: p.UserID}
	}
}

// String returns the id recorded in text created_by columns: the user's or the service
// account's id, "" for the system.
func (a Actor) String() string {
	if a.Kind == ActorSystem {
		return ""
	}
	return a.ID.String()
}

// UserID returns the acting user's id for columns that reference users, or nil when no
// user acted (a service account or the system): such columns can name no one else.
func (a Actor) UserID() *uuid.UUID {
	if a.Kind != ActorUser {
		return nil
	}
	id := a.ID
	return &id
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
