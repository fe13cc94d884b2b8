package httpserver_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/logging"
)

// BenchmarkPipeline measures the whole request pipeline in process (no TLS, no sockets)
// for the cheapest reads, with the default logging (info, JSON): what the server adds to a
// bare handler on every request. Figures only (make bench-micro).
func BenchmarkPipeline(b *testing.B) {
	env := apitest.New(b, func(d *app.Deps) {
		l, err := logging.New(io.Discard, "info", "json")
		require.NoError(b, err)
		d.Logger = l
	})
	token := env.Admin().AccessToken
	h := env.App.Handler()
	for _, tc := range []struct{ name, path string }{
		{"health", "/api/v1/health"},
		{"auth-me", "/api/v1/auth/me"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", tc.path, rec.Code, rec.Body)
				}
			}
		})
	}
}
