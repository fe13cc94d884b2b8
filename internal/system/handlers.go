package system

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"strings"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/buildinfo"
	"github.com/openwatch/openwatch/internal/rule"
)

// Handlers implements the system operations.
type Handlers struct {
	health    *Health
	build     buildinfo.Info
	readiness *Readiness
	status    StatusSource
}

// NewHandlers returns the system handlers.
func NewHandlers(health *Health, build buildinfo.Info, readiness *Readiness, status StatusSource) *Handlers {
	return &Handlers{health: health, build: build, readiness: readiness, status: status}
}

// GetHealth implements GET /health (anonymous). It answers 503 when the database is down.
func (h *Handlers) GetHealth(ctx context.Context, _ api.GetHealthRequestObject) (api.GetHealthResponseObject, error) {
	if !h.health.DBConnected(ctx) {
		return nil, apperr.New(apperr.CodeUnavailable, "The database is unreachable, so the service cannot serve requests.").
			WithDetail("db_connected", false)
	}
	return api.GetHealth200JSONResponse{Status: api.HealthResponseStatusHealthy, DbConnected: true, Version: h.build.Version}, nil
}

// GetReadiness implements GET /ready (anonymous): 200 when every check passes, else 503
// service.unavailable naming the failing checks in detail.failing, with every check in
// detail.checks.
func (h *Handlers) GetReadiness(ctx context.Context, _ api.GetReadinessRequestObject) (api.GetReadinessResponseObject, error) {
	ready, results := h.readiness.Run(ctx)
	checks := toAPIChecks(results)
	if !ready {
		var failing []string
		for _, r := range results {
			if !r.OK {
				failing = append(failing, r.Name)
			}
		}
		return nil, apperr.Newf(apperr.CodeUnavailable, "Not ready: %s failing.", strings.Join(failing, ", ")).
			WithDetail("status", "not_ready").WithDetail("failing", failing).WithDetail("checks", checks)
	}
	return api.GetReadiness200JSONResponse{Status: api.Ready, Checks: checks}, nil
}

// GetSystemStatus implements GET /system/status (system:read).
func (h *Handlers) GetSystemStatus(ctx context.Context, _ api.GetSystemStatusRequestObject) (api.GetSystemStatusResponseObject, error) {
	ready, results := h.readiness.Run(ctx)
	out := api.SystemStatus{Ready: ready, Checks: toAPIChecks(results), Build: h.version(), Queue: []api.JobQueueDepth{}}
	s := h.status
	out.Database.Managed = s.ManagedDatabase
	if s.ServerVersion != nil {
		out.Database.ServerVersion = s.ServerVersion(ctx)
	}
	if s.Pool != nil {
		p := s.Pool()
		out.Database.Pool = api.ConnectionPoolStats{MaxConns: p.MaxConns, TotalConns: p.TotalConns, AcquiredConns: p.AcquiredConns,
			IdleConns: p.IdleConns, AcquireCount: p.AcquireCount, EmptyAcquireCount: p.EmptyAcquireCount, AcquireWaitSeconds: p.AcquireWait.Seconds()}
	}
	if s.Workers != nil {
		w, err := s.Workers(ctx)
		if err != nil {
			return nil, err
		}
		out.Workers = api.WorkerStatus{ThisProcessWorksJobs: w.ThisProcess, LeaderAlive: w.LeaderAlive, LastSeen: w.LastSeen}
		for kind, n := range w.Depth {
			out.Queue = append(out.Queue, api.JobQueueDepth{Kind: kind, Depth: n})
		}
		slices.SortFunc(out.Queue, func(a, b api.JobQueueDepth) int {
			if c := cmp.Compare(b.Depth, a.Depth); c != 0 {
				return c
			}
			return strings.Compare(a.Kind, b.Kind)
		})
	}
	m := MetricsInfo{Auth: "none"}
	if s.Metrics != nil {
		m = s.Metrics()
	}
	out.Metrics = api.MetricsListenerStatus{Enabled: m.Enabled, Listen: m.Listen, Auth: api.MetricsListenerStatusAuth(m.Auth), Tls: m.TLS}
	return api.GetSystemStatus200JSONResponse(out), nil
}

func toAPIChecks(results []CheckResult) []api.ReadinessCheck {
	out := make([]api.ReadinessCheck, len(results))
	for i, r := range results {
		st := api.Ok
		if !r.OK {
			st = api.Failing
		}
		out[i] = api.ReadinessCheck{Name: r.Name, Status: st, Detail: r.Detail}
	}
	return out
}

func (h *Handlers) version() api.VersionResponse {
	b := h.build
	return api.VersionResponse{Openwatch: b.Version, Kensa: rule.EngineVersion(), Go: b.Go, Commit: b.Commit, BuildTime: b.BuildTime}
}

// GetVersion implements GET /version (anonymous).
func (h *Handlers) GetVersion(context.Context, api.GetVersionRequestObject) (api.GetVersionResponseObject, error) {
	return api.GetVersion200JSONResponse(h.version()), nil
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
