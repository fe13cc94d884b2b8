package system

import (
	"context"
	"net/http"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/buildinfo"
	"github.com/openwatch/openwatch/internal/rule"
)

// Handlers implements the system operations.
type Handlers struct {
	health *Health
	build  buildinfo.Info
}

// NewHandlers returns the system handlers.
func NewHandlers(health *Health, build buildinfo.Info) *Handlers {
	return &Handlers{health: health, build: build}
}

// GetHealth implements GET /health (anonymous). It answers 503 when the database is down.
func (h *Handlers) GetHealth(ctx context.Context, _ api.GetHealthRequestObject) (api.GetHealthResponseObject, error) {
	if !h.health.DBConnected(ctx) {
		return nil, apperr.New(apperr.CodeUnavailable, "The database is unreachable, so the service cannot serve requests.").
			WithDetail("db_connected", false)
	}
	return api.GetHealth200JSONResponse{Status: api.HealthResponseStatusHealthy, DbConnected: true, Version: h.build.Version}, nil
}

// GetVersion implements GET /version (anonymous).
func (h *Handlers) GetVersion(context.Context, api.GetVersionRequestObject) (api.GetVersionResponseObject, error) {
	b := h.build
	return api.GetVersion200JSONResponse{Openwatch: b.Version, Kensa: rule.EngineVersion(), Go: b.Go, Commit: b.Commit, BuildTime: b.BuildTime}, nil
}

// rawDocument writes one of the embedded, bundled documents byte for byte.
type rawDocument struct {
	contentType string
	body        []byte
}

func (d rawDocument) write(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", d.contentType)
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(d.body)
	return err
}

func (d rawDocument) VisitGetOpenAPIJSONResponse(w http.ResponseWriter) error { return d.write(w) }
func (d rawDocument) VisitGetOpenAPIYAMLResponse(w http.ResponseWriter) error { return d.write(w) }

// GetOpenAPIJSON implements GET /openapi.json (anonymous).
func (h *Handlers) GetOpenAPIJSON(context.Context, api.GetOpenAPIJSONRequestObject) (api.GetOpenAPIJSONResponseObject, error) {
	return rawDocument{contentType: "application/json", body: api.SpecJSON}, nil
}

// GetOpenAPIYAML implements GET /openapi.yaml (anonymous).
func (h *Handlers) GetOpenAPIYAML(context.Context, api.GetOpenAPIYAMLRequestObject) (api.GetOpenAPIYAMLResponseObject, error) {
	return rawDocument{contentType: "application/yaml", body: api.SpecYAML}, nil
}
