package openwatch

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/openwatch/openwatch/gen/client"
	"github.com/openwatch/openwatch/internal/httpsig"
)

// Tokens are the access and refresh tokens of a password sign-in.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// Client is the generated client with authentication, retries and helpers around it.
type Client struct {
	*client.ClientWithResponses

	// BaseURL is the server's address, without /api/v1.
	BaseURL *url.URL

	http    *http.Client // sends through the retrying, authenticating transport
	plain   *http.Client // the underlying transport, for refreshing tokens
	opts    options
	mu      sync.Mutex
	tokens  Tokens
	signer  *httpsig.Signer
	refresh sync.Mutex
}

type options struct {
	transport  http.RoundTripper
	tlsConfig  *tls.Config
	caPEM      []byte
	bearer     string
	tokens     *Tokens
	onRefresh  func(Tokens)
	tokenID    string
	signingKey string
	maxRetries int
	minDelay   time.Duration
	maxDelay   time.Duration
	timeout    time.Duration
	userAgent  string
}

// Option configures a Client.
type Option func(*options)

// WithTransport sets the round tripper requests finally go through (default: a clone of
// http.DefaultTransport).
func WithTransport(rt http.RoundTripper) Option { return func(o *options) { o.transport = rt } }

// WithCACert trusts the CA certificates in pem (besides the system's) for the server's
// certificate. OpenWatch never trusts a server's certificate on first use.
func WithCACert(pem []byte) Option { return func(o *options) { o.caPEM = pem } }

// WithTLSConfig sets the TLS configuration of the default transport.
func WithTLSConfig(c *tls.Config) Option { return func(o *options) { o.tlsConfig = c } }

// WithBearerToken authenticates with a fixed bearer token (an access token or an API token).
func WithBearerToken(token string) Option { return func(o *options) { o.bearer = token } }

// WithTokens authenticates with the tokens of an earlier sign-in; an expired access token
// is refreshed and onRefresh (which may be nil) receives each new pair.
func WithTokens(t Tokens, onRefresh func(Tokens)) Option {
	return func(o *options) { o.tokens, o.onRefresh = &t, onRefresh }
}

// WithAPIToken signs every request with an API token's base64 signing key (RFC 9421).
func WithAPIToken(tokenID, signingKey string) Option {
	return func(o *options) { o.tokenID, o.signingKey = tokenID, signingKey }
}

// WithRetry sets how many times a retryable request is sent again (default 4) and the
// backoff's first and longest delay (default 250ms and 10s). Retry-After, when the server
// sends it, replaces the computed delay (up to the longest delay).
func WithRetry(maxRetries int, minDelay, maxDelay time.Duration) Option {
	return func(o *options) { o.maxRetries, o.minDelay, o.maxDelay = maxRetries, minDelay, maxDelay }
}

// WithTimeout bounds each request, retries included (default none: use the context).
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// New returns a client of the server at baseURL (such as https://openwatch.example:8443).
func New(baseURL string, opts ...Option) (*Client, error) {
	o := options{maxRetries: 4, minDelay: 250 * time.Millisecond, maxDelay: 10 * time.Second, userAgent: "openwatch-go"}
	for _, f := range opts {
		f(&o)
	}
	base, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("openwatch: %q is not an http(s) URL", baseURL)
	}
	rt := o.transport
	if rt == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = o.tlsConfig
		if len(o.caPEM) > 0 {
			pool, err := x509.SystemCertPool()
			if err != nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(o.caPEM) {
				return nil, errors.New("openwatch: the CA file holds no PEM certificate")
			}
			if tr.TLSClientConfig == nil {
				tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			}
			tr.TLSClientConfig.RootCAs = pool
		}
		rt = tr
	}
	c := &Client{BaseURL: base, opts: o, plain: &http.Client{Transport: rt, Timeout: o.timeout}}
	if o.tokens != nil {
		c.tokens = *o.tokens
	}
	if o.tokenID != "" || o.signingKey != "" {
		if o.bearer != "" || o.tokens != nil {
			return nil, errors.New("openwatch: give either a bearer token, sign-in tokens or an API signing key")
		}
		s, err := httpsig.NewSigner(o.tokenID, o.signingKey)
		if err != nil {
			return nil, err
		}
		c.signer = s
	}
	c.http = &http.Client{Transport: &transport{c: c, base: rt}, Timeout: o.timeout}
	gc, err := client.NewClientWithResponses(base.String()+"/api/v1", client.WithHTTPClient(c.http))
	if err != nil {
		return nil, err
	}
	c.ClientWithResponses = gc
	return c, nil
}

// HTTPClient is the http.Client that authenticates and retries, for requests the
// generated client does not make (such as downloads).
func (c *Client) HTTPClient() *http.Client { return c.http }

// Tokens returns the current sign-in tokens (empty without a sign-in).
func (c *Client) Tokens() Tokens {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tokens
}

func (c *Client) setTokens(t Tokens) {
	c.mu.Lock()
	c.tokens = t
	c.mu.Unlock()
	if c.opts.onRefresh != nil {
		c.opts.onRefresh(t)
	}
}

// ErrMFARequired is returned by Login when the account needs a one-time code.
var ErrMFARequired = errors.New("openwatch: this account requires a one-time code")

// Login signs in with a username and password (and otp, the authenticator's code, when
// the account has MFA; "" otherwise); later requests use the tokens, refreshed as needed.
// A missing code answers ErrMFARequired (also an *APIError: errors.As works).
func (c *Client) Login(ctx context.Context, username, password, otp string) (*client.AuthLoginResponse, error) {
	body := client.AuthLoginRequest{Username: username, Password: password}
	if otp != "" {
		body.Otp = &otp
	}
	res, err := c.ClientWithResponses.LoginWithResponse(ctx, body)
	if err != nil {
		return nil, err
	}
	if err := Check(res.HTTPResponse, res.Body); err != nil {
		if IsCode(err, client.ErrorCodeAuthMfaRequired) {
			return nil, errors.Join(ErrMFARequired, err)
		}
		return nil, err
	}
	c.setTokens(Tokens{AccessToken: res.JSON200.AccessToken, RefreshToken: res.JSON200.RefreshToken})
	return res.JSON200, nil
}

// Logout ends the session of the current sign-in; its tokens stop working.
func (c *Client) Logout(ctx context.Context) error {
	res, err := c.ClientWithResponses.LogoutWithResponse(ctx)
	if err != nil {
		return err
	}
	if err := Check(res.HTTPResponse, res.Body); err != nil {
		return err
	}
	c.mu.Lock()
	c.tokens = Tokens{}
	c.mu.Unlock()
	return nil
}

// refreshTokens exchanges the refresh token for a new pair, unless another request has
// done so since used (the access token that was refused) was sent.
func (c *Client) refreshTokens(ctx context.Context, used string) error {
	c.refresh.Lock()
	defer c.refresh.Unlock()
	cur := c.Tokens()
	if cur.AccessToken != used {
		return nil // refreshed meanwhile
	}
	if cur.RefreshToken == "" {
		return errors.New("no refresh token")
	}
	b, _ := json.Marshal(client.AuthRefreshRequest{RefreshToken: cur.RefreshToken})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL.String()+"/api/v1/auth/refresh", bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	res, err := c.plain.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if err := Check(res, body); err != nil {
		return err
	}
	var out client.AuthLoginResponse
	if err := json.Unmarshal(body, &out); err != nil {
		return err
	}
	c.setTokens(Tokens{AccessToken: out.AccessToken, RefreshToken: out.RefreshToken})
	return nil
}

// IdempotencyKey returns a request editor that sets a fresh Idempotency-Key: pass it to
// one call of a POST operation; the transport sends the same key on each retry of it.
func IdempotencyKey() client.RequestEditorFn {
	key := NewIdempotencyKey()
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Idempotency-Key", key)
		return nil
	}
}

// NewIdempotencyKey returns a random key.
func NewIdempotencyKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// transport authenticates each attempt of a request and retries those that may be sent again.
type transport struct {
	c    *Client
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := t.c
	retryable := req.Header.Get("Idempotency-Key") != ""
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		retryable = true
	}
	refreshed := false
	for attempt := 0; ; {
		r := req.Clone(req.Context())
		if req.Body != nil && req.Body != http.NoBody && (attempt > 0 || refreshed) {
			if req.GetBody == nil {
				return nil, errors.New("openwatch: the request body cannot be sent again")
			}
			b, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r.Body = b
		}
		if r.Header.Get("User-Agent") == "" {
			r.Header.Set("User-Agent", c.opts.userAgent)
		}
		used, err := c.authorize(r)
		if err != nil {
			return nil, err
		}
		res, err := t.base.RoundTrip(r)
		if err == nil && res.StatusCode == http.StatusUnauthorized && used != "" && !refreshed && c.Tokens().RefreshToken != "" {
			drain(res)
			if rerr := c.refreshTokens(req.Context(), used); rerr != nil {
				return nil, fmt.Errorf("openwatch: the access token expired and refreshing it failed: %w", rerr)
			}
			refreshed = true
			continue
		}
		if !retryable || attempt >= c.opts.maxRetries || !shouldRetry(res, err) || req.Context().Err() != nil {
			return res, err
		}
		delay := backoff(attempt, c.opts.minDelay, c.opts.maxDelay, res)
		if res != nil {
			drain(res)
		}
		attempt++
		tm := time.NewTimer(delay)
		select {
		case <-req.Context().Done():
			tm.Stop()
			return nil, req.Context().Err()
		case <-tm.C:
		}
	}
}

// authorize adds the credentials to one attempt; it returns the access token it used.
func (c *Client) authorize(r *http.Request) (string, error) {
	switch {
	case c.signer != nil:
		return "", c.signer.Sign(r)
	case c.opts.bearer != "":
		r.Header.Set("Authorization", "Bearer "+c.opts.bearer)
	default:
		if tok := c.Tokens().AccessToken; tok != "" && !isAuthExchange(r.URL.Path) {
			r.Header.Set("Authorization", "Bearer "+tok)
			return tok, nil
		}
	}
	return "", nil
}

// isAuthExchange: sign-in and refresh send no bearer token and are never refreshed.
func isAuthExchange(path string) bool {
	return strings.HasSuffix(path, "/auth/login") || strings.HasSuffix(path, "/auth/refresh")
}

func shouldRetry(res *http.Response, err error) bool {
	if err != nil {
		return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !isTLSTrust(err)
	}
	switch res.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// isTLSTrust: an untrusted certificate will not become trusted by asking again.
func isTLSTrust(err error) bool {
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	var tv *tls.CertificateVerificationError
	return errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) || errors.As(err, &tv)
}

// backoff is the delay before retry attempt+1: Retry-After when the answer has one,
// otherwise min·2^attempt, at most max.
func backoff(attempt int, minDelay, maxDelay time.Duration, res *http.Response) time.Duration {
	if res != nil {
		if d, ok := retryAfter(res.Header.Get("Retry-After"), time.Now()); ok {
			return min(d, maxDelay)
		}
	}
	d := minDelay << attempt
	if d <= 0 || d > maxDelay {
		d = maxDelay
	}
	return d
}

// retryAfter reads a Retry-After value: delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func drain(res *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	_ = res.Body.Close()
}
