package host_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
)

// BenchmarkGetHost measures GET /hosts/{id} through the whole pipeline, without TLS.
func BenchmarkGetHost(b *testing.B) {
	env := apitest.New(b)
	admin := env.Admin()
	var h api.HostResponse
	env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: admin.AccessToken,
		JSON: map[string]any{"hostname": "bench.example.com", "ip_address": "10.0.0.1"}}).Decode(b, &h)
	handler := env.App.Handler()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/hosts/"+h.Id.String(), nil)
			req.Header.Set("Authorization", "Bearer "+admin.AccessToken)
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatal(rec.Code)
			}
		}
	})
}

// BenchmarkListHosts measures the first page of GET /hosts (50 hosts) without TLS.
func BenchmarkListHosts(b *testing.B) {
	env := apitest.New(b)
	admin := env.Admin()
	for range 60 {
		env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: admin.AccessToken,
			JSON: map[string]any{"hostname": "h" + randomSuffix() + ".example.com", "ip_address": "10.0.0.1"}})
	}
	handler := env.App.Handler()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodGet, "/api/v1/hosts", nil)
			req.Header.Set("Authorization", "Bearer "+admin.AccessToken)
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatal(rec.Code)
			}
		}
	})
}

var suffix int

func randomSuffix() string {
	suffix++
	return string(rune('a'+suffix%26)) + string(rune('a'+suffix/26%26)) + string(rune('a'+suffix/676%26))
}
