package httpserver

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/logging"
	"github.com/openwatch/openwatch/internal/reqinfo"
)

// HeaderCorrelationID is the request and response header carrying the correlation id.
const HeaderCorrelationID = "X-Correlation-Id"

// correlate accepts a well-formed X-Correlation-Id or generates a sortable one, echoes it,
// and puts it with the client's address into the request context.
func (s *Server) correlate(c echo.Context) {
	req := c.Request()
	id := req.Header.Get(HeaderCorrelationID)
	if !reqinfo.ValidCorrelationID(id) {
		id = reqinfo.NewCorrelationID(s.now())
	}
	// Canonical keys set directly, the constant values shared: every response has them.
	h := c.Response().Header()
	h[HeaderCorrelationID] = []string{id}
	h["X-Content-Type-Options"] = nosniff
	h["Strict-Transport-Security"] = hsts
	info := &reqinfo.Info{CorrelationID: id, ClientAddr: c.RealIP(), UserAgent: req.UserAgent(), Host: req.Host, TLS: req.TLS != nil}
	c.SetRequest(req.WithContext(reqinfo.With(req.Context(), info)))
}

// The values of the headers every response carries. A handler may replace them, never
// change them in place.
var (
	nosniff = []string{"nosniff"}
	hsts    = []string{"max-age=31536000"}
)

// Echo applies the server-wide middleware again on every request, one closure each, so
// the server's own come in two: correlatedAndLogged (correlate, then logged) outside the
// compressor and guarded (recovered, then limited) inside it.
func (s *Server) correlatedAndLogged(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s.correlate(c)
		return s.logged(c, next)
	}
}

func (s *Server) guarded(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer s.recovered(c, &err)
		return s.limited(c, next)
	}
}

// healthPath and readyPath are the probes load balancers and orchestrators poll.
const (
	healthPath = "/api/v1/health"
	readyPath  = "/api/v1/ready"
)

// logged runs next and writes the request's access line. It renders errors itself
// (through the error handler) so the line carries the final status. Answered health
// checks, which monitoring sends every few seconds, are logged at debug; server errors at
// error, the rest at info. Nothing is built for a line the logger would drop.
func (s *Server) logged(c echo.Context, next echo.HandlerFunc) error {
	start := time.Now()
	if err := next(c); err != nil {
		c.Error(err)
	}
	req := c.Request()
	res := c.Response()
	if s.metrics != nil {
		if op := reqinfo.From(req.Context()).Operation; op != "" {
			s.metrics.ObserveHTTP(op, res.Status, time.Since(start))
		} else if strings.HasPrefix(req.URL.Path, BasePath+"/") {
			s.metrics.ObserveHTTP("unmatched", res.Status, time.Since(start))
		}
	}
	level := slog.LevelInfo
	switch {
	case res.Status >= 500:
		level = slog.LevelError
	case req.URL.Path == healthPath, req.URL.Path == readyPath && res.Status == 200:
		level = slog.LevelDebug
	}
	if s.requests != nil {
		if s.requests.Enabled(level) {
			s.requests.LogRequest(req.Context(), level, logging.Request{Method: req.Method, Path: req.URL.Path,
				Status: res.Status, Bytes: res.Size, DurationMS: float64(time.Since(start).Microseconds()) / 1000,
				Client: reqinfo.From(req.Context()).ClientAddr})
		}
		return nil
	}
	if !s.logger.Enabled(req.Context(), level) {
		return nil
	}
	s.logger.LogAttrs(req.Context(), level, "request",
		slog.String("method", req.Method),
		slog.String("path", req.URL.Path),
		slog.Int("status", res.Status),
		slog.Int64("bytes", res.Size),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("client", reqinfo.From(req.Context()).ClientAddr),
	)
	return nil
}

// recovered, deferred, turns a panic in anything below it into a 500 envelope (in *err)
// and logs the stack.
func (s *Server) recovered(c echo.Context, err *error) {
	r := recover()
	if r == nil {
		return
	}
	if r == http.ErrAbortHandler {
		panic(r) // net/http's own signal to abort the response
	}
	stack := make([]byte, 8<<10)
	stack = stack[:runtime.Stack(stack, false)]
	s.logger.ErrorContext(c.Request().Context(), "panic", slog.Any("panic", r), slog.String("stack", string(stack)))
	*err = apperr.Internal(fmt.Errorf("panic: %v", r))
}

// limited refuses bodies over the limit: at once when Content-Length says so, otherwise
// when reading passes the limit.
func (s *Server) limited(c echo.Context, next echo.HandlerFunc) error {
	req := c.Request()
	if s.ownLimits != nil && slices.Contains(s.ownLimits.allowed(req.URL.Path), req.Method) {
		return next(c) // the operation's own, larger limit applies (limitedTo)
	}
	if req.ContentLength > s.bodyLimit {
		return apperr.Newf(apperr.CodeBodyTooLarge, "The request body is larger than the limit of %d bytes.", s.bodyLimit).
			WithDetail("limit_bytes", s.bodyLimit)
	}
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = http.MaxBytesReader(c.Response(), req.Body, s.bodyLimit)
	}
	return next(c)
}

// largeBodies returns the operations whose x-body-limit is above the server-wide limit.
func largeBodies(ops authz.Operations, limit int64) authz.Operations {
	out := authz.Operations{}
	for id, op := range ops {
		if op.BodyLimit > limit {
			out[id] = op
		}
	}
	return out
}

// limitedTo refuses bodies over limit for one operation (x-body-limit), like limited.
func (s *Server) limitedTo(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.ContentLength > limit {
				return apperr.Newf(apperr.CodeBodyTooLarge, "The request body is larger than the limit of %d bytes.", limit).
					WithDetail("limit_bytes", limit)
			}
			if req.Body != nil && req.Body != http.NoBody {
				req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
			}
			return next(c)
		}
	}
}
