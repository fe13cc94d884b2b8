package httpserver

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/reqinfo"
)

// HeaderCorrelationID is the request and response header carrying the correlation id.
const HeaderCorrelationID = "X-Correlation-Id"

// correlation accepts a well-formed X-Correlation-Id or generates a sortable one, echoes it,
// and puts it with the client's address into the request context.
func (s *Server) correlation(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		id := req.Header.Get(HeaderCorrelationID)
		if !reqinfo.ValidCorrelationID(id) {
			id = reqinfo.NewCorrelationID(s.now())
		}
		h := c.Response().Header()
		h.Set(HeaderCorrelationID, id)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Strict-Transport-Security", "max-age=31536000")
		info := &reqinfo.Info{CorrelationID: id, ClientAddr: c.RealIP(), UserAgent: req.UserAgent()}
		c.SetRequest(req.WithContext(reqinfo.With(req.Context(), info)))
		return next(c)
	}
}

// healthPath is the liveness probe load balancers and orchestrators poll.
const healthPath = "/api/v1/health"

// accessLog writes one JSON line per request. It renders errors itself (through the error
// handler) so the line carries the final status. Answered health checks, which monitoring
// sends every few seconds, are logged at debug; server errors at error, the rest at info.
// Nothing is built for a line the logger would drop.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		req := c.Request()
		res := c.Response()
		level := slog.LevelInfo
		switch {
		case res.Status >= 500:
			level = slog.LevelError
		case req.URL.Path == healthPath:
			level = slog.LevelDebug
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
}

// recoverPanics turns a panic in anything below it into a 500 envelope and logs the stack.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
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
			err = apperr.Internal(fmt.Errorf("panic: %v", r))
		}()
		return next(c)
	}
}

// limitBody refuses bodies over the limit: at once when Content-Length says so, otherwise
// when reading passes the limit.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.ContentLength > s.bodyLimit {
			return apperr.Newf(apperr.CodeBodyTooLarge, "The request body is larger than the limit of %d bytes.", s.bodyLimit).
				WithDetail("limit_bytes", s.bodyLimit)
		}
		if req.Body != nil && req.Body != http.NoBody {
			req.Body = http.MaxBytesReader(c.Response(), req.Body, s.bodyLimit)
		}
		return next(c)
	}
}
