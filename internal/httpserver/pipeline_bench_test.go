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

// quietServer returns the whole server's handler, logging as a server does by default
// (info, JSON) to nowhere, and an admin's access token.
func quietServer(t testing.TB) (http.Handler, string) {
	env := apitest.New(t, func(d *app.Deps) {
		l, err := logging.New(io.Discard, "info", "json")
		require.NoError(t, err)
		d.Logger = l
	})
	return env.App.Handler(), env.Admin().AccessToken
}

// BenchmarkPipeline measures the whole request pipeline in process (no TLS, no sockets)
// for the cheapest reads, with the default logging (info, JSON): what the server adds to a
// bare handler on every request. Figures only (make bench-micro).
func BenchmarkPipeline(b *testing.B) {
	h, token := quietServer(b)
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

// TestPipelineAllocations guards the cheap path of every request (not a timing): Echo's
// per-request middleware is two closures of ours, route middleware is composed once, and
// the access line is written without slog's record. Through the whole pipeline, with
// default logging, GET /health and GET /auth/me allocate no more than this (the test's
// own recorder included); each of those fixes undone adds two or more.
func TestPipelineAllocations(t *testing.T) {
	h, token := quietServer(t)
	// Measured 23 and 26 (25 and 32 under the race detector, whose sync.Pool drops items).
	cases := []struct {
		path string
		max  float64
	}{{"/api/v1/health", 24}, {"/api/v1/auth/me", 27}}
	if raceOn {
		cases[0].max, cases[1].max = 26, 33
	}
	for _, tc := range cases {
		req := httptest.NewRequest(http.MethodGet, tc.path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		allocs := testing.AllocsPerRun(200, func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("%s: %d %s", tc.path, rec.Code, rec.Body)
			}
		})
		require.LessOrEqual(t, allocs, tc.max, "%s allocates %.0f objects per request", tc.path, allocs)
	}
}
