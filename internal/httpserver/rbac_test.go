package httpserver_test

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/authz"
)

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// requestFor builds a request for an operation. Bodies are empty JSON objects: the
// permission check runs before validation, so a denied call never looks at them, and an
// allowed one may answer 400 — which still proves it passed authorization.
func requestFor(op *authz.Operation) apitest.Request {
	path := strings.TrimPrefix(pathParam.ReplaceAllString(op.Path, "0190a0c4-0000-7000-8000-00000000beef"), "/")
	req := apitest.Request{Method: op.Method, Path: path}
	if op.Spec.RequestBody != nil {
		req.Body = []byte(`{}`)
		req.Headers = map[string]string{"Content-Type": "application/json"}
	}
	return req
}

func sortedOps(t *testing.T) []*authz.Operation {
	_, ops, err := app.LoadSpec(api.SpecJSON)
	require.NoError(t, err)
	out := make([]*authz.Operation, 0, len(ops))
	for _, op := range ops {
		out = append(out, op)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// TestPermissionMatrix walks every operation of the spec for every built-in role and
// checks that each answer is exactly what the registry allows: 403 naming the operation's
// permission when the role lacks it, anything but 401/403-for-that-permission when it
// holds it.
func TestPermissionMatrix(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	env.Admin()
	ops := sortedOps(t)
	unexpectedSuccesses, mismatches := 0, 0
	checked := 0
	for _, role := range authz.BuiltInRoles() {
		pw := env.CreateUser("matrix_"+role.ID, role.ID)
		perms := authz.RolePermissions(role.ID)
		for _, op := range ops {
			if op.Anonymous {
				continue
			}
			s := env.Login("matrix_"+role.ID, pw) // fresh: some operations (logout) end the session
			req := requestFor(op)
			req.Token = s.AccessToken
			res := env.Do(req)
			checked++
			denied := res.Status == http.StatusForbidden && res.Err(t).Error.Detail["required_permission"] == op.Permission
			switch {
			case perms.Has(op.Permission) && (denied || res.Status == http.StatusUnauthorized):
				mismatches++
				t.Errorf("%s as %s: allowed by the registry but answered %d: %s", op.ID, role.ID, res.Status, res.Body)
			case !perms.Has(op.Permission) && !denied:
				unexpectedSuccesses++
				t.Errorf("%s as %s: the registry denies %s but it answered %d: %s", op.ID, role.ID, op.Permission, res.Status, res.Body)
			}
		}
	}
	t.Logf("checked %d role × operation pairs: %d unexpected successes, %d wrongly denied", checked, unexpectedSuccesses, mismatches)
	require.Zero(t, unexpectedSuccesses)
	require.Zero(t, mismatches)
}

// TestDeadCredentialsMatrix: anonymous callers, disabled users, revoked tokens and
// expired tokens get 401 from every operation that is not anonymous.
func TestDeadCredentialsMatrix(t *testing.T) {
	t.Parallel()
	now := time.Now()
	env := apitest.New(t, func(d *app.Deps) { d.NowFunc = func() time.Time { return now } })
	admin := env.Admin()
	ops := sortedOps(t)

	revoked := env.Login("revoked", env.CreateUser("revoked", authz.RoleAdmin))
	require.Equal(t, http.StatusNoContent, env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/logout", Token: revoked.AccessToken}).Status)

	disabled := env.Login("disabled", env.CreateUser("disabled", authz.RoleAdmin))
	var u api.UserResponse
	list := env.Do(apitest.Request{Method: http.MethodGet, Path: "users?limit=200", Token: admin.AccessToken})
	var page api.UsersListResponse
	list.Decode(t, &page)
	for _, x := range page.Users {
		if x.Username == "disabled" {
			u = x
		}
	}
	require.Equal(t, http.StatusOK, env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + u.Id.String() + ":disable", Token: admin.AccessToken}).Status)

	expiring := env.Login("expiring", env.CreateUser("expiring", authz.RoleAdmin))

	// API tokens: one revoked, one that expires with the clock jump below.
	var sa api.ServiceAccount
	env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts", Token: admin.AccessToken,
		JSON: map[string]string{"name": "matrix", "role": "admin"}}).Decode(t, &sa)
	mint := func(ttl string) api.APITokenCreated {
		var tok api.APITokenCreated
		res := env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts/" + sa.Id.String() + "/tokens", Token: admin.AccessToken,
			JSON: map[string]any{"name": "t" + ttl, "ttl": ttl}})
		require.Equal(t, http.StatusCreated, res.Status)
		res.Decode(t, &tok)
		return tok
	}
	revokedToken, expiringToken := mint("1h"), mint("5m")
	require.Equal(t, http.StatusNoContent, env.Do(apitest.Request{Method: http.MethodDelete,
		Path: "service-accounts/" + sa.Id.String() + "/tokens/" + revokedToken.TokenMeta.Id.String(), Token: admin.AccessToken}).Status)

	callers := map[string]func(*apitest.Request){
		"anonymous":      func(*apitest.Request) {},
		"revoked token":  func(r *apitest.Request) { r.Token = revoked.AccessToken },
		"revoked cookie": func(r *apitest.Request) { r.Cookie = revoked.Cookie },
		"disabled user":  func(r *apitest.Request) { r.Token = disabled.AccessToken },
		"expired token":  func(r *apitest.Request) { r.Token = expiring.AccessToken },
		"garbage token":  func(r *apitest.Request) { r.Token = "garbage" },
	}
	now = now.Add(16 * time.Minute) // past the access token lifetime, within the session's
	env.App.Auth.InvalidateToken(expiringToken.TokenMeta.Id)
	unexpected := 0
	for name, set := range callers {
		for _, op := range ops {
			if op.Anonymous {
				continue
			}
			req := requestFor(op)
			set(&req)
			res := env.Do(req)
			if res.Status != http.StatusUnauthorized {
				unexpected++
				t.Errorf("%s as %s answered %d, want 401: %s", op.ID, name, res.Status, res.Body)
			}
		}
	}
	require.Zero(t, unexpected, fmt.Sprintf("%d unexpected answers", unexpected))
}
