package httpserver_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/gen/client"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/authz"
)

// TestGoClientSDK drives the server over TLS on loopback with the generated Go client.
func TestGoClientSDK(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	pw := env.CreateUser("sdk", authz.RoleViewer)
	ts := httptest.NewTLSServer(env.App.Handler())
	defer ts.Close()
	ctx := context.Background()

	c, err := client.NewClientWithResponses(ts.URL+"/api/v1", client.WithHTTPClient(ts.Client()))
	require.NoError(t, err)
	login, err := c.LoginWithResponse(ctx, client.LoginJSONRequestBody{Username: "sdk", Password: pw})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, login.StatusCode())
	require.NotNil(t, login.JSON200)

	bearer := func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+login.JSON200.AccessToken)
		return nil
	}
	me, err := c.GetMeWithResponse(ctx, bearer)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, me.StatusCode())
	require.Equal(t, "sdk", me.JSON200.Username)

	denied, err := c.CreateUserWithResponse(ctx, nil, client.CreateUserJSONRequestBody{Username: "x", Email: "x@example.com", Password: "long-enough-pw"}, bearer)
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, denied.StatusCode())
	require.NotNil(t, denied.JSON403)
	require.Equal(t, client.ErrorCodeAuthzPermissionDenied, denied.JSON403.Error.Code)
}
