package httpserver

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/reqinfo"
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

// opRouter is the EchoRouter handed to the generated RegisterHandlers. It collects the
// routes, then registers each with the middleware chain of its operation, so nothing is
// looked up per request.
//
// Echo cannot route a path parameter followed by a literal in the same segment, the
// custom-method form `/things/{id}:verb`: it would read `id\:verb` as the parameter's name.
// Such routes are registered as `/things/:id` with a dispatcher that matches the `:verb`
// suffix, strips it from the parameter and runs that operation's chain.
type opRouter struct {
	s      *Server
	byPath map[string]*authz.Operation // method + " " + echo path
	seen   map[string]bool
	routes []collected
	err    error
}

type collected struct {
	op *authz.Operation
	h  echo.HandlerFunc
}

func (r *opRouter) add(method, path string, h echo.HandlerFunc) *echo.Route {
	op := r.byPath[method+" "+path]
	if op == nil {
		if r.err == nil {
			r.err = fmt.Errorf("route %s %s has no operation in the spec", method, path)
		}
		return &echo.Route{Method: method, Path: path}
	}
	r.seen[op.ID] = true
	r.routes = append(r.routes, collected{op: op, h: h})
	return &echo.Route{Method: method, Path: path, Name: op.ID}
}

// customMethod splits a spec path whose last segment is `{param}:verb` into the Echo path
// up to the parameter and the `:verb` suffix.
func customMethod(specPath string) (prefix, verb string, ok bool) {
	i := strings.LastIndexByte(specPath, '/')
	last := specPath[i+1:]
	if !strings.HasPrefix(last, "{") {
		return "", "", false
	}
	end := strings.IndexByte(last, '}')
	if end < 0 || end == len(last)-1 || last[end+1] != ':' {
		return "", "", false
	}
	return echoPath(specPath[:i+1] + last[:end+1]), last[end+1:], true
}

// dispatcher routes one Echo path to the custom-method operations that share it.
type dispatcher struct {
	verbs    []string // longest first
	handlers map[string]echo.HandlerFunc
	fallback echo.HandlerFunc // the plain `{param}` operation of the same method, if any
	notFound echo.HandlerFunc
}

func (d *dispatcher) serve(c echo.Context) error {
	values := append([]string(nil), c.ParamValues()...)
	if n := len(values); n > 0 {
		last := values[n-1]
		for _, verb := range d.verbs {
			if len(last) > len(verb) && strings.HasSuffix(last, verb) {
				values[n-1] = last[:len(last)-len(verb)]
				c.SetParamValues(values...)
				return d.handlers[verb](c)
			}
		}
	}
	if d.fallback != nil {
		return d.fallback(c)
	}
	return d.notFound(c)
}

// register adds the collected routes to Echo.
func (r *opRouter) register() {
	e := r.s.echo
	dispatchers := map[string]*dispatcher{}
	var order []string
	for _, rt := range r.routes {
		prefix, verb, ok := customMethod(rt.op.Path)
		if !ok {
			continue
		}
		key := rt.op.Method + " " + prefix
		d := dispatchers[key]
		if d == nil {
			d = &dispatcher{handlers: map[string]echo.HandlerFunc{}, notFound: r.s.apiNotFound}
			dispatchers[key] = d
			order = append(order, key)
		}
		d.verbs = append(d.verbs, verb)
		d.handlers[verb] = wrap(rt.h, r.s.chain(rt.op))
	}
	for _, rt := range r.routes {
		if _, _, ok := customMethod(rt.op.Path); ok {
			continue
		}
		path := echoPath(rt.op.Path)
		if d := dispatchers[rt.op.Method+" "+path]; d != nil {
			d.fallback = wrap(rt.h, r.s.chain(rt.op))
			continue
		}
		// Composed once here: Echo would apply route middleware again on every request.
		e.Add(rt.op.Method, path, wrap(rt.h, r.s.chain(rt.op)))
	}
	for _, key := range order {
		d := dispatchers[key]
		sort.Slice(d.verbs, func(i, j int) bool { return len(d.verbs[i]) > len(d.verbs[j]) })
		method, path, _ := strings.Cut(key, " ")
		e.Add(method, path, d.serve)
	}
}

// wrap applies middleware to a handler, outermost first, as Echo would.
func wrap(h echo.HandlerFunc, mws []echo.MiddlewareFunc) echo.HandlerFunc {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
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
	mws := []echo.MiddlewareFunc{routedTo(op.ID)}
	if f := s.formats(op); f != nil {
		mws = append(mws, f)
	}
	if op.BodyLimit > 0 {
		mws = append(mws, s.limitedTo(op.BodyLimit))
	}
	if !op.Anonymous {
		mws = append(mws, s.authorize(op))
	}
	mws = append(mws, checkQuery)
	if op.NeedsValidation {
		mws = append(mws, s.validate(op))
	}
	if op.Idempotency != authz.IdempotencyNone {
		mws = append(mws, s.idempotent(op))
	}
	return mws
}

// routedTo records the request's operationId in its request info (the metrics label).
func routedTo(id string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if info := reqinfo.From(c.Request().Context()); info != nil {
				info.Operation = id
			}
			return next(c)
		}
	}
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
			for _, method := range m.methods[i] {
				if !slices.Contains(out, method) {
					out = append(out, method)
				}
			}
		}
	}
	sort.Strings(out)
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
