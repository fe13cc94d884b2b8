package httpserver

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/authz"
)

// BasePath is where the API lives.
const BasePath = "/api/v1"

// echoPath converts a spec path template to Echo's syntax, the same way oapi-codegen's
// generated RegisterHandlers does: literal colons are escaped, {name} becomes :name.
func echoPath(specPath string) string {
	var b strings.Builder
	b.WriteString(BasePath)
	for i := 0; i < len(specPath); i++ {
		switch ch := specPath[i]; ch {
		case ':':
			b.WriteString(`\:`)
		case '{':
			end := strings.IndexByte(specPath[i:], '}')
			b.WriteByte(':')
			b.WriteString(specPath[i+1 : i+end])
			i += end
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// opRouter is the EchoRouter handed to the generated RegisterHandlers. It attaches to each
// route the middleware chain of its operation, so nothing is looked up per request.
type opRouter struct {
	s      *Server
	byPath map[string]*authz.Operation // method + " " + echo path
	seen   map[string]bool
	err    error
}

func (r *opRouter) add(method, path string, h echo.HandlerFunc) *echo.Route {
	op := r.byPath[method+" "+path]
	if op == nil {
		if r.err == nil {
			r.err = fmt.Errorf("route %s %s has no operation in the spec", method, path)
		}
		op = &authz.Operation{Method: method, Path: path}
	}
	r.seen[op.ID] = true
	return r.s.echo.Add(method, path, h, r.s.chain(op)...)
}

func (r *opRouter) CONNECT(p string, h echo.HandlerFunc, _ ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodConnect, p, h)
}
func (r *opRouter) DELETE(p string, h echo.HandlerFunc, _ ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodDelete, p, h)
}
func (r *opRouter) GET(p string, h echo.HandlerFunc, _ ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodGet, p, h)
}
func (r *opRouter) HEAD(p string, h echo.HandlerFunc, _ ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodHead, p, h)
}
func (r *opRouter) OPTIONS(p string, h echo.HandlerFunc, _ ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodOptions, p, h)
}
func (r *opRouter) PATCH(p string, h echo.HandlerFunc, _ ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPatch, p, h)
}
func (r *opRouter) POST(p string, h echo.HandlerFunc, _ ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPost, p, h)
}
func (r *opRouter) PUT(p string, h echo.HandlerFunc, _ ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPut, p, h)
}
func (r *opRouter) TRACE(p string, h echo.HandlerFunc, _ ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodTrace, p, h)
}

// chain returns the per-operation middleware, outermost first.
func (s *Server) chain(op *authz.Operation) []echo.MiddlewareFunc {
	var mws []echo.MiddlewareFunc
	if !op.Anonymous {
		mws = append(mws, s.authorize(op))
	}
	if op.NeedsValidation {
		mws = append(mws, s.validate(op))
	}
	if op.Idempotency != authz.IdempotencyNone {
		mws = append(mws, s.idempotent(op))
	}
	return mws
}

// pathMatcher answers, for a path no route matched, which methods the spec allows on it,
// so the server can tell 405 from 404.
type pathMatcher struct {
	patterns []*regexp.Regexp
	methods  [][]string
}

func newPathMatcher(ops authz.Operations) *pathMatcher {
	byPath := map[string][]string{}
	for _, op := range ops {
		byPath[op.Path] = append(byPath[op.Path], op.Method)
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	m := &pathMatcher{}
	for _, p := range paths {
		var re strings.Builder
		re.WriteString("^" + regexp.QuoteMeta(BasePath))
		for i := 0; i < len(p); i++ {
			if p[i] == '{' {
				end := strings.IndexByte(p[i:], '}')
				re.WriteString(`[^/]+`)
				i += end
				continue
			}
			re.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
		re.WriteString("$")
		methods := byPath[p]
		sort.Strings(methods)
		m.patterns = append(m.patterns, regexp.MustCompile(re.String()))
		m.methods = append(m.methods, methods)
	}
	return m
}

func (m *pathMatcher) allowed(path string) []string {
	var out []string
	for i, re := range m.patterns {
		if re.MatchString(path) {
			out = append(out, m.methods[i]...)
		}
	}
	return out
}

// apiNotFound answers every /api request no route took: 405 with Allow when the path
// exists with other methods, otherwise 404.
func (s *Server) apiNotFound(c echo.Context) error {
	if allowed := s.paths.allowed(c.Request().URL.Path); len(allowed) > 0 {
		c.Response().Header().Set("Allow", strings.Join(allowed, ", "))
		return apperr.Newf(apperr.CodeMethodNotAllowed, "%s is not allowed here; allowed: %s.", c.Request().Method, strings.Join(allowed, ", ")).
			WithDetail("allowed_methods", allowed)
	}
	return apperr.Newf(apperr.CodeRouteNotFound, "No API endpoint at %s.", c.Request().URL.Path)
}
