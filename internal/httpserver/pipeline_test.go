package httpserver_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/authz"
)

func TestCorrelationID(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)

	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "health", Headers: map[string]string{"X-Correlation-Id": "my-trace_01"}})
	require.Equal(t, "my-trace_01", res.Header.Get("X-Correlation-Id"), "a valid id is echoed")

	for _, bad := range []string{"has space", strings.Repeat("a", 65), "semi;colon"} {
		res = env.Do(apitest.Request{Method: http.MethodGet, Path: "health", Headers: map[string]string{"X-Correlation-Id": bad}})
		got := res.Header.Get("X-Correlation-Id")
		require.NotEqual(t, bad, got)
		require.Len(t, got, 26, "replaced by a generated sortable id")
	}

	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "nope", Headers: map[string]string{"X-Correlation-Id": "trace-404"}})
	require.Equal(t, "trace-404", res.Err(t).Error.CorrelationID, "error bodies carry the id")
	require.Contains(t, env.Logs(), `"correlation_id":"trace-404"`, "log lines carry the id")
}

func TestHealthAndVersion(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)

	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "health"})
	require.Equal(t, http.StatusOK, res.Status)
	var h api.HealthResponse
	res.Decode(t, &h)
	require.Equal(t, api.HealthResponseStatusHealthy, h.Status)
	require.True(t, h.DbConnected)

	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "version"})
	require.Equal(t, http.StatusOK, res.Status)
	var v api.VersionResponse
	res.Decode(t, &v)
	require.NotEmpty(t, v.Openwatch)
	require.NotEmpty(t, v.Kensa)
	require.True(t, strings.HasPrefix(v.Go, "go"))
}

func TestHealthWhenDatabaseIsDown(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	env.StopBackground()
	env.App.Pool.Close()
	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "health"})
	require.Equal(t, http.StatusServiceUnavailable, res.Status)
	require.Equal(t, "service.unavailable", res.Err(t).Error.Code)
}

func TestServesItsOwnSpec(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "openapi.json"})
	require.Equal(t, http.StatusOK, res.Status)
	require.True(t, bytes.Equal(api.SpecJSON, res.Body), "byte-identical to the bundled JSON")
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "openapi.yaml"})
	require.Equal(t, http.StatusOK, res.Status)
	require.Equal(t, "application/yaml", res.Header.Get("Content-Type"))
	require.True(t, bytes.Equal(api.SpecYAML, res.Body), "byte-identical to the bundled YAML")
}

func TestLogin(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	pw := env.CreateUser("alice", authz.RoleViewer)

	s := env.Login("alice", pw)
	require.NotEmpty(t, s.AccessToken)
	require.True(t, strings.HasPrefix(s.RefreshToken, "owr_"))
	require.NotEmpty(t, s.Cookie)

	wrongPassword := env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/login", JSON: map[string]string{"username": "alice", "password": "wrong-password"}})
	unknownUser := env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/login", JSON: map[string]string{"username": "mallory", "password": "wrong-password"}})
	require.Equal(t, http.StatusUnauthorized, wrongPassword.Status)
	require.Equal(t, http.StatusUnauthorized, unknownUser.Status)
	a, b := wrongPassword.Err(t), unknownUser.Err(t)
	a.Error.CorrelationID, b.Error.CorrelationID = "", ""
	require.Equal(t, a, b, "unknown user and wrong password are indistinguishable")
	require.Equal(t, "auth.invalid_credentials", a.Error.Code)
}

func TestLoginSetsSecureCookie(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	pw := env.CreateUser("bob", authz.RoleViewer)
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/login", JSON: map[string]string{"username": "bob", "password": pw}})
	require.Equal(t, http.StatusOK, res.Status)
	c := res.Header.Get("Set-Cookie")
	for _, want := range []string{"openwatch_session=", "HttpOnly", "Secure", "SameSite=Lax", "Path=/"} {
		require.Contains(t, c, want)
	}
}

func TestMeWithBearerAndCookie(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	pw := env.CreateUser("carol", authz.RoleAuditor)
	s := env.Login("carol", pw)

	for name, req := range map[string]apitest.Request{
		"bearer": {Method: http.MethodGet, Path: "auth/me", Token: s.AccessToken},
		"cookie": {Method: http.MethodGet, Path: "auth/me", Cookie: s.Cookie},
	} {
		res := env.Do(req)
		require.Equal(t, http.StatusOK, res.Status, name)
		var me api.AuthMeResponse
		res.Decode(t, &me)
		require.Equal(t, "carol", me.Username, name)
		require.Equal(t, "auditor", me.Role, name)
	}
}

func TestUnauthenticated(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	s := env.Admin()
	tampered := s.AccessToken[:len(s.AccessToken)-4] + "AAAA"
	cases := []struct {
		name string
		req  apitest.Request
		code string
	}{
		{"no credential", apitest.Request{Method: http.MethodGet, Path: "auth/me"}, "auth.required"},
		{"garbage token", apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: "not-a-token"}, "auth.invalid_token"},
		{"tampered token", apitest.Request{Method: http.MethodGet, Path: "auth/me", Token: tampered}, "auth.invalid_token"},
		{"basic scheme", apitest.Request{Method: http.MethodGet, Path: "auth/me", Headers: map[string]string{"Authorization": "Basic YTpi"}}, "auth.invalid_token"},
		{"bad cookie", apitest.Request{Method: http.MethodGet, Path: "auth/me", Cookie: "nonsense"}, "auth.invalid_token"},
		{"forged cookie secret", apitest.Request{Method: http.MethodGet, Path: "auth/me", Cookie: strings.Split(s.Cookie, ".")[0] + ".forged"}, "auth.invalid_token"},
	}
	for _, tc := range cases {
		res := env.Do(tc.req)
		require.Equal(t, http.StatusUnauthorized, res.Status, tc.name)
		require.Equal(t, tc.code, res.Err(t).Error.Code, tc.name)
	}
}

func TestPermissionDenied(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	viewer := env.Login("vera", env.CreateUser("vera", authz.RoleViewer))

	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Token: viewer.AccessToken,
		JSON: map[string]string{"username": "x", "email": "x@example.com", "password": "long-enough-pw"}})
	require.Equal(t, http.StatusForbidden, res.Status)
	e := res.Err(t)
	require.Equal(t, "authz.permission_denied", e.Error.Code)
	require.Equal(t, "policy", e.Error.Fault)
	require.Equal(t, "user:write", e.Error.Detail["required_permission"])

	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Token: viewer.AccessToken, Body: []byte("{not json")})
	require.Equal(t, http.StatusForbidden, res.Status, "the permission check comes before validation")
}

func TestValidation(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	cases := []struct {
		name  string
		body  string
		field string
		msg   string
	}{
		{"malformed json", `{"username": `, "body", "not valid JSON"},
		{"missing field", `{"username":"u1","email":"u1@example.com"}`, "password", "password is required"},
		{"wrong type", `{"username":"u1","email":"u1@example.com","password":12345678}`, "password", "password must be of type string"},
		{"unknown role", `{"username":"u1","email":"u1@example.com","password":"long-enough","role":"root"}`, "role", `role "root" does not exist`},
		{"common password", `{"username":"u1","email":"u1@example.com","password":"password123"}`, "password", "too common"},
		{"bad format", `{"username":"u1","email":"not-an-email","password":"long-enough"}`, "email", "email"},
		{"too short", `{"username":"u1","email":"u1@example.com","password":"short"}`, "password", "password"},
		{"unknown field", `{"username":"u1","email":"u1@example.com","password":"long-enough","colour":"red"}`, "colour", "colour is not a known field"},
		{"empty body", ``, "body", "body"},
	}
	for _, tc := range cases {
		res := env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Token: admin.AccessToken, Body: []byte(tc.body),
			Headers: map[string]string{"Content-Type": "application/json"}})
		require.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", tc.name, res.Body)
		e := res.Err(t)
		require.Equal(t, "validation_failed", e.Error.Code, tc.name)
		require.Equal(t, "client", e.Error.Fault, tc.name)
		require.Contains(t, e.Error.HumanMessage, tc.msg, tc.name)
		require.Equal(t, tc.field, e.Error.Detail["field"], tc.name)
	}

	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/login", JSON: map[string]string{"password": "x"}})
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Equal(t, "username is required", res.Err(t).Error.HumanMessage, "the seed's message shape")

	for name, req := range map[string]apitest.Request{
		"not json":   {Body: []byte("username=a"), Headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
		"plain text": {Body: []byte(`{"username":"a","password":"b"}`), Headers: map[string]string{"Content-Type": "text/plain"}},
		"null":       {Body: []byte("null"), Headers: map[string]string{"Content-Type": "application/json"}},
		"array":      {Body: []byte(`[{"username":"a","password":"b"}]`), Headers: map[string]string{"Content-Type": "application/json"}},
		"number":     {Body: []byte(`42`), Headers: map[string]string{"Content-Type": "application/json"}},
		"deep":       {Body: []byte(strings.Repeat("[", 10000) + strings.Repeat("]", 10000)), Headers: map[string]string{"Content-Type": "application/json"}},
	} {
		req.Method, req.Path = http.MethodPost, "auth/login"
		res := env.Do(req)
		require.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", name, res.Body)
		require.Equal(t, "validation_failed", res.Err(t).Error.Code, name)
	}
}

func TestRoutingErrors(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)

	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "no/such/thing"})
	require.Equal(t, http.StatusNotFound, res.Status)
	require.Equal(t, "route.not_found", res.Err(t).Error.Code)

	res = env.Do(apitest.Request{Method: http.MethodDelete, Path: "health"})
	require.Equal(t, http.StatusMethodNotAllowed, res.Status)
	require.Equal(t, "route.method_not_allowed", res.Err(t).Error.Code)
	require.Equal(t, "GET", res.Header.Get("Allow"))

	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "/api/v2/health"})
	require.Equal(t, http.StatusNotFound, res.Status)
	require.Equal(t, "route.not_found", res.Err(t).Error.Code)
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	big := fmt.Sprintf(`{"username":"u","email":"u@example.com","password":"%s"}`, strings.Repeat("p", 3<<20))
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Token: admin.AccessToken, Body: []byte(big),
		Headers: map[string]string{"Content-Type": "application/json"}})
	require.Equal(t, http.StatusRequestEntityTooLarge, res.Status)
	require.Equal(t, "request.body_too_large", res.Err(t).Error.Code)
}

func TestDuplicateUser(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	body := map[string]string{"username": "dup", "email": "dup@example.com", "password": "long-enough-pw"}
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Token: admin.AccessToken, JSON: body})
	require.Equal(t, http.StatusCreated, res.Status)
	var u api.UserResponse
	res.Decode(t, &u)
	require.Equal(t, []string{"viewer"}, u.Roles)
	body["username"] = "DUP"
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Token: admin.AccessToken, JSON: body})
	require.Equal(t, http.StatusConflict, res.Status)
	require.Equal(t, "resource.conflict", res.Err(t).Error.Code)
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	key := map[string]string{"Idempotency-Key": "create-ivan-1"}
	body := map[string]string{"username": "ivan", "email": "ivan@example.com", "password": "long-enough-pw"}

	first := env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Token: admin.AccessToken, JSON: body, Headers: key})
	require.Equal(t, http.StatusCreated, first.Status)
	replay := env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Token: admin.AccessToken, JSON: body, Headers: key})
	require.Equal(t, http.StatusCreated, replay.Status, "a replay returns the original status")
	require.JSONEq(t, string(first.Body), string(replay.Body), "and the original body")
	require.Equal(t, "true", replay.Header.Get("Idempotent-Replayed"))

	body["email"] = "other@example.com"
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Token: admin.AccessToken, JSON: body, Headers: key})
	require.Equal(t, http.StatusConflict, res.Status)
	require.Equal(t, "idempotency.key_reused", res.Err(t).Error.Code)

	require.NotEmpty(t, env.Login("ivan", "long-enough-pw").AccessToken, "the user was created once")
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Token: admin.AccessToken,
		JSON:    map[string]string{"username": "x", "email": "x@example.com", "password": "long-enough-pw"},
		Headers: map[string]string{"Idempotency-Key": strings.Repeat("k", 129)}})
	require.Equal(t, http.StatusBadRequest, res.Status, "keys are at most 128 characters")
	require.Equal(t, "Idempotency-Key", res.Err(t).Error.Detail["field"])
}

func TestIdempotencyKeyConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	body := map[string]string{"username": "racer", "email": "racer@example.com", "password": "long-enough-pw"}
	const n = 20
	statuses := make([]int, n)
	codes := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Token: admin.AccessToken, JSON: body,
				Headers: map[string]string{"Idempotency-Key": "race-key"}})
			statuses[i] = res.Status
			if res.Status >= 400 {
				var e apitest.Envelope
				_ = json.Unmarshal(res.Body, &e)
				codes[i] = e.Error.Code
			}
		}()
	}
	wg.Wait()
	for i := range n {
		switch statuses[i] {
		case http.StatusCreated:
		case http.StatusConflict:
			require.Equal(t, "idempotency.in_progress", codes[i], "a concurrent duplicate is refused, never run twice")
		default:
			t.Fatalf("unexpected status %d (%s)", statuses[i], codes[i])
		}
	}
	n2, err := env.App.Users.Count(t.Context())
	require.NoError(t, err)
	require.EqualValues(t, 2, n2, "admin plus exactly one created user")
}

func TestCSRFDefenceForCookieWrites(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	s := env.Admin()
	body := map[string]string{"username": "csrf1", "email": "c@example.com", "password": "long-enough-pw"}
	cases := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same-site neighbour", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"foreign origin", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"own app", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "https://example.com"}, http.StatusCreated},
	}
	for i, tc := range cases {
		body["username"] = fmt.Sprintf("csrf%d", i)
		res := env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Cookie: s.Cookie, JSON: body, Headers: tc.headers})
		require.Equal(t, tc.want, res.Status, tc.name)
		if tc.want == http.StatusForbidden {
			require.Equal(t, "auth.csrf_rejected", res.Err(t).Error.Code, tc.name)
		}
	}
	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Cookie: s.Cookie, Headers: map[string]string{"Sec-Fetch-Site": "cross-site"}})
	require.Equal(t, http.StatusOK, res.Status, "reads are not changes")
	res = env.Do(apitest.Request{Method: http.MethodPost, Path: "users", Token: s.AccessToken, JSON: map[string]string{"username": "bearer1", "email": "b@example.com", "password": "long-enough-pw"},
		Headers: map[string]string{"Sec-Fetch-Site": "cross-site"}})
	require.Equal(t, http.StatusCreated, res.Status, "bearer tokens are not ambient credentials")
}

// TestMalformedQueryString: a query string that is not valid percent-encoding is a 400
// naming the parameter on every operation, anonymous or not, never read as if the
// parameter were absent.
func TestMalformedQueryString(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	cases := []struct {
		path, field string
	}{
		{"audit/events?cursor=%%%", "cursor"},
		{"audit/events?limit=5&cursor=%zz", "cursor"},
		{"audit/events?action=%E", "action"},
		{"audit/events?cursor=a;b", "cursor"},
		{"hosts?bad%2=1", "bad%2"},
		{"health?x=%%%", "x"},
		{"version?%41=%", "A"},
		{"openapi.json?q=100%", "q"},
		{"auth/me?x=%GG", "x"},
	}
	for _, tc := range cases {
		res := env.Do(apitest.Request{Method: http.MethodGet, Path: tc.path, Token: admin.AccessToken})
		require.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", tc.path, res.Body)
		e := res.Err(t)
		require.Equal(t, "validation_failed", e.Error.Code, tc.path)
		require.Equal(t, tc.field, e.Error.Detail["field"], tc.path)
		require.Contains(t, e.Error.HumanMessage, tc.field, tc.path)
	}
	// Well-formed escapes still pass.
	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "audit/events?action=user.created%2B&limit=5", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
}

// TestBasicAuthWithAPIToken: HTTP Basic takes the token id as user name and, as password,
// either the secret (the part after the dot) or the whole token as it was handed out.
func TestBasicAuthWithAPIToken(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	admin := env.Admin()
	var sa api.ServiceAccount
	res := env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts", Token: admin.AccessToken,
		JSON: map[string]string{"name": "basic", "role": "viewer"}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.Decode(t, &sa)
	mint := func(name string) api.APITokenCreated {
		var tok api.APITokenCreated
		res := env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts/" + sa.Id.String() + "/tokens", Token: admin.AccessToken,
			JSON: map[string]any{"name": name}})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		res.Decode(t, &tok)
		return tok
	}
	tok, other := mint("one"), mint("two")
	id := tok.TokenMeta.Id.String()
	secret := tok.Token[strings.Index(tok.Token, ".")+1:]
	basic := func(user, password string) *apitest.Response {
		raw := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
		return env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Headers: map[string]string{"Authorization": "Basic " + raw}})
	}
	for name, pw := range map[string]string{"the secret": secret, "the whole token": tok.Token} {
		res := basic(id, pw)
		require.Equal(t, http.StatusOK, res.Status, "%s: %s", name, res.Body)
		var me api.AuthMeResponse
		res.Decode(t, &me)
		require.Equal(t, sa.Id, me.Id, name)
	}
	for name, pw := range map[string]string{
		"a wrong secret":         secret[:len(secret)-2] + "xx",
		"a whole token, wrong":   tok.Token[:len(tok.Token)-2] + "xx",
		"another token":          other.Token,
		"another token's secret": other.Token[strings.Index(other.Token, ".")+1:],
		"a token without secret": tok.Token[:strings.Index(tok.Token, ".")+1],
		"the token id":           id,
		"an empty password":      "",
	} {
		res := basic(id, pw)
		require.Equal(t, http.StatusUnauthorized, res.Status, "%s: %s", name, res.Body)
		require.Equal(t, "auth.invalid_token", res.Err(t).Error.Code, name)
	}
}
