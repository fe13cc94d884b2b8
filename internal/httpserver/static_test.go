package httpserver

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/reqinfo"
)

func staticServer(t *testing.T, assets fstest.MapFS, built bool) *Server {
	s := &Server{echo: echo.New(), logger: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)), assets: assets, assetsBuilt: built,
		paths: &pathMatcher{}, now: time.Now, bodyLimit: 1 << 20}
	s.echo.HTTPErrorHandler = s.errorHandler
	s.echo.Use(s.correlatedAndLogged, s.guarded)
	s.echo.RouteNotFound("/api/*", s.apiNotFound)
	s.registerStatic()
	return s
}

func get(t *testing.T, s *Server, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.echo.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func TestSPA(t *testing.T) {
	assets := fstest.MapFS{
		"index.html":          {Data: []byte("<html>app</html>")},
		"assets/app-abc12.js": {Data: []byte("console.log(1)")},
		"favicon.svg":         {Data: []byte("<svg/>")},
	}
	s := staticServer(t, assets, true)

	rec := get(t, s, "/")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "app")
	require.Equal(t, "no-cache", rec.Header().Get("Cache-Control"))

	rec = get(t, s, "/hosts/123")
	require.Equal(t, http.StatusOK, rec.Code, "client-side routes fall back to index.html")
	require.Contains(t, rec.Body.String(), "app")

	rec = get(t, s, "/assets/app-abc12.js")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "public, max-age=31536000, immutable", rec.Header().Get("Cache-Control"))

	rec = get(t, s, "/api/v1/unknown")
	require.Equal(t, http.StatusNotFound, rec.Code, "API paths never fall back to the app")
	require.Contains(t, rec.Body.String(), "route.not_found")
}

func TestStubPageWithoutBuild(t *testing.T) {
	s := staticServer(t, fstest.MapFS{}, false)
	rec := get(t, s, "/")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "built without the web UI")

	rec = get(t, s, "/api/docs")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "openapi.json")
}

func TestDocsServedFromEmbeddedAssets(t *testing.T) {
	s := staticServer(t, fstest.MapFS{
		"index.html":                   {Data: []byte("app")},
		"swagger/swagger-ui-bundle.js": {Data: []byte("var SwaggerUIBundle")},
		"swagger/swagger-ui.css":       {Data: []byte("body{}")},
	}, true)
	rec := get(t, s, "/api/docs")
	require.Contains(t, rec.Body.String(), "/api/docs/swagger-ui-bundle.js")
	require.NotContains(t, rec.Body.String(), "http", "no CDN")
	require.Contains(t, get(t, s, "/api/docs/swagger-ui-bundle.js").Body.String(), "SwaggerUIBundle")
	require.Contains(t, get(t, s, "/api/docs/init.js").Body.String(), "/api/v1/openapi.json")
	require.Equal(t, http.StatusNotFound, get(t, s, "/api/docs/../../etc/passwd").Code)
}

func TestPanicBecomes500Envelope(t *testing.T) {
	s := staticServer(t, fstest.MapFS{}, false)
	s.echo.GET("/api/v1/boom", func(echo.Context) error { panic("kaboom") })
	req := httptest.NewRequest(http.MethodGet, "/api/v1/boom", nil)
	req.Header.Set("X-Correlation-Id", "panic-1")
	rec := httptest.NewRecorder()
	s.echo.ServeHTTP(rec, req)
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	var env envelope
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &env))
	require.Equal(t, "internal.error", string(env.Error.Code))
	require.Equal(t, "panic-1", env.Error.CorrelationID)
	require.NotContains(t, rec.Body.String(), "kaboom", "internals are not returned")
}

func TestCorrelationIDInContext(t *testing.T) {
	s := staticServer(t, fstest.MapFS{}, false)
	var seen string
	s.echo.GET("/api/v1/ctx", func(c echo.Context) error {
		seen = reqinfo.CorrelationID(c.Request().Context())
		return c.NoContent(http.StatusNoContent)
	})
	rec := httptest.NewRecorder()
	s.echo.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v1/ctx", nil))
	require.Equal(t, rec.Header().Get(HeaderCorrelationID), seen)
	require.Len(t, seen, 26)
}

// TestAccessLogLevels: an answered health check is logged at debug only; other requests at
// info, server errors at error.
func TestAccessLogLevels(t *testing.T) {
	for _, tc := range []struct {
		level slog.Level
		path  string
		logs  bool
	}{
		{slog.LevelInfo, "/api/v1/health", false},
		{slog.LevelDebug, "/api/v1/health", true},
		{slog.LevelInfo, "/api/v1/nowhere", true},
		{slog.LevelError, "/api/v1/boom", true},
		{slog.LevelError, "/api/v1/nowhere", false},
	} {
		var buf bytes.Buffer
		s := staticServer(t, fstest.MapFS{}, false)
		s.logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: tc.level}))
		s.echo.GET("/api/v1/health", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
		s.echo.GET("/api/v1/boom", func(c echo.Context) error { return c.NoContent(http.StatusInternalServerError) })
		get(t, s, tc.path)
		require.Equal(t, tc.logs, bytes.Contains(buf.Bytes(), []byte(`"msg":"request"`)), "%s at %s: %s", tc.path, tc.level, buf.String())
	}
}
