package httpserver

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
)

// BenchmarkValidateCreateHost measures the request validation of a typical POST /hosts.
func BenchmarkValidateCreateHost(b *testing.B) {
	doc, err := openapi3.NewLoader().LoadFromData(api.SpecJSON)
	if err != nil {
		b.Fatal(err)
	}
	ops, err := authz.LoadOperations(doc)
	if err != nil {
		b.Fatal(err)
	}
	op := ops["createHost"]
	s := &Server{doc: doc}
	h := s.validate(op)(func(c echo.Context) error { return nil })
	e := echo.New()
	body := []byte(`{"hostname":"bench-1.example.com","ip_address":"127.250.1.2","port":1}`)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/hosts", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "k-1")
		c := e.NewContext(req, httptest.NewRecorder())
		if err := h(c); err != nil {
			b.Fatal(err)
		}
	}
}
