// Package apitest drives the full HTTP stack in tests: the real Echo pipeline, real
// services and a real PostgreSQL database per test. Every response is validated against
// the embedded OpenAPI document, so a test fails whenever the server and the spec disagree.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/auth"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/config"
	"github.com/openwatch/openwatch/internal/logging"
	"github.com/openwatch/openwatch/internal/logging/logtest"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
	"github.com/openwatch/openwatch/internal/user"
)

// CheapPasswords keeps Argon2id fast in tests.
var CheapPasswords = auth.PasswordParams{Memory: 1024, Time: 1, Threads: 1}

// Env is one test's running application.
type Env struct {
	T      testing.TB
	App    *app.App
	Doc    *openapi3.T
	log    *logtest.Buffer
	router routers.Router
	stop   func()
}

// StopBackground ends the app's background loops, e.g. before a test closes the pool.
func (e *Env) StopBackground() { e.stop() }

// Option adjusts the environment before the app is built.
type Option func(*app.Deps)

// WithCertificateDelivery turns on installing issued host certificates on hosts; the
// test's SSH targets must overlay /etc and /run (sshtest.Options.Overlay).
func WithCertificateDelivery() Option {
	return func(d *app.Deps) { d.NoCertificateDelivery = false }
}

// New builds the application on a fresh database and starts its background loops.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	doc, ops, err := app.LoadSpec(api.SpecJSON)
	require.NoError(t, err)
	cfg := config.Default()
	cfg.Server.DataDir = t.TempDir()
	// The liveness poller would probe every host a test creates; tests of the poller turn
	// it on with an Option setting Deps.Liveness.
	cfg.Worker.LivenessTick = config.Duration{}
	// Tests contact nothing but this machine: hosts at documentation or private addresses
	// are refused (error_type not_allowed) before any packet is sent.
	cfg.SSH.AllowedNetworks = config.LoopbackNetworks()
	logBuf := &logtest.Buffer{}
	logger, err := logging.New(logBuf, "debug", "json")
	require.NoError(t, err)
	pw := CheapPasswords
	deps := app.Deps{Config: cfg, Logger: logger, Pool: pgtest.NewPool(t), Doc: doc, Operations: ops, Password: &pw,
		// Every test request comes from one address: only the rate-limit tests keep the limit.
		TuneAuth: func(c *auth.Config) { c.LoginRate, c.LoginBurst = 1000, 1000 },
		// Issued host certificates would be installed on the test's SSH targets: only tests
		// whose targets overlay /etc and /run turn it on (WithCertificateDelivery).
		NoCertificateDelivery: true}
	for _, o := range opts {
		o(&deps)
	}
	a, err := app.New(context.Background(), deps)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	wait := a.RunBackground(ctx)
	stop := func() { cancel(); wait() }
	t.Cleanup(stop)
	require.NoError(t, a.Auth.WaitListening(ctx))
	router, err := gorillamux.NewRouter(doc)
	require.NoError(t, err)
	return &Env{T: t, App: a, Doc: doc, log: logBuf, router: router, stop: stop}
}

// Logs returns everything the server logged so far.
func (e *Env) Logs() string { return e.log.String() }

// Request is one API call.
type Request struct {
	Method string
	Path   string // under /api/v1 unless it starts with "/"; e.g. "auth/me"
	// JSON is marshalled as the body; Body is sent as is when JSON is nil.
	JSON    any
	Body    []byte
	Token   string
	Cookie  string
	Headers map[string]string
}

// Response is what the server answered.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode unmarshals the body into v.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// Envelope is the decoded error envelope.
type Envelope struct {
	Error struct {
		Code          string         `json:"code"`
		Fault         string         `json:"fault"`
		Retryable     bool           `json:"retryable"`
		HumanMessage  string         `json:"human_message"`
		CorrelationID string         `json:"correlation_id"`
		Detail        map[string]any `json:"detail"`
	} `json:"error"`
}

// Err decodes the error envelope.
func (r *Response) Err(t testing.TB) Envelope {
	t.Helper()
	var e Envelope
	r.Decode(t, &e)
	return e
}

// Do sends the request through the full stack and validates the response against the spec.
func (e *Env) Do(req Request) *Response {
	t := e.T
	t.Helper()
	path := req.Path
	if !strings.HasPrefix(path, "/") {
		path = "/api/v1/" + path
	}
	body := req.Body
	if req.JSON != nil {
		var err error
		body, err = json.Marshal(req.JSON)
		require.NoError(t, err)
	}
	hr := httptest.NewRequest(req.Method, path, bytes.NewReader(body))
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if req.Token != "" {
		hr.Header.Set("Authorization", "Bearer "+req.Token)
	}
	if req.Cookie != "" {
		hr.AddCookie(&http.Cookie{Name: auth.CookieName, Value: req.Cookie})
	}
	for k, v := range req.Headers {
		hr.Header.Set(k, v)
	}
	// A stream (text/event-stream) never ends by itself: the request is cancelled at its
	// first flush, so Do returns the status, headers and opening bytes of the stream.
	ctx, cancel := context.WithCancel(hr.Context())
	defer cancel()
	hr = hr.WithContext(ctx)
	rec := &streamRecorder{ResponseRecorder: httptest.NewRecorder(), cancel: cancel}
	e.App.Handler().ServeHTTP(rec, hr)
	res := &Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	e.conform(hr, body, res)
	return res
}

// streamRecorder records a response and cancels the request once a stream has flushed.
type streamRecorder struct {
	*httptest.ResponseRecorder
	cancel context.CancelFunc
}

// Flush implements http.Flusher.
func (r *streamRecorder) Flush() {
	r.ResponseRecorder.Flush()
	if strings.HasPrefix(r.Header().Get("Content-Type"), "text/event-stream") {
		r.cancel()
	}
}

func init() {
	// Streams are text: validate them as the string the spec declares.
	openapi3filter.RegisterBodyDecoder("text/event-stream", openapi3filter.PlainBodyDecoder)
	openapi3filter.RegisterBodyDecoder("text/x-shellscript", openapi3filter.PlainBodyDecoder)
	// Report exports: a PDF is a file.
	openapi3filter.RegisterBodyDecoder("application/pdf", openapi3filter.FileBodyDecoder)
}

// conform fails the test when the response disagrees with the spec.
func (e *Env) conform(hr *http.Request, reqBody []byte, res *Response) {
	t := e.T
	t.Helper()
	require.NotEmpty(t, res.Header.Get("X-Correlation-Id"), "every response carries a correlation id")
	if res.Status >= 400 {
		var env Envelope
		require.NoError(t, json.Unmarshal(res.Body, &env), "error responses are envelopes: %s", res.Body)
		require.Equal(t, res.Header.Get("X-Correlation-Id"), env.Error.CorrelationID, "envelope carries the correlation id")
	}
	if !strings.HasPrefix(hr.URL.Path, "/api/v1/") {
		return
	}
	vreq := hr.Clone(context.Background())
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := e.router.FindRoute(vreq)
	if err != nil {
		// No operation (404/405): the body must still be the error envelope.
		schema := e.Doc.Components.Schemas["ErrorEnvelope"].Value
		var v any
		require.NoError(t, json.Unmarshal(res.Body, &v))
		require.NoError(t, schema.VisitJSON(v), "envelope conforms to ErrorEnvelope")
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: vreq, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status: res.Status,
		Header: res.Header,
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		},
	}
	in.SetBodyBytes(res.Body)
	require.NoError(t, openapi3filter.ValidateResponse(context.Background(), in),
		"%s %s answered %d, which the spec does not allow: %s", hr.Method, hr.URL.Path, res.Status, res.Body)
}

// CreateUser adds a user with role and returns its password.
func (e *Env) CreateUser(username, role string) string {
	e.T.Helper()
	pw := "pw-" + username + "-0123456789"
	_, err := e.App.Users.Create(context.Background(), nil, user.CreateInput{
		Username: username, Email: username + "@example.com", Password: pw, Role: role,
	})
	require.NoError(e.T, err)
	return pw
}

// Session is a signed-in user's credentials.
type Session struct {
	AccessToken  string
	RefreshToken string
	Cookie       string
}

// Login signs in through the API.
func (e *Env) Login(username, password string) Session {
	e.T.Helper()
	res := e.Do(Request{Method: http.MethodPost, Path: "auth/login", JSON: map[string]string{"username": username, "password": password}})
	require.Equal(e.T, http.StatusOK, res.Status, "login: %s", res.Body)
	var body api.AuthLoginResponse
	res.Decode(e.T, &body)
	s := Session{AccessToken: body.AccessToken, RefreshToken: body.RefreshToken}
	for _, c := range (&http.Response{Header: res.Header}).Cookies() {
		if c.Name == auth.CookieName {
			s.Cookie = c.Value
		}
	}
	return s
}

// Admin creates an admin user and signs it in.
func (e *Env) Admin() Session {
	e.T.Helper()
	return e.Login("admin", e.CreateUser("admin", authz.RoleAdmin))
}
