package authz_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/authz"
)

// TestActor: who acted is the user, the service account of an API token, or the system;
// only a user fills columns that reference users.
func TestActor(t *testing.T) {
	user, sa, token := uuid.New(), uuid.New(), uuid.New()
	a := (&authz.Principal{UserID: user, SessionID: uuid.New()}).Actor()
	require.Equal(t, authz.Actor{Kind: authz.ActorUser, ID: user}, a)
	require.Equal(t, user.String(), a.String())
	require.Equal(t, &user, a.UserID())

	a = (&authz.Principal{ServiceAccountID: sa, TokenID: token, Username: "ci"}).Actor()
	require.Equal(t, authz.Actor{Kind: authz.ActorServiceAccount, ID: sa}, a)
	require.Equal(t, sa.String(), a.String())
	require.Nil(t, a.UserID(), "a service account is no user: granted_by stays null, never the nil UUID")

	for _, p := range []*authz.Principal{nil, {}} {
		a = p.Actor()
		require.Equal(t, authz.ActorSystem, a.Kind)
		require.Empty(t, a.String())
		require.Nil(t, a.UserID())
	}
}
