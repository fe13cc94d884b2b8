package httpserver

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/logging"
)

// Options are what the HTTP server is built from.
type Options struct {
	Logger *slog.Logger
	// Doc is the embedded OpenAPI document; Operations is the table built from it.
	Doc        *openapi3.T
	Operations authz.Operations
	// Handlers implements every operation of the spec.
	Handlers      api.StrictServerInterface
	Authenticator Authenticator
	// Tickets redeems the single-use query tickets that operations declaring an apiKey
	// security scheme in the query accept (GET /events for browsers); nil accepts none.
	Tickets     TicketRedeemer
	Idempotency IdempotencyStore
	// OneCommit lists the operations (by operationId) whose handler, with an
	// Idempotency-Key, runs in the transaction of its idempotency bookkeeping so that the
	// request commits once: operations whose every write goes through pg.WithTx, that
	// read nothing back through the pool after writing, and that change nothing outside
	// the database (the handler runs before the key is known to be free).
	OneCommit []string
	License   License
	Denials   DenialRecorder
	// BodyLimit is the largest request body accepted, in bytes.
	BodyLimit int64
	// Assets is the built web app (may be nil); AssetsBuilt says whether it holds a real build.
	Assets      fs.FS
	AssetsBuilt bool
	Now         func() time.Time
	// PublicURL, when set, is the external URL clients may have signed "@target-uri" under.
	PublicURL string
	// Metrics, when set, is told the operationId, status and duration of every API request.
	Metrics HTTPObserver
}

// HTTPObserver records answered API requests (metrics.Metrics).
type HTTPObserver interface {
	ObserveHTTP(operation string, status int, d time.Duration)
}

// Server is the configured Echo instance with its pipeline.
type Server struct {
	echo      *echo.Echo
	logger    *slog.Logger
	requests  logging.RequestLogger // the access log's fast path, when the logger has one
	doc       *openapi3.T
	auth      Authenticator
	tickets   TicketRedeemer
	idem      IdempotencyStore
	oneCommit map[string]bool
	license   License
	denials   DenialRecorder
	bodyLimit int64
	paths     *pathMatcher
	// ownLimits matches the operations whose x-body-limit is above bodyLimit: their own
	// limit (limitedTo) applies instead of the server-wide one.
	ownLimits   *pathMatcher
	assets      fs.FS
	assetsBuilt bool
	now         func() time.Time
	publicURL   *url.URL
	metrics     HTTPObserver
	// yamlFormat is the x-response-formats extension's parameter name ("" turns ?format=yaml off).
	yamlFormat string
}

// New builds the server. It fails when the generated routes and the operation table
// disagree, so a route can never run without its permission check.
func New(o Options) (*Server, error) {
	if o.Logger == nil || o.Doc == nil || o.Handlers == nil || o.Authenticator == nil || o.Idempotency == nil || o.License == nil || o.Denials == nil || o.Now == nil {
		return nil, errors.New("httpserver: missing dependency")
	}
	if o.BodyLimit <= 0 {
		o.BodyLimit = 2 << 20
	}
	s := &Server{
		echo: echo.New(), logger: o.Logger, requests: logging.RequestLoggerOf(o.Logger), doc: o.Doc, auth: o.Authenticator, tickets: o.Tickets, idem: o.Idempotency, license: o.License, denials: o.Denials,
		bodyLimit: o.BodyLimit, paths: newPathMatcher(o.Operations), ownLimits: newPathMatcher(largeBodies(o.Operations, o.BodyLimit)), assets: o.Assets, assetsBuilt: o.AssetsBuilt, now: o.Now,
		oneCommit: map[string]bool{}, publicURL: parsePublicURL(o.PublicURL), metrics: o.Metrics,
		yamlFormat: responseFormatParameter(o.Doc),
	}
	for _, id := range o.OneCommit {
		if _, ok := o.Operations[id]; !ok {
			return nil, fmt.Errorf("httpserver: one-commit operation %q is not in the spec", id)
		}
		s.oneCommit[id] = true
	}
	e := s.echo
	e.HideBanner = true
	e.HidePort = true
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = s.errorHandler
	// Responses over 1 KiB are gzip-compressed for clients that ask (Accept-Encoding);
	// small ones are not worth the CPU. Streams (text/event-stream) are not: the
	// compressor holds output back until it has MinLength bytes.
	streams := streamingRoutes(o.Operations)
	gzip := middleware.GzipWithConfig(middleware.GzipConfig{MinLength: 1024,
		Skipper: func(c echo.Context) bool { return streams[c.Path()] }})
	// Echo applies these on every request, each a closure: the four of ours are two.
	e.Use(s.correlatedAndLogged, gzip, s.guarded)

	r := &opRouter{s: s, byPath: map[string]*authz.Operation{}, seen: map[string]bool{}}
	for _, op := range o.Operations {
		r.byPath[op.Method+" "+echoPath(op.Path)] = op
	}
	api.RegisterHandlersWithBaseURL(r, api.NewStrictHandler(o.Handlers, nil), BasePath)
	if r.err != nil {
		return nil, r.err
	}
	r.register()
	for id := range o.Operations {
		if !r.seen[id] {
			return nil, fmt.Errorf("operation %s has no generated route", id)
		}
	}
	e.RouteNotFound("/api/*", s.apiNotFound)
	s.registerStatic()
	return s, nil
}

// streamingRoutes returns the Echo paths of the operations that answer with a stream.
func streamingRoutes(ops authz.Operations) map[string]bool {
	out := map[string]bool{}
	for _, op := range ops {
		if op.Spec == nil || op.Spec.Responses == nil {
			continue
		}
		for _, ref := range op.Spec.Responses.Map() {
			if ref.Value != nil && ref.Value.Content.Get("text/event-stream") != nil {
				out[echoPath(op.Path)] = true
			}
		}
	}
	return out
}

// Echo returns the underlying Echo instance, an http.Handler.
func (s *Server) Echo() *echo.Echo { return s.echo }
