package authz_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/authz"
)

// TestBuiltInRolesContainViewer: every built-in role can read what a viewer reads, so a
// token or assignment of the viewer role is never "higher" than another built-in role.
func TestBuiltInRolesContainViewer(t *testing.T) {
	viewer := authz.RolePermissions(authz.RoleViewer)
	for _, r := range authz.BuiltInRoles() {
		set := authz.RolePermissions(r.ID)
		for p := range viewer {
			require.True(t, set.Has(p), "role %s lacks the viewer's %s", r.ID, p)
		}
	}
}
