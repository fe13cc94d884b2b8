package openwatch_test

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/gen/client"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/pkg/openwatch"
)

// server is the real application behind TLS, with a hook that may answer a request
// itself before the application sees it (to inject failures).
type server struct {
	env  *apitest.Env
	srv  *httptest.Server
	ca   []byte
	mu   sync.Mutex
	hook func(w http.ResponseWriter, r *http.Request) bool
}

func newServer(t *testing.T) *server {
	t.Helper()
	s := &server{env: apitest.New(t)}
	h := s.env.App.Handler()
	s.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		hook := s.hook
		s.mu.Unlock()
		if hook != nil && hook(w, r) {
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.srv.Close)
	s.ca = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
	return s
}

func (s *server) setHook(h func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	s.hook = h
	s.mu.Unlock()
}

func fast() openwatch.Option { return openwatch.WithRetry(3, time.Millisecond, 5*time.Millisecond) }

// TestClientAgainstServer: password sign-in, pagination, typed errors, the refusal of an
// untrusted server, and sign-out, against the real application.
func TestClientAgainstServer(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	pw := s.env.CreateUser("ops", authz.RoleAdmin)
	ctx := context.Background()

	// Without the CA the server is not trusted, and that is not retried.
	c, err := openwatch.New(s.srv.URL, fast())
	require.NoError(t, err)
	_, err = c.Login(ctx, "ops", pw, "")
	require.ErrorContains(t, err, "certificate")

	var refreshed []openwatch.Tokens
	c, err = openwatch.New(s.srv.URL, openwatch.WithCACert(s.ca), fast(),
		openwatch.WithTokens(openwatch.Tokens{}, func(tk openwatch.Tokens) { refreshed = append(refreshed, tk) }))
	require.NoError(t, err)
	_, err = c.Login(ctx, "ops", "wrong-password-123", "")
	require.Equal(t, http.StatusUnauthorized, openwatch.StatusOf(err))
	require.True(t, openwatch.IsCode(err, client.ErrorCodeAuthInvalidCredentials), "%v", err)
	me, err := c.Login(ctx, "ops", pw, "")
	require.NoError(t, err)
	require.Equal(t, "ops", me.User.Username)
	require.Len(t, refreshed, 1, "the sign-in's tokens are handed to the callback")

	// Seven hosts read two at a time come back once each.
	for i := range 7 {
		_, err := c.AddHost(ctx, client.HostCreateRequest{Hostname: fmt.Sprintf("page-%d", i), IpAddress: fmt.Sprintf("127.0.0.%d", i+10)})
		require.NoError(t, err)
	}
	limit := 2
	seen := map[string]bool{}
	for h, err := range c.Hosts(ctx, &client.ListHostsParams{Limit: &limit}) {
		require.NoError(t, err)
		require.False(t, seen[h.Hostname], "host %s twice", h.Hostname)
		seen[h.Hostname] = true
	}
	require.Len(t, seen, 7)
	// Stopping early stops fetching.
	n := 0
	for range c.Hosts(ctx, &client.ListHostsParams{Limit: &limit}) {
		n++
		if n == 3 {
			break
		}
	}
	require.Equal(t, 3, n)

	// Typed errors: a 404 and a 400 from the envelope; FindHost by name and id.
	_, err = c.FindHost(ctx, uuid.NewString())
	require.True(t, openwatch.IsCode(err, client.ErrorCodeResourceNotFound), "%v", err)
	var ae *openwatch.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusNotFound, ae.StatusCode)
	require.NotEmpty(t, ae.CorrelationID)
	_, err = c.FindHost(ctx, "no-such-host")
	require.ErrorIs(t, err, openwatch.ErrNotFound)
	h, err := c.FindHost(ctx, "PAGE-3")
	require.NoError(t, err)
	require.Equal(t, "127.0.0.13", h.Host.IpAddress)
	bad := 500
	_, err = openwatch.Collect(c.Hosts(ctx, &client.ListHostsParams{Limit: &bad}))
	require.True(t, openwatch.IsCode(err, client.ErrorCodeValidationFailed), "%v", err)

	// Sign-out revokes the tokens.
	old := c.Tokens()
	require.NoError(t, c.Logout(ctx))
	c2, err := openwatch.New(s.srv.URL, openwatch.WithCACert(s.ca), openwatch.WithBearerToken(old.AccessToken))
	require.NoError(t, err)
	res, err := c2.GetMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode())
}

// TestClientRetriesAndRefresh: a refused access token is refreshed once and the request
// sent again; 503 and 429 answers are retried, POSTs only with their Idempotency-Key,
// which stays the same across the attempts, so the host is created once.
func TestClientRetriesAndRefresh(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	pw := s.env.CreateUser("ops", authz.RoleAdmin)
	ctx := context.Background()
	var pairs []openwatch.Tokens
	c, err := openwatch.New(s.srv.URL, openwatch.WithCACert(s.ca), fast(),
		openwatch.WithTokens(openwatch.Tokens{}, func(tk openwatch.Tokens) { pairs = append(pairs, tk) }))
	require.NoError(t, err)
	_, err = c.Login(ctx, "ops", pw, "")
	require.NoError(t, err)
	first := c.Tokens()

	// The first GET /auth/me with the first access token is refused as expired.
	var refused atomic.Int32
	s.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/api/v1/auth/me" && r.Header.Get("Authorization") == "Bearer "+first.AccessToken && refused.Load() == 0 {
			refused.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"code":"auth.invalid_token","human_message":"expired","correlation_id":"x","fault":"client","retryable":false}}`))
			return true
		}
		return false
	})
	res, err := c.GetMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	require.Len(t, pairs, 2, "the refreshed pair is handed to the callback")
	require.EqualValues(t, 1, refused.Load())
	require.NotEqual(t, first.RefreshToken, c.Tokens().RefreshToken)

	// Every POST /hosts attempt with a key is answered 503 twice, then passed on.
	var mu sync.Mutex
	keys := []string{}
	var posts, gets int
	s.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/api/v1/hosts":
			posts++
			keys = append(keys, r.Header.Get("Idempotency-Key"))
			if posts <= 2 {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusServiceUnavailable)
				return true
			}
		case r.Method == http.MethodGet && r.URL.Path == "/api/v1/hosts":
			gets++
			if gets == 1 {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusTooManyRequests)
				return true
			}
		}
		return false
	})
	h, err := c.AddHost(ctx, client.HostCreateRequest{Hostname: "retried", IpAddress: "127.0.0.9"})
	require.NoError(t, err)
	require.Equal(t, "retried", h.Hostname)
	all, err := openwatch.Collect(c.Hosts(ctx, nil))
	require.NoError(t, err)
	require.Len(t, all, 1)
	mu.Lock()
	require.Len(t, keys, 3)
	require.NotEmpty(t, keys[0])
	require.Equal(t, keys[0], keys[1])
	require.Equal(t, keys[0], keys[2])
	require.Equal(t, 2, gets)
	mu.Unlock()

	// A POST without a key is not retried: its 503 is the answer.
	res2, err := c.StartHostScanWithResponse(ctx, h.Id, nil, client.ScanRequest{})
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, res2.StatusCode(), "another path is passed on")
	s.setHook(func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/scans") {
			posts++
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	countPosts := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := posts
		posts = 0
		return n
	}
	countPosts()
	res2, err = c.StartHostScanWithResponse(ctx, h.Id, nil, client.ScanRequest{})
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, res2.StatusCode())
	require.Equal(t, 1, countPosts())
	// With IdempotencyKey() it is retried (up to the limit, then the last answer).
	res2, err = c.StartHostScanWithResponse(ctx, h.Id, nil, client.ScanRequest{}, openwatch.IdempotencyKey())
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, res2.StatusCode())
	require.Equal(t, 4, countPosts(), "one attempt and three retries")
	require.Error(t, openwatch.Check(res2.HTTPResponse, res2.Body))
}

// TestClientAPIToken: requests signed with an API token's signing key are accepted, and a
// wrong key answers 401 without a refresh.
func TestClientAPIToken(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	admin := s.env.Admin()
	var sa api.ServiceAccount
	s.env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts", Token: admin.AccessToken,
		JSON: map[string]string{"name": "bot", "role": "viewer"}}).Decode(t, &sa)
	var tok api.APITokenCreated
	s.env.Do(apitest.Request{Method: http.MethodPost, Path: "service-accounts/" + sa.Id.String() + "/tokens", Token: admin.AccessToken,
		JSON: map[string]any{"name": "bot", "signing_key": true}}).Decode(t, &tok)
	ctx := context.Background()

	c, err := openwatch.New(s.srv.URL, openwatch.WithCACert(s.ca), openwatch.WithAPIToken(tok.TokenMeta.Id.String(), base64.StdEncoding.EncodeToString(*tok.SigningKey)))
	require.NoError(t, err)
	res, err := c.GetMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	require.Equal(t, "bot", res.JSON200.Username)
	// A viewer may not add hosts: a typed 403.
	_, err = c.AddHost(ctx, client.HostCreateRequest{Hostname: "x", IpAddress: "127.0.0.2"})
	require.Equal(t, http.StatusForbidden, openwatch.StatusOf(err), "%v", err)

	c, err = openwatch.New(s.srv.URL, openwatch.WithCACert(s.ca), openwatch.WithAPIToken(tok.TokenMeta.Id.String(), base64.StdEncoding.EncodeToString(make([]byte, 32))))
	require.NoError(t, err)
	res, err = c.GetMeWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode())

	_, err = openwatch.New(s.srv.URL, openwatch.WithBearerToken("x"), openwatch.WithAPIToken("a", "b"))
	require.Error(t, err)
	_, err = openwatch.New("ftp://x")
	require.Error(t, err)
	require.False(t, errors.Is(err, openwatch.ErrNotFound))
}
