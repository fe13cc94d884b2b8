package sso_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/auth"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/reqinfo"
	"github.com/openwatch/openwatch/internal/sso"
	"github.com/openwatch/openwatch/internal/sso/ssotest"
)

// publicURL is the server's configured public URL: the redirect URI is built under it.
// Nothing connects to it: the test's browser stops at the redirect and hands the URL to
// the server under test.
const publicURL = "http://127.0.0.1:8443"

// The accounts at the identity provider.
var (
	alice = ssotest.User{Subject: "sub-alice", Username: "alice", Password: "alice-password", Email: "alice@example.com", Groups: []string{"staff", "ops"}}
	bob   = ssotest.User{Subject: "sub-bob", Username: "bob", Password: "bob-password", Email: "bob@example.com", Groups: []string{"admins"}}
	carol = ssotest.User{Subject: "sub-carol", Username: "carol", Password: "carol-password", Email: "carol@example.com", Groups: []string{"contractors"}}
)

// clock is the server's clock: real time plus an offset the test moves forward.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

type bundle struct {
	t     *testing.T
	env   *apitest.Env
	op    *ssotest.Provider
	admin apitest.Session
	clock *clock
}

func setup(t *testing.T) *bundle {
	t.Helper()
	op, err := ssotest.Start(ssotest.Options{ClientID: "openwatch", ClientSecret: "client-secret-1", Users: []ssotest.User{alice, bob, carol}})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, op.Close()) })
	clk := &clock{}
	env := apitest.New(t, func(d *app.Deps) {
		d.NowFunc = clk.now
		d.Config.Server.PublicURL = publicURL
	})
	return &bundle{t: t, env: env, op: op, admin: env.Admin(), clock: clk}
}

// provider is a valid provider body for the test's identity provider: ops → security_admin,
// admins → admin, no default role.
func (b *bundle) provider(name string) map[string]any {
	return map[string]any{"name": name, "issuer": b.op.Issuer, "client_id": b.op.ClientID, "client_secret": b.op.ClientSecret,
		"role_mappings": []map[string]string{{"group": "ops", "role": authz.RoleSecurityAdmin}, {"group": "staff", "role": authz.RoleViewer},
			{"group": "admins", "role": authz.RoleAdmin}}}
}

func (b *bundle) create(body map[string]any) api.SSOProvider {
	b.t.Helper()
	res := b.env.Do(apitest.Request{Method: http.MethodPost, Path: "sso/providers", Token: b.admin.AccessToken, JSON: body})
	require.Equal(b.t, http.StatusCreated, res.Status, "%s", res.Body)
	var p api.SSOProvider
	res.Decode(b.t, &p)
	return p
}

// browser is a user agent with its cookies at the identity provider.
type browser struct {
	t      *testing.T
	client *http.Client
	// bound is the openwatch_sso cookie OpenWatch set at the start.
	bound string
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, client: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			if strings.HasPrefix(req.URL.Path, "/api/v1/auth/sso/") {
				return http.ErrUseLastResponse // back at OpenWatch: the test delivers it
			}
			return nil
		}}}
}

// start asks OpenWatch to start a sign-in and returns the identity provider's URL.
func (b *bundle) start(br *browser, id string) string {
	b.t.Helper()
	res := b.env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/sso/" + id + "/login"})
	require.Equal(b.t, http.StatusFound, res.Status, "%s", res.Body)
	loc := res.Header.Get("Location")
	require.True(b.t, strings.HasPrefix(loc, b.op.Issuer+"/"), "redirected to the provider: %s", loc)
	for _, c := range (&http.Response{Header: res.Header}).Cookies() {
		if c.Name == sso.CookieName {
			br.bound = c.Value
			require.True(b.t, c.HttpOnly && c.Secure, "the binding cookie is HttpOnly and Secure")
		}
	}
	require.NotEmpty(b.t, br.bound, "the start binds the login to the browser")
	return loc
}

// authorize signs in at the identity provider from authURL and returns the callback URL
// the provider redirects to.
func (br *browser) authorize(authURL string, u ssotest.User) *url.URL {
	t := br.t
	t.Helper()
	res, err := br.client.Get(authURL)
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode, "the provider's login form: %s", body)
	id := res.Request.URL.Query().Get("authRequestID")
	require.NotEmpty(t, id, "the login form names its auth request: %s", res.Request.URL)
	form := url.Values{"id": {id}, "username": {u.Username}, "password": {u.Password}}
	res, err = br.client.PostForm(res.Request.URL.Scheme+"://"+res.Request.URL.Host+"/login/username", form)
	require.NoError(t, err)
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	require.Equal(t, http.StatusFound, res.StatusCode, "the provider redirects back to OpenWatch: %s", body)
	cb, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, publicURL, cb.Scheme+"://"+cb.Host)
	return cb
}

// callback delivers the provider's redirect to OpenWatch and returns where OpenWatch sends
// the browser.
func (b *bundle) callback(br *browser, cb *url.URL) *url.URL {
	b.t.Helper()
	req := apitest.Request{Method: http.MethodGet, Path: cb.RequestURI()}
	if br.bound != "" {
		req.Headers = map[string]string{"Cookie": sso.CookieName + "=" + br.bound}
	}
	res := b.env.Do(req)
	require.Equal(b.t, http.StatusFound, res.Status, "%s", res.Body)
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(b.t, err)
	require.Empty(b.t, loc.Host, "OpenWatch redirects within itself")
	for _, k := range []string{"access_token", "id_token", "refresh_token", "code"} {
		require.False(b.t, loc.Query().Has(k), "no token in a URL: %s", loc)
	}
	return loc
}

// signIn runs a whole sign-in of u through provider id and returns the handoff code.
func (b *bundle) signIn(id string, u ssotest.User) string {
	b.t.Helper()
	br := newBrowser(b.t)
	loc := b.callback(br, br.authorize(b.start(br, id), u))
	require.Equal(b.t, "/sso/callback", loc.Path, "signed in: %s", loc)
	code := loc.Query().Get("handoff")
	require.NotEmpty(b.t, code)
	return code
}

// refused runs a sign-in expected to fail and returns the message shown on the sign-in page.
func refusedAt(t *testing.T, loc *url.URL) string {
	t.Helper()
	require.Equal(t, "/sign-in", loc.Path, "refused: %s", loc)
	msg := loc.Query().Get("sso_error")
	require.NotEmpty(t, msg)
	return msg
}

func (b *bundle) exchange(code string) *apitest.Response {
	return b.env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/sso/handoff", JSON: map[string]string{"handoff_code": code}})
}

func (b *bundle) auditActions(action string) int {
	var n int
	require.NoError(b.t, b.env.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE action = $1`, action).Scan(&n))
	return n
}

func TestDiscover(t *testing.T) {
	t.Parallel()
	b := setup(t)
	res := b.env.Do(apitest.Request{Method: http.MethodPost, Path: "sso/providers:discover", Token: b.admin.AccessToken,
		JSON: map[string]string{"issuer": b.op.Issuer}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var d api.SSODiscovery
	res.Decode(t, &d)
	require.Equal(t, b.op.Issuer, d.Issuer)
	require.True(t, strings.HasPrefix(d.AuthorizationEndpoint, b.op.Issuer+"/"))
	require.True(t, strings.HasPrefix(d.TokenEndpoint, b.op.Issuer+"/"))
	require.True(t, strings.HasPrefix(d.JwksUri, b.op.Issuer+"/"))
	require.Contains(t, d.CodeChallengeMethodsSupported, "S256")

	for _, issuer := range []string{"ftp://127.0.0.1/", "http://idp.example.com", "not a url", "https://idp.example.com/?q=1"} {
		res = b.env.Do(apitest.Request{Method: http.MethodPost, Path: "sso/providers:discover", Token: b.admin.AccessToken,
			JSON: map[string]string{"issuer": issuer}})
		require.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", issuer, res.Body)
		require.Equal(t, "issuer", res.Err(t).Error.Detail["field"])
	}
	// A loopback port nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	res = b.env.Do(apitest.Request{Method: http.MethodPost, Path: "sso/providers:discover", Token: b.admin.AccessToken,
		JSON: map[string]string{"issuer": closed}})
	require.Equal(t, http.StatusBadGateway, res.Status, "%s", res.Body)
	require.Equal(t, "sso.provider_unreachable", res.Err(t).Error.Code)

	viewer := b.env.Login("val", b.env.CreateUser("val", authz.RoleViewer))
	res = b.env.Do(apitest.Request{Method: http.MethodPost, Path: "sso/providers:discover", Token: viewer.AccessToken,
		JSON: map[string]string{"issuer": b.op.Issuer}})
	require.Equal(t, http.StatusForbidden, res.Status)
	require.Equal(t, authz.PermSSOProvider, res.Err(t).Error.Detail["required_permission"])
}

// TestCodeFlow: a new user signs in through the provider (code flow with PKCE), is
// created just in time with the role the first matching mapping gives, exchanges the
// handoff code for a session like a password sign-in, and is re-mapped at the next sign-in.
func TestCodeFlow(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.create(b.provider("Corp"))

	res := b.env.Do(apitest.Request{Method: http.MethodGet, Path: "sso/providers/enabled"})
	require.Equal(t, http.StatusOK, res.Status)
	var enabled api.SSOEnabledProviderList
	res.Decode(t, &enabled)
	require.Equal(t, []api.SSOEnabledProvider{{Id: p.Id, Name: "Corp", LoginPath: "/api/v1/auth/sso/" + p.Id.String() + "/login"}}, enabled.Providers)

	code := b.signIn(p.Id.String(), alice)
	res = b.exchange(code)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var login api.AuthLoginResponse
	res.Decode(t, &login)
	require.Equal(t, "alice", login.User.Username)
	require.Equal(t, "alice@example.com", login.User.Email)
	require.Equal(t, authz.RoleSecurityAdmin, login.User.Role, "ops (the first mapping alice is in) gives security_admin")
	var cookie string
	for _, c := range (&http.Response{Header: res.Header}).Cookies() {
		if c.Name == auth.CookieName {
			cookie = c.Value
		}
	}
	require.NotEmpty(t, cookie, "the handoff sets the session cookie like a password sign-in")
	res = b.env.Do(apitest.Request{Method: http.MethodGet, Path: "users", Token: login.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = b.env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/me", Cookie: cookie})
	require.Equal(t, http.StatusOK, res.Status)
	require.Equal(t, 1, b.auditActions("user.created")-1, "alice was created just in time (the admin is the other)")
	require.Equal(t, 1, b.auditActions("sso.login"))

	// Roles are re-mapped at every sign-in: without ops, alice is a viewer (staff).
	body := b.provider("Corp")
	body["role_mappings"] = []map[string]string{{"group": "staff", "role": authz.RoleViewer}}
	res = b.env.Do(apitest.Request{Method: http.MethodPut, Path: "sso/providers/" + p.Id.String(), Token: b.admin.AccessToken, JSON: body})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = b.exchange(b.signIn(p.Id.String(), alice))
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &login)
	require.Equal(t, authz.RoleViewer, login.User.Role)
	require.Equal(t, 2, b.auditActions("user.created"), "the same user, linked by (provider, subject)")
	res = b.env.Do(apitest.Request{Method: http.MethodGet, Path: "users", Token: login.AccessToken})
	require.Equal(t, http.StatusForbidden, res.Status, "a viewer now")

	// When the workspace requires MFA, an SSO session is not restricted: the identity
	// provider was its second factor. A password session without MFA is.
	localViewer := b.env.Login("val", b.env.CreateUser("val", authz.RoleViewer))
	res = b.env.Do(apitest.Request{Method: http.MethodPut, Path: "system/security/config", Token: b.admin.AccessToken, JSON: map[string]bool{"require_mfa": true}})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = b.exchange(b.signIn(p.Id.String(), alice))
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	login = api.AuthLoginResponse{}
	res.Decode(t, &login)
	require.Nil(t, login.MfaEnrollmentRequired, "no OpenWatch MFA for an SSO session")
	res = b.env.Do(apitest.Request{Method: http.MethodGet, Path: "hosts", Token: login.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = b.env.Do(apitest.Request{Method: http.MethodGet, Path: "hosts", Token: localViewer.AccessToken})
	require.Equal(t, http.StatusForbidden, res.Status, "a password session without MFA is restricted")
}

// TestUnknownUserRefused: a user no mapping matches is refused when the provider has no
// default role, and created with the default role when it has one.
func TestUnknownUserRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.create(b.provider("Corp"))
	br := newBrowser(t)
	msg := refusedAt(t, b.callback(br, br.authorize(b.start(br, p.Id.String()), carol)))
	require.Contains(t, msg, "none of your groups maps to a role")
	var n int
	require.NoError(t, b.env.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM users WHERE username = 'carol'`).Scan(&n))
	require.Zero(t, n, "no user was created")
	require.Equal(t, 1, b.auditActions("sso.login_refused"))

	body := b.provider("Corp")
	body["default_role"] = authz.RoleAuditor
	res := b.env.Do(apitest.Request{Method: http.MethodPut, Path: "sso/providers/" + p.Id.String(), Token: b.admin.AccessToken, JSON: body})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = b.exchange(b.signIn(p.Id.String(), carol))
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var login api.AuthLoginResponse
	res.Decode(t, &login)
	require.Equal(t, authz.RoleAuditor, login.User.Role)

	// A deleted user's identity signs in again as a new user.
	res = b.env.Do(apitest.Request{Method: http.MethodDelete, Path: "users/" + login.User.Id.String(), Token: b.admin.AccessToken})
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	res = b.exchange(b.signIn(p.Id.String(), carol))
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var again api.AuthLoginResponse
	res.Decode(t, &again)
	require.NotEqual(t, login.User.Id, again.User.Id)
	require.Equal(t, "carol", again.User.Username)
}

// TestStateChecks: a wrong state, a replayed one, one bound to another browser, an expired
// login, a tampered nonce and a tampered PKCE challenge are all refused with a readable
// message on the sign-in page.
func TestStateChecks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.create(b.provider("Corp")).Id.String()
	// in returns the bundle for subtest t.
	in := func(t *testing.T) *bundle { c := *b; c.t = t; return &c }

	t.Run("wrong state", func(t *testing.T) {
		b := in(t)
		br := newBrowser(t)
		cb := br.authorize(b.start(br, id), alice)
		q := cb.Query()
		q.Set("state", "forged-state")
		cb.RawQuery = q.Encode()
		br.bound = "forged-state"
		require.Contains(t, refusedAt(t, b.callback(br, cb)), "unknown or was already completed")
	})
	t.Run("replayed state", func(t *testing.T) {
		b := in(t)
		br := newBrowser(t)
		cb := br.authorize(b.start(br, id), alice)
		require.Equal(t, "/sso/callback", b.callback(br, cb).Path)
		require.Contains(t, refusedAt(t, b.callback(br, cb)), "unknown or was already completed")
	})
	t.Run("another browser", func(t *testing.T) {
		b := in(t)
		br := newBrowser(t)
		cb := br.authorize(b.start(br, id), alice)
		br.bound = ""
		require.Contains(t, refusedAt(t, b.callback(br, cb)), "another browser")
	})
	t.Run("identity provider error", func(t *testing.T) {
		b := in(t)
		br := newBrowser(t)
		b.start(br, id)
		cb, _ := url.Parse(publicURL + sso.CallbackPath(uuid.MustParse(id)) + "?" + url.Values{"state": {br.bound},
			"error": {"access_denied"}, "error_description": {"The user said no"}}.Encode())
		msg := refusedAt(t, b.callback(br, cb))
		require.Contains(t, msg, "access_denied")
		require.Contains(t, msg, "The user said no")
	})
	t.Run("expired login", func(t *testing.T) {
		tb := setup(t)
		tid := tb.create(tb.provider("Corp")).Id.String()
		br := newBrowser(t)
		cb := br.authorize(tb.start(br, tid), alice)
		tb.clock.advance(sso.LoginTTL + time.Second)
		require.Contains(t, refusedAt(t, tb.callback(br, cb)), "expired")
	})
	t.Run("tampered nonce", func(t *testing.T) {
		b := in(t)
		br := newBrowser(t)
		u, err := url.Parse(b.start(br, id))
		require.NoError(t, err)
		q := u.Query()
		require.NotEmpty(t, q.Get("nonce"))
		q.Set("nonce", "another-nonce")
		u.RawQuery = q.Encode()
		require.Contains(t, refusedAt(t, b.callback(br, br.authorize(u.String(), alice))), "nonce differs")
	})
	t.Run("tampered PKCE challenge", func(t *testing.T) {
		b := in(t)
		br := newBrowser(t)
		u, err := url.Parse(b.start(br, id))
		require.NoError(t, err)
		q := u.Query()
		require.Equal(t, "S256", q.Get("code_challenge_method"))
		q.Set("code_challenge", "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU")
		u.RawQuery = q.Encode()
		require.Contains(t, refusedAt(t, b.callback(br, br.authorize(u.String(), alice))), "did not accept the sign-in code")
	})
}

// TestHandoff: a handoff code works once, for 60 seconds; forged codes are refused; of
// concurrent exchanges of one code exactly one wins.
func TestHandoff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.create(b.provider("Corp")).Id.String()

	code := b.signIn(id, alice)
	require.Equal(t, http.StatusOK, b.exchange(code).Status)
	res := b.exchange(code)
	require.Equal(t, http.StatusBadRequest, res.Status, "replayed: %s", res.Body)
	require.Equal(t, "auth.invalid_handoff", res.Err(t).Error.Code)

	for _, forged := range []string{"forged", code + "x", strings.Repeat("A", 43)} {
		res = b.exchange(forged)
		require.Equal(t, http.StatusBadRequest, res.Status)
		require.Equal(t, "auth.invalid_handoff", res.Err(t).Error.Code)
	}
	res = b.env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/sso/handoff", JSON: map[string]string{"handoff_code": ""}})
	require.Equal(t, http.StatusBadRequest, res.Status)
	require.Equal(t, "validation_failed", res.Err(t).Error.Code)

	code = b.signIn(id, alice)
	b.clock.advance(sso.HandoffTTL + time.Second)
	res = b.exchange(code)
	require.Equal(t, http.StatusBadRequest, res.Status, "expired: %s", res.Body)
	require.Equal(t, "auth.invalid_handoff", res.Err(t).Error.Code)

	code = b.signIn(id, alice)
	const n = 8
	var wg sync.WaitGroup
	var won, lost atomic.Int32
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := b.env.App.SSO.ExchangeHandoff(context.Background(), code, auth.ClientInfo{ClientAddr: "127.0.0.1"})
			switch {
			case err == nil:
				won.Add(1)
			case apperr.Is(err, apperr.CodeInvalidHandoff):
				lost.Add(1)
			default:
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, int32(1), won.Load(), "exactly one exchange wins")
	require.Equal(t, int32(n-1), lost.Load())
}

// TestSSOOnly: a provider marked SSO only refuses password sign-ins of its users, except
// admins (break-glass); users not linked to it are not affected.
func TestSSOOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := b.provider("Corp")
	body["sso_only"] = true
	id := b.create(body).Id.String()

	var asAlice, asBob api.AuthLoginResponse
	b.exchange(b.signIn(id, alice)).Decode(t, &asAlice)
	b.exchange(b.signIn(id, bob)).Decode(t, &asBob)
	require.Equal(t, authz.RoleAdmin, asBob.User.Role)
	for _, u := range []api.AuthLoginResponse{asAlice, asBob} {
		res := b.env.Do(apitest.Request{Method: http.MethodPost, Path: "users/" + u.User.Id.String() + "/password:reset", Token: b.admin.AccessToken,
			JSON: map[string]string{"new_password": "a-local-password-0123"}})
		require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	}
	res := b.env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/login", JSON: map[string]string{"username": "alice", "password": "a-local-password-0123"}})
	require.Equal(t, http.StatusForbidden, res.Status, "%s", res.Body)
	env := res.Err(t)
	require.Equal(t, "auth.sso_required", env.Error.Code)
	require.Contains(t, env.Error.HumanMessage, "Corp")
	res = b.env.Do(apitest.Request{Method: http.MethodPost, Path: "auth/login", JSON: map[string]string{"username": "alice", "password": "wrong-password-0123"}})
	require.Equal(t, http.StatusUnauthorized, res.Status, "a wrong password says nothing of SSO")

	b.env.Login("bob", "a-local-password-0123")                         // an admin is break-glass
	b.env.Login("admin2", b.env.CreateUser("admin2", authz.RoleViewer)) // not linked: not affected

	body["sso_only"] = false
	res = b.env.Do(apitest.Request{Method: http.MethodPut, Path: "sso/providers/" + id, Token: b.admin.AccessToken, JSON: body})
	require.Equal(t, http.StatusOK, res.Status)
	b.env.Login("alice", "a-local-password-0123")
}

// TestSecretMasking: the client secret is sealed, never returned, kept when an update
// omits it (the provider still accepts the token exchange), and removed by an empty one.
func TestSecretMasking(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.create(b.provider("Corp"))
	require.True(t, p.ClientSecretSet)
	require.Equal(t, sso.Mask, *p.ClientSecret)
	for _, path := range []string{"sso/providers", "sso/providers/" + p.Id.String()} {
		res := b.env.Do(apitest.Request{Method: http.MethodGet, Path: path, Token: b.admin.AccessToken})
		require.Equal(t, http.StatusOK, res.Status)
		require.NotContains(t, string(res.Body), b.op.ClientSecret)
		require.Contains(t, string(res.Body), sso.Mask)
	}
	var stored []byte
	require.NoError(t, b.env.App.Pool.QueryRow(context.Background(), `SELECT client_secret_sealed FROM sso_providers WHERE id = $1`, p.Id).Scan(&stored))
	require.False(t, bytes.Contains(stored, []byte(b.op.ClientSecret)), "the secret is sealed at rest")

	body := b.provider("Corp renamed")
	delete(body, "client_secret")
	res := b.env.Do(apitest.Request{Method: http.MethodPut, Path: "sso/providers/" + p.Id.String(), Token: b.admin.AccessToken, JSON: body})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var got api.SSOProvider
	res.Decode(t, &got)
	require.True(t, got.ClientSecretSet, "kept")
	require.Equal(t, http.StatusOK, b.exchange(b.signIn(p.Id.String(), alice)).Status, "the kept secret still authenticates the client")

	body["client_secret"] = ""
	res = b.env.Do(apitest.Request{Method: http.MethodPut, Path: "sso/providers/" + p.Id.String(), Token: b.admin.AccessToken, JSON: body})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	got = api.SSOProvider{}
	res.Decode(t, &got)
	require.False(t, got.ClientSecretSet)
	require.Nil(t, got.ClientSecret)
	br := newBrowser(t)
	require.Contains(t, refusedAt(t, b.callback(br, br.authorize(b.start(br, p.Id.String()), alice))), "did not accept the sign-in code",
		"without the secret the provider refuses the exchange")
}

// TestProviderInput: bad provider input is a 400 naming the field; names are unique; the
// CRUD is audited; a disabled provider is not offered and cannot start a sign-in.
func TestProviderInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	with := func(k string, v any) map[string]any {
		body := b.provider("Bad")
		if v == nil {
			delete(body, k)
		} else {
			body[k] = v
		}
		return body
	}
	for _, c := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no issuer", with("issuer", nil), "issuer"},
		{"http issuer off loopback", with("issuer", "http://idp.example.com"), "issuer"},
		{"issuer not a URL", with("issuer", "idp"), "issuer"},
		{"no openid scope", with("scopes", []string{"profile"}), "scopes"},
		{"duplicate scope", with("scopes", []string{"openid", "openid"}), "scopes"},
		{"unknown mapped role", with("role_mappings", []map[string]string{{"group": "x", "role": "no_such_role"}}), "role_mappings[0].role"},
		{"unknown default role", with("default_role", "no_such_role"), "default_role"},
		{"blank name", with("name", "   "), "name"},
		{"the mask as secret", with("client_secret", sso.Mask), "client_secret"},
		{"unknown property", with("color", "red"), ""},
		{"mapping without group", with("role_mappings", []map[string]string{{"role": "viewer"}}), ""},
	} {
		res := b.env.Do(apitest.Request{Method: http.MethodPost, Path: "sso/providers", Token: b.admin.AccessToken, JSON: c.body})
		require.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", c.name, res.Body)
		if c.field != "" {
			require.Equal(t, c.field, res.Err(t).Error.Detail["field"], c.name)
		}
	}
	p := b.create(b.provider("Corp"))
	res := b.env.Do(apitest.Request{Method: http.MethodPost, Path: "sso/providers", Token: b.admin.AccessToken, JSON: b.provider("corp")})
	require.Equal(t, http.StatusConflict, res.Status, "names are unique case-insensitively: %s", res.Body)
	missing := "sso/providers/0190a0c4-0000-7000-8000-00000000beef"
	for _, m := range []string{http.MethodGet, http.MethodDelete} {
		res = b.env.Do(apitest.Request{Method: m, Path: missing, Token: b.admin.AccessToken})
		require.Equal(t, http.StatusNotFound, res.Status)
	}
	res = b.env.Do(apitest.Request{Method: http.MethodPut, Path: missing, Token: b.admin.AccessToken, JSON: b.provider("X")})
	require.Equal(t, http.StatusNotFound, res.Status)

	res = b.env.Do(apitest.Request{Method: http.MethodPost, Path: "sso/providers/" + p.Id.String() + ":test", Token: b.admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var tr api.SSOTestResult
	res.Decode(t, &tr)
	require.True(t, tr.Ok, "%+v", tr.Checks)
	require.Len(t, tr.Checks, 5)

	body := b.provider("Corp")
	body["enabled"] = false
	res = b.env.Do(apitest.Request{Method: http.MethodPut, Path: "sso/providers/" + p.Id.String(), Token: b.admin.AccessToken, JSON: body})
	require.Equal(t, http.StatusOK, res.Status)
	res = b.env.Do(apitest.Request{Method: http.MethodGet, Path: "sso/providers/enabled"})
	var enabled api.SSOEnabledProviderList
	res.Decode(t, &enabled)
	require.Empty(t, enabled.Providers)
	res = b.env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/sso/" + p.Id.String() + "/login"})
	require.Equal(t, http.StatusFound, res.Status)
	loc, err := url.Parse(res.Header.Get("Location"))
	require.NoError(t, err)
	require.Contains(t, refusedAt(t, loc), "disabled")

	res = b.env.Do(apitest.Request{Method: http.MethodDelete, Path: "sso/providers/" + p.Id.String(), Token: b.admin.AccessToken})
	require.Equal(t, http.StatusNoContent, res.Status)
	for action, want := range map[string]int{"sso_provider.created": 1, "sso_provider.updated": 1, "sso_provider.deleted": 1} {
		require.Equal(t, want, b.auditActions(action), action)
	}
	require.Equal(t, http.StatusFound, b.env.Do(apitest.Request{Method: http.MethodGet, Path: "auth/sso/" + p.Id.String() + "/login"}).Status)
}

// TestStartRateLimit: each client address may start only so many sign-ins (each stores a
// login in flight); past the burst it is sent back to the sign-in page.
func TestStartRateLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p := b.create(b.provider("Corp"))
	svc := sso.NewService(b.env.App.Pool, b.env.App.Audit, nil, nil, sso.Options{StartRate: 0.001, StartBurst: 2})
	from := func(addr string) context.Context {
		return reqinfo.With(context.Background(), &reqinfo.Info{ClientAddr: addr})
	}
	for range 2 {
		_, err := svc.StartLogin(from("192.0.2.7"), p.Id, publicURL)
		require.NoError(t, err)
	}
	_, err := svc.StartLogin(from("192.0.2.7"), p.Id, publicURL)
	require.Error(t, err)
	require.Contains(t, sso.Readable(err), "Too many sign-ins")
	_, err = svc.StartLogin(from("192.0.2.8"), p.Id, publicURL)
	require.NoError(t, err, "another address has its own budget")
}
