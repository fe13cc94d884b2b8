// Package ssotest runs a real OpenID Provider on a loopback port, for tests of single
// sign-on and for the web app's end-to-end run (scripts/testop). It is built from
// github.com/zitadel/oidc's certified provider (pkg/op) and the in-memory storage of that
// module's example, with a client whose redirect URIs are matched by a glob, users with
// passwords and groups (asserted in the ID token's "groups" claim, with the profile and
// email claims), and a plain login form at /login/username.
package ssotest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// User is an account at the provider.
type User struct {
	Subject  string
	Username string
	Password string
	Email    string
	Groups   []string
}

// Options configure a provider.
type Options struct {
	// Addr is the loopback address to listen on (default 127.0.0.1:0, a free port).
	Addr         string
	ClientID     string
	ClientSecret string
	// RedirectGlobs match the redirect URIs the client may use (default: an OpenWatch
	// callback on 127.0.0.1 or localhost, any port, http or https).
	RedirectGlobs []string
	Users         []User
}

// Provider is a running OpenID Provider.
type Provider struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	srv          *http.Server
	ln           net.Listener
	done         chan struct{}
}

// Start starts a provider on a loopback address.
func Start(o Options) (*Provider, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("ssotest: %s is not a loopback address", o.Addr)
	}
	if len(o.RedirectGlobs) == 0 {
		for _, scheme := range []string{"http", "https"} {
			for _, host := range []string{"127.0.0.1", "localhost"} {
				o.RedirectGlobs = append(o.RedirectGlobs, scheme+"://"+host+":*/api/v1/auth/sso/*/callback")
			}
		}
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, err
	}
	issuer := "http://" + ln.Addr().String()
	users := userStore{byID: map[string]*storage.User{}, groups: map[string][]string{}}
	for _, u := range o.Users {
		users.byID[u.Subject] = &storage.User{ID: u.Subject, Username: u.Username, Password: u.Password, Email: u.Email,
			EmailVerified: true, FirstName: u.Username, LastName: "", PreferredLanguage: language.English}
		users.groups[u.Subject] = u.Groups
	}
	client := storage.WebClient(o.ClientID, o.ClientSecret)
	st := &store{Storage: storage.NewStorageWithClients(users, map[string]*storage.Client{o.ClientID: client}),
		users: users, client: globClient{Client: client, globs: o.RedirectGlobs}}
	provider, err := op.NewProvider(&op.Config{
		CryptoKey:             sha256.Sum256([]byte(issuer)),
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedUILocales:    []language.Tag{language.English},
	}, st, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	login := &loginForm{store: st, callback: op.AuthCallbackURL(provider)}
	intercept := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	mux.HandleFunc("GET /login/username", login.show)
	mux.HandleFunc("POST /login/username", intercept.HandlerFunc(login.check))
	mux.Handle("/", provider)
	p := &Provider{Issuer: issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret, ln: ln, done: make(chan struct{}),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		defer close(p.done)
		_ = p.srv.Serve(ln)
	}()
	return p, nil
}

// Close stops the provider.
func (p *Provider) Close() error {
	err := p.srv.Close()
	<-p.done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// userStore implements the example storage's UserStore over fixed users.
type userStore struct {
	byID   map[string]*storage.User
	groups map[string][]string
}

func (u userStore) GetUserByID(id string) *storage.User { return u.byID[id] }

func (u userStore) GetUserByUsername(name string) *storage.User {
	for _, x := range u.byID {
		if x.Username == name {
			return x
		}
	}
	return nil
}

func (u userStore) ExampleClientID() string { return "service" }

// store is the example storage with the client below and a groups claim in ID tokens.
type store struct {
	*storage.Storage
	users  userStore
	client globClient
}

// GetClientByClientID returns the one client, with its redirect URI globs.
func (s *store) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	if id != s.client.GetID() {
		return nil, fmt.Errorf("client not found")
	}
	return s.client, nil
}

// SetUserinfoFromRequest adds the user's groups to the claims of an ID token.
func (s *store) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, info, req, scopes); err != nil {
		return err
	}
	if g, ok := s.users.groups[req.GetSubject()]; ok {
		info.AppendClaims("groups", g)
	}
	return nil
}

// globClient is a web client whose redirect URIs match globs and whose ID tokens carry the
// profile and email claims.
type globClient struct {
	*storage.Client
	globs []string
}

func (c globClient) RedirectURIGlobs() []string           { return c.globs }
func (c globClient) PostLogoutRedirectURIGlobs() []string { return nil }
func (c globClient) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c globClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// loginForm is the provider's sign-in page.
type loginForm struct {
	store    *store
	callback func(context.Context, string) string
	mu       sync.Mutex
}

var page = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title></head>
<body><main><h1>Test identity provider</h1>
<form method="POST" action="/login/username">
<input type="hidden" name="id" value="{{.ID}}">
<p><label for="username">Username</label> <input id="username" name="username" autocomplete="username"></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password"></p>
{{if .Error}}<p role="alert">{{.Error}}</p>{{end}}
<p><button type="submit">Sign in</button></p>
</form></main></body></html>`))

func (l *loginForm) render(w http.ResponseWriter, id, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = page.Execute(w, struct{ ID, Error string }{id, msg})
}

func (l *loginForm) show(w http.ResponseWriter, r *http.Request) {
	l.render(w, r.URL.Query().Get("authRequestID"), "")
}

func (l *loginForm) check(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id := r.FormValue("id")
	if err := l.store.CheckUsernamePassword(r.FormValue("username"), r.FormValue("password"), id); err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		l.render(w, id, "Wrong username or password.")
		return
	}
	http.Redirect(w, r, l.callback(r.Context(), id), http.StatusFound)
}
