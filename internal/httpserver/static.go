package httpserver

import (
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"
)

// stubPage is served at / when the binary was built without the web app.
const stubPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OpenWatch</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto">
<h1>OpenWatch</h1>
<p>This binary was built without the web UI. Run <code>make build</code> (or <code>make run</code>)
to build it with the UI. The API is available under <a href="/api/v1/health">/api/v1</a> and documented at
<a href="/api/docs">/api/docs</a>.</p>
</body></html>
`

// docsPage hosts Swagger UI for the embedded spec. Its assets come from the web build.
const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OpenWatch API</title>
<link rel="stylesheet" href="/api/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/docs/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script>
</body></html>
`

// docsInit starts Swagger UI on the served spec; "Authorize" takes a bearer token.
const docsInit = `window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: true,
  withCredentials: true,
});
`

const docsMissing = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OpenWatch API</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto">
<h1>OpenWatch API</h1>
<p>Swagger UI was not built into this binary (run <code>make build</code>). The API document is at
<a href="/api/v1/openapi.json">/api/v1/openapi.json</a> and <a href="/api/v1/openapi.yaml">/api/v1/openapi.yaml</a>.</p>
</body></html>
`

// registerStatic serves the API docs and the single-page app.
func (s *Server) registerStatic() {
	e := s.echo
	e.GET("/api/docs", s.serveDocs)
	e.GET("/api/docs/*", s.serveDocs)
	e.GET("/*", s.serveApp)
	e.HEAD("/*", s.serveApp)
}

func (s *Server) serveDocs(c echo.Context) error {
	name := strings.TrimPrefix(c.Request().URL.Path, "/api/docs")
	name = strings.TrimPrefix(name, "/")
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
	switch name {
	case "", "index.html":
		h.Set("Cache-Control", "no-cache")
		if !s.hasFile("swagger/swagger-ui-bundle.js") {
			return c.HTML(http.StatusOK, docsMissing)
		}
		return c.HTML(http.StatusOK, docsPage)
	case "init.js":
		h.Set("Cache-Control", "no-cache")
		return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", []byte(docsInit))
	}
	file := path.Join("swagger", path.Clean("/"+name))
	if !s.hasFile(file) {
		return s.apiNotFound(c)
	}
	h.Set("Cache-Control", "public, max-age=3600")
	http.ServeFileFS(c.Response(), c.Request(), s.assets, file)
	return nil
}

func (s *Server) serveApp(c echo.Context) error {
	h := c.Response().Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	if !s.assetsBuilt {
		h.Set("Cache-Control", "no-cache")
		return c.HTML(http.StatusOK, stubPage)
	}
	name := strings.TrimPrefix(path.Clean("/"+c.Request().URL.Path), "/")
	if name == "" || !s.hasFile(name) {
		// SPA fallback: the app routes on the client.
		name = "index.html"
	}
	if strings.HasPrefix(name, "assets/") {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeFileFS(c.Response(), c.Request(), s.assets, name)
	return nil
}

func (s *Server) hasFile(name string) bool {
	if s.assets == nil {
		return false
	}
	st, err := fs.Stat(s.assets, name)
	return err == nil && !st.IsDir()
}
