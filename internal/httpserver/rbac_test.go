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
	"github.com/openwatch/openwatch/internal/rule"
	"github.com/openwatch/openwatch/internal/scan"
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

// validBodies are request bodies that pass validation, for the operations that create
// something without naming an existing resource in their path: there the service runs and
// records who acted. n makes every name unique.
var validBodies = map[string]func(n int) any{
	"createUser": func(n int) any {
		return map[string]string{"username": fmt.Sprintf("made%d", n), "email": fmt.Sprintf("made%d@example.com", n),
			"password": "matrix-password-0123", "role": authz.RoleViewer}
	},
	"createRole": func(n int) any {
		return map[string]any{"id": fmt.Sprintf("made_%d", n), "description": "made by the matrix", "permissions": []string{authz.PermHostRead}}
	},
	"createServiceAccount": func(n int) any {
		return map[string]string{"name": fmt.Sprintf("made-%d", n), "role": authz.RoleViewer}
	},
	"createHost": func(n int) any {
		return map[string]string{"hostname": fmt.Sprintf("made%d", n), "ip_address": "127.0.0.1"}
	},
	"createGroup": func(n int) any { return map[string]string{"name": fmt.Sprintf("made-%d", n)} },
	"createSSOProvider": func(n int) any {
		// Nothing is fetched from the issuer when a provider is created.
		return map[string]string{"name": fmt.Sprintf("made-%d", n), "issuer": "https://idp.example.com", "client_id": "openwatch"}
	},
	"createEnrollmentToken": func(n int) any {
		return map[string]any{"name": fmt.Sprintf("made-%d", n), "max_uses": 1}
	},
	"createCredential": func(n int) any {
		return map[string]string{"scope": "system", "name": fmt.Sprintf("made-%d", n), "username": "root",
			"auth_method": "password", "password": "matrix-password-0123"}
	},
	"generateReport": func(int) any { return map[string]any{"kind": "audit"} },
	"createReportSchedule": func(n int) any {
		return map[string]any{"name": fmt.Sprintf("made-%d", n), "kind": "audit", "cron": "0 6 * * 1", "timezone": "UTC"}
	},
	"requestException": func(n int) any {
		// A rule of its own each time: a second open exception of a rule and scope is a 409.
		rules := scan.LoadCatalog(rule.Embedded).Rules()
		return map[string]any{"rule_id": rules[n%len(rules)].ID, "scope": "fleet", "reason": fmt.Sprintf("made %d", n),
			"expires_at": time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)}
	},
}

// personOnly are the operations about a person's own password and second factor: an API
// token answers 409 there (a service account has neither), a user session does not.
var personOnly = map[string]bool{"enrollMFA": true}

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

// TestPermissionMatrix walks every operation of the spec for every built-in role, both as
// a signed-in user of the role and as an API token of a service account of the role, and
// checks that each answer is exactly what the registry allows: 403 naming the operation's
// permission when the role lacks it, anything but 401/403-for-that-permission when it
// holds it. What one of the two callers may do, the other may: both get the same status
// (operations that create something get a valid body, so the service runs and records
// who acted), except where a token has no person behind it (personOnly).
func TestPermissionMatrix(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	ops := sortedOps(t)
	unexpectedSuccesses, mismatches, differences := 0, 0, 0
	checked, n := 0, 0
	for _, role := range authz.BuiltInRoles() {
		pw := env.CreateUser("matrix_"+role.ID, role.ID)
		token := mintToken(t, env, admin, "matrix-"+role.ID, role.ID)
		perms := authz.RolePermissions(role.ID)
		for _, op := range ops {
			if op.Anonymous {
				continue
			}
			status := map[string]int{}
			for _, caller := range []string{"user", "token"} {
				req := requestFor(op)
				if body := validBodies[op.ID]; body != nil {
					n++
					req.Body, req.JSON = nil, body(n)
				}
				if caller == "user" {
					req.Token = env.Login("matrix_"+role.ID, pw).AccessToken // fresh: some operations (logout) end the session
				} else {
					req.Token = token
				}
				res := env.Do(req)
				checked++
				status[caller] = res.Status
				denied := res.Status == http.StatusForbidden && res.Err(t).Error.Detail["required_permission"] == op.Permission
				switch {
				case perms.Has(op.Permission) && (denied || res.Status == http.StatusUnauthorized):
					mismatches++
					t.Errorf("%s as %s (%s): allowed by the registry but answered %d: %s", op.ID, role.ID, caller, res.Status, res.Body)
				case !perms.Has(op.Permission) && !denied:
					unexpectedSuccesses++
					t.Errorf("%s as %s (%s): the registry denies %s but it answered %d: %s", op.ID, role.ID, caller, op.Permission, res.Status, res.Body)
				case op.Method != http.MethodGet && res.Status == http.StatusBadRequest && validBodies[op.ID] != nil:
					differences++
					t.Errorf("%s as %s (%s): a valid request answered 400: %s", op.ID, role.ID, caller, res.Body)
				}
			}
			switch {
			case personOnly[op.ID] && perms.Has(op.Permission):
				if status["token"] != http.StatusConflict {
					differences++
					t.Errorf("%s as %s (token) answered %d, want 409 (a service account has no person behind it)", op.ID, role.ID, status["token"])
				}
			case status["user"] != status["token"]:
				differences++
				t.Errorf("%s as %s: a user session answered %d but an API token %d", op.ID, role.ID, status["user"], status["token"])
			}
		}
	}
	t.Logf("checked %d role × caller × operation triples: %d unexpected successes, %d wrongly denied, %d user/token differences",
		checked, unexpectedSuccesses, mismatches, differences)
	require.Zero(t, unexpectedSuccesses)
	require.Zero(t, mismatches)
	require.Zero(t, differences)
}

// mintToken creates a service account with role and returns a new API token of it.
func mintToken(t *testing.T, env *apitest.Env, admin apitest.Session, name, role string) string {
	t.Helper()
	var sa api.ServiceAccount
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts", Token: admin.AccessToken,
		JSON: map[string]string{"name": name, "role": role}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.Decode(t, &sa)
	var tok api.APITokenCreated
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts/" + sa.Id.String() + "/tokens", Token: admin.AccessToken,
		JSON: map[string]any{"name": name, "eternal": true}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.Decode(t, &tok)
	return tok.Token
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
