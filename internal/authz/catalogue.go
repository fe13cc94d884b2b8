package authz

import (
	"slices"
	"sort"
)

// Category groups related permissions.
type Category struct {
	ID          string
	Description string
}

// Permission is one `category:action` right.
type Permission struct {
	ID          string
	Category    string
	Description string
	// Dangerous marks permissions that can take over the system or destroy data.
	Dangerous bool
}

// Role is a named set of permissions.
type Role struct {
	ID          string
	Description string
	BuiltIn     bool
	Permissions []string
}

// The permissions of the catalogue.
const (
	PermAccountSelf = "account:self"
	PermUserWrite   = "user:write"
)

// Categories lists the permission categories.
func Categories() []Category {
	return []Category{
		{ID: "account", Description: "The caller's own identity and session."},
		{ID: "user", Description: "User accounts."},
	}
}

// Permissions lists every permission, the only ones an operation may require.
func Permissions() []Permission {
	return []Permission{
		{ID: PermAccountSelf, Category: "account", Description: "Read and manage one's own identity."},
		{ID: PermUserWrite, Category: "user", Description: "Create user accounts.", Dangerous: true},
	}
}

// Built-in role ids.
const (
	RoleViewer        = "viewer"
	RoleAuditor       = "auditor"
	RoleSecurityAdmin = "security_admin"
	RoleAdmin         = "admin"
)

// BuiltInRoles lists the built-in roles with their permission sets.
func BuiltInRoles() []Role {
	all := make([]string, 0, len(Permissions()))
	for _, p := range Permissions() {
		all = append(all, p.ID)
	}
	sort.Strings(all)
	return []Role{
		{ID: RoleViewer, Description: "Read-only access.", BuiltIn: true, Permissions: []string{PermAccountSelf}},
		{ID: RoleAuditor, Description: "Read access plus audit and compliance review.", BuiltIn: true, Permissions: []string{PermAccountSelf}},
		{ID: RoleSecurityAdmin, Description: "Security configuration: users and access.", BuiltIn: true, Permissions: []string{PermAccountSelf, PermUserWrite}},
		{ID: RoleAdmin, Description: "Full system administration.", BuiltIn: true, Permissions: all},
	}
}

// IsPermission reports whether id is in the catalogue.
func IsPermission(id string) bool {
	return slices.ContainsFunc(Permissions(), func(p Permission) bool { return p.ID == id })
}

// RolePermissions returns the permission set of a built-in role, or nil for an unknown role.
func RolePermissions(role string) PermissionSet {
	for _, r := range BuiltInRoles() {
		if r.ID == role {
			return NewPermissionSet(r.Permissions...)
		}
	}
	return nil
}

// PermissionSet is a set of permission ids.
type PermissionSet map[string]struct{}

// NewPermissionSet returns a set holding ids.
func NewPermissionSet(ids ...string) PermissionSet {
	s := make(PermissionSet, len(ids))
	for _, id := range ids {
		s[id] = struct{}{}
	}
	return s
}

// Has reports whether the set holds id.
func (s PermissionSet) Has(id string) bool {
	_, ok := s[id]
	return ok
}

// Sorted returns the ids in order.
func (s PermissionSet) Sorted() []string {
	out := make([]string, 0, len(s))
	for id := range s {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
