package report

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/google/uuid"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
)

// Handlers implements the report operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// GenerateReport implements POST /reports:generate (report:generate).
func (h *Handlers) GenerateReport(ctx context.Context, req api.GenerateReportRequestObject) (api.GenerateReportResponseObject, error) {
	b := req.Body
	r, err := h.svc.Generate(ctx, authz.PrincipalFrom(ctx), Request{Kind: string(b.Kind), Scope: fromAPIScope(b.Scope),
		Parameters: fromAPIParameters(b.Parameters)})
	if err != nil {
		return nil, err
	}
	return api.GenerateReport202JSONResponse(toAPIReport(r)), nil
}

// ListReports implements GET /reports (report:read).
func (h *Handlers) ListReports(ctx context.Context, req api.ListReportsRequestObject) (api.ListReportsResponseObject, error) {
	p := req.Params
	page, err := cursor.Serve(ctx, cursor.ByID{}, p.Cursor, p.Limit, cursor.Limits(api.ListReportsPageLimit()),
		func(ctx context.Context, r cursor.Request[uuid.UUID]) (cursor.Page[Report], error) {
			return h.svc.List(ctx, (*string)(p.Kind), (*string)(p.Status), r)
		}, toAPIReport)
	if err != nil {
		return nil, err
	}
	return api.ListReports200JSONResponse{Items: page.Items, NextCursor: page.Next}, nil
}

// GetReport implements GET /reports/{id} (report:read).
func (h *Handlers) GetReport(ctx context.Context, req api.GetReportRequestObject) (api.GetReportResponseObject, error) {
	r, err := h.svc.Get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetReport200JSONResponse(toAPIReport(r)), nil
}

// exportResponse writes an export as a download.
type exportResponse struct {
	name, contentType string
	body              []byte
}

func (r exportResponse) VisitExportReportResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", r.contentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", r.name))
	w.Header().Set("Content-Length", strconv.Itoa(len(r.body)))
	w.WriteHeader(http.StatusOK)
	_, err := io.Copy(w, bytes.NewReader(r.body))
	return err
}

// ExportReport implements GET /reports/{id}/export (report:read).
func (h *Handlers) ExportReport(ctx context.Context, req api.ExportReportRequestObject) (api.ExportReportResponseObject, error) {
	format := string(req.Params.Format)
	body, err := h.svc.ExportFile(ctx, req.Id, format)
	if err != nil {
		return nil, err
	}
	return exportResponse{name: exportName(req.Id, format), contentType: contentTypes[format], body: body}, nil
}

// GetReportSigningKeys implements GET /reports/signing-key (report:read).
func (h *Handlers) GetReportSigningKeys(ctx context.Context, _ api.GetReportSigningKeysRequestObject) (api.GetReportSigningKeysResponseObject, error) {
	keys, err := h.svc.Keys(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetReportSigningKeys200JSONResponse(toAPIKeys(keys)), nil
}

// RotateReportSigningKey implements POST /reports/signing-key:rotate (report:signing_key).
func (h *Handlers) RotateReportSigningKey(ctx context.Context, _ api.RotateReportSigningKeyRequestObject) (api.RotateReportSigningKeyResponseObject, error) {
	keys, err := h.svc.RotateKey(ctx, authz.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	return api.RotateReportSigningKey200JSONResponse(toAPIKeys(keys)), nil
}

// ListReportFrameworks implements GET /reports/frameworks (report:read).
func (h *Handlers) ListReportFrameworks(_ context.Context, _ api.ListReportFrameworksRequestObject) (api.ListReportFrameworksResponseObject, error) {
	fs := h.svc.Frameworks()
	out := api.ReportFrameworkList{Frameworks: make([]api.ReportFramework, len(fs))}
	for i, f := range fs {
		out.Frameworks[i] = api.ReportFramework{Id: f.ID, Name: f.Name, Family: f.Family, Benchmark: f.Benchmark, RuleCount: f.Rules}
	}
	return api.ListReportFrameworks200JSONResponse(out), nil
}

// ListReportSchedules implements GET /reports/schedules (report:read).
func (h *Handlers) ListReportSchedules(ctx context.Context, req api.ListReportSchedulesRequestObject) (api.ListReportSchedulesResponseObject, error) {
	p := req.Params
	page, err := cursor.Serve(ctx, cursor.ByID{}, p.Cursor, p.Limit, cursor.Limits(api.ListReportSchedulesPageLimit()),
		h.svc.ListSchedules, toAPISchedule)
	if err != nil {
		return nil, err
	}
	return api.ListReportSchedules200JSONResponse{Items: page.Items, NextCursor: page.Next}, nil
}

func scheduleInput(name *string, kind *api.ReportKind, scope *api.ReportScope, params *api.ReportParameters, cron, tz *string,
	format *api.ReportFormat, channels *[]uuid.UUID, enabled *bool) ScheduleInput {
	in := ScheduleInput{Name: name, Cron: cron, Timezone: tz, ChannelIDs: channels, Enabled: enabled}
	if kind != nil {
		k := string(*kind)
		in.Kind = &k
	}
	if scope != nil {
		s := fromAPIScope(scope)
		in.Scope = &s
	}
	if params != nil {
		p := fromAPIParameters(params)
		in.Parameters = &p
	}
	if format != nil {
		f := string(*format)
		in.Format = &f
	}
	return in
}

// CreateReportSchedule implements POST /reports/schedules (report:schedule).
func (h *Handlers) CreateReportSchedule(ctx context.Context, req api.CreateReportScheduleRequestObject) (api.CreateReportScheduleResponseObject, error) {
	b := req.Body
	s, err := h.svc.CreateSchedule(ctx, authz.PrincipalFrom(ctx), scheduleInput(&b.Name, &b.Kind, b.Scope, b.Parameters,
		&b.Cron, &b.Timezone, b.Format, b.ChannelIds, b.Enabled))
	if err != nil {
		return nil, err
	}
	return api.CreateReportSchedule201JSONResponse(toAPISchedule(s)), nil
}

// UpdateReportSchedule implements PATCH /reports/schedules/{id} (report:schedule).
func (h *Handlers) UpdateReportSchedule(ctx context.Context, req api.UpdateReportScheduleRequestObject) (api.UpdateReportScheduleResponseObject, error) {
	b := req.Body
	s, err := h.svc.UpdateSchedule(ctx, authz.PrincipalFrom(ctx), req.Id, scheduleInput(b.Name, b.Kind, b.Scope, b.Parameters,
		b.Cron, b.Timezone, b.Format, b.ChannelIds, b.Enabled))
	if err != nil {
		return nil, err
	}
	return api.UpdateReportSchedule200JSONResponse(toAPISchedule(s)), nil
}

// DeleteReportSchedule implements DELETE /reports/schedules/{id} (report:schedule).
func (h *Handlers) DeleteReportSchedule(ctx context.Context, req api.DeleteReportScheduleRequestObject) (api.DeleteReportScheduleResponseObject, error) {
	if err := h.svc.DeleteSchedule(ctx, authz.PrincipalFrom(ctx), req.Id); err != nil {
		return nil, err
	}
	return api.DeleteReportSchedule204Response{}, nil
}
