package scan

import (
	"context"
	"strings"

	"github.com/google/uuid"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/rule"
)

// Handlers implements the scan, rule and framework operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

// StartHostScan implements POST /hosts/{id}/scans (scan:execute).
func (h *Handlers) StartHostScan(ctx context.Context, req api.StartHostScanRequestObject) (api.StartHostScanResponseObject, error) {
	r := Request{HostID: req.Id}
	if b := req.Body; b != nil {
		r.Framework = deref(b.Framework)
		if b.RuleIds != nil {
			r.RuleIDs = *b.RuleIds
		}
	}
	row, err := h.svc.Request(ctx, r)
	if err != nil {
		return nil, err
	}
	return api.StartHostScan202JSONResponse(toScan(row)), nil
}

// ListScans implements GET /scans (scan:read).
func (h *Handlers) ListScans(ctx context.Context, req api.ListScansRequestObject) (api.ListScansResponseObject, error) {
	p := req.Params
	f := ListFilter{HostID: p.HostId, BatchID: p.BatchId, Since: p.Since}
	if p.Status != nil {
		st := string(*p.Status)
		f.Status = &st
	}
	page, err := cursor.Serve(ctx, cursor.JSON[uuid.UUID]{}, p.Cursor, p.Limit, cursor.Limits(api.ListScansPageLimit()),
		func(ctx context.Context, r cursor.Request[uuid.UUID]) (cursor.Page[scanRow], error) {
			return h.svc.List(ctx, f, r)
		}, toScan)
	if err != nil {
		return nil, err
	}
	return api.ListScans200JSONResponse{Items: page.Items, NextCursor: page.Next}, nil
}

// GetScan implements GET /scans/{id} (scan:read).
func (h *Handlers) GetScan(ctx context.Context, req api.GetScanRequestObject) (api.GetScanResponseObject, error) {
	row, err := h.svc.Get(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetScan200JSONResponse(toScan(row)), nil
}

// CancelScan implements POST /scans/{id}:cancel (scan:cancel).
func (h *Handlers) CancelScan(ctx context.Context, req api.CancelScanRequestObject) (api.CancelScanResponseObject, error) {
	row, err := h.svc.Cancel(ctx, req.Id)
	if err != nil {
		return nil, err
	}
	return api.CancelScan200JSONResponse(toScan(row)), nil
}

// ListScanResults implements GET /scans/{id}/results (scan:read).
func (h *Handlers) ListScanResults(ctx context.Context, req api.ListScanResultsRequestObject) (api.ListScanResultsResponseObject, error) {
	p := req.Params
	f := ResultFilter{Framework: deref(p.Framework)}
	if p.Status != nil {
		f.Status = string(*p.Status)
	}
	if p.Severity != nil {
		f.Severity = string(*p.Severity)
	}
	page, err := cursor.Serve(ctx, cursor.JSON[string]{}, p.Cursor, p.Limit, cursor.Limits(api.ListScanResultsPageLimit()),
		func(ctx context.Context, r cursor.Request[string]) (cursor.Page[Result], error) {
			return h.svc.Results(ctx, req.Id, f, r)
		}, toResult)
	if err != nil {
		return nil, err
	}
	return api.ListScanResults200JSONResponse{Items: page.Items, NextCursor: page.Next}, nil
}

// GetScanRuleEvidence implements GET /scans/{id}/rules/{ruleId}/evidence (scan:read).
func (h *Handlers) GetScanRuleEvidence(ctx context.Context, req api.GetScanRuleEvidenceRequestObject) (api.GetScanRuleEvidenceResponseObject, error) {
	ev, err := h.svc.RuleEvidence(ctx, req.Id, req.RuleId)
	if err != nil {
		return nil, err
	}
	return api.GetScanRuleEvidence200JSONResponse{
		ScanId: ev.Scan.ID, HostId: ev.Scan.HostID, RuleId: ev.Result.RuleID, Status: api.ResultStatus(ev.Result.Status),
		Reason: ev.Result.Reason, Severity: api.RuleSeverity(ev.Result.Severity), RecordedAt: ev.Result.ChangedAt,
		Evidence: toEvidence(ev.Evidence),
	}, nil
}

// ListRules implements GET /rules (scan:read).
func (h *Handlers) ListRules(ctx context.Context, req api.ListRulesRequestObject) (api.ListRulesResponseObject, error) {
	p := req.Params
	f := RuleFilter{Framework: deref(p.Framework), Query: deref(p.Q)}
	if p.Severity != nil {
		f.Severity = string(*p.Severity)
	}
	if p.Category != nil {
		f.Category = string(*p.Category)
	}
	if p.Platform != nil {
		family, version, _ := strings.Cut(*p.Platform, "-")
		f.Family, f.Version = family, rule.Version(version)
	}
	page, err := cursor.Serve(ctx, cursor.JSON[string]{}, p.Cursor, p.Limit, cursor.Limits(api.ListRulesPageLimit()),
		func(ctx context.Context, r cursor.Request[string]) (cursor.Page[*rule.Rule], error) {
			return h.svc.Rules(ctx, f, r)
		}, toRuleSummary)
	if err != nil {
		return nil, err
	}
	return api.ListRules200JSONResponse{Items: page.Items, NextCursor: page.Next}, nil
}

// GetRule implements GET /rules/{ruleId} (scan:read).
func (h *Handlers) GetRule(ctx context.Context, req api.GetRuleRequestObject) (api.GetRuleResponseObject, error) {
	r, ok := h.svc.cat.Rule(req.RuleId)
	if !ok {
		return nil, apperr.NotFound("The rule does not exist.")
	}
	values, err := h.svc.VariableValues(ctx, r)
	if err != nil {
		return nil, err
	}
	d, err := toRuleDetail(r, values)
	if err != nil {
		return nil, err
	}
	return api.GetRule200JSONResponse(d), nil
}

// ListComplianceFrameworks implements GET /compliance/frameworks (host:read).
func (h *Handlers) ListComplianceFrameworks(context.Context, api.ListComplianceFrameworksRequestObject) (api.ListComplianceFrameworksResponseObject, error) {
	out := api.ListComplianceFrameworks200JSONResponse{Items: []api.Framework{}}
	for _, f := range h.svc.cat.Frameworks() {
		out.Items = append(out.Items, toFramework(f))
	}
	return out, nil
}

// GetScanVariables implements GET /system/scan/variables (system:read).
func (h *Handlers) GetScanVariables(ctx context.Context, _ api.GetScanVariablesRequestObject) (api.GetScanVariablesResponseObject, error) {
	vars, err := h.svc.Variables(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetScanVariables200JSONResponse(toVariables(vars)), nil
}

// SetScanVariables implements PUT /system/scan/variables (system:config:write).
func (h *Handlers) SetScanVariables(ctx context.Context, req api.SetScanVariablesRequestObject) (api.SetScanVariablesResponseObject, error) {
	vars, err := h.svc.SetVariables(ctx, req.Body.Values)
	if err != nil {
		return nil, err
	}
	return api.SetScanVariables200JSONResponse(toVariables(vars)), nil
}

func fleetLimit(l *int) int32 {
	if l == nil {
		return 10
	}
	return int32(*l)
}

// GetFleetScore implements GET /fleet/score (system:read).
func (h *Handlers) GetFleetScore(ctx context.Context, req api.GetFleetScoreRequestObject) (api.GetFleetScoreResponseObject, error) {
	t, err := h.svc.FleetTotals(ctx, req.Params.Framework, req.Params.AsOf)
	if err != nil {
		return nil, err
	}
	return api.GetFleetScore200JSONResponse{PassingFraction: t.PassingFraction(), TotalEvaluations: t.Pass + t.Fail + t.Skipped + t.Error + t.Excepted}, nil
}

// GetFleetTopFailingRules implements GET /fleet/top-failing-rules (system:read).
func (h *Handlers) GetFleetTopFailingRules(ctx context.Context, req api.GetFleetTopFailingRulesRequestObject) (api.GetFleetTopFailingRulesResponseObject, error) {
	rows, err := h.svc.TopFailingRules(ctx, req.Params.Framework, fleetLimit(req.Params.Limit), req.Params.AsOf)
	if err != nil {
		return nil, err
	}
	out := api.GetFleetTopFailingRules200JSONResponse{Items: make([]api.FleetRuleFailure, len(rows))}
	for i, r := range rows {
		out.Items[i] = api.FleetRuleFailure{RuleId: r.RuleID, FailingHostCount: r.Hosts}
	}
	return out, nil
}

// GetFleetTopFailingHosts implements GET /fleet/top-failing-hosts (system:read).
func (h *Handlers) GetFleetTopFailingHosts(ctx context.Context, req api.GetFleetTopFailingHostsRequestObject) (api.GetFleetTopFailingHostsResponseObject, error) {
	rows, err := h.svc.TopFailingHosts(ctx, req.Params.Framework, fleetLimit(req.Params.Limit), req.Params.AsOf)
	if err != nil {
		return nil, err
	}
	out := api.GetFleetTopFailingHosts200JSONResponse{Items: make([]api.FleetHostFailure, len(rows))}
	for i, r := range rows {
		out.Items[i] = api.FleetHostFailure{HostId: r.HostID, FailingRuleCount: r.Rules}
	}
	return out, nil
}

// GetFleetRecentChanges implements GET /fleet/recent-changes (system:read).
func (h *Handlers) GetFleetRecentChanges(ctx context.Context, req api.GetFleetRecentChangesRequestObject) (api.GetFleetRecentChangesResponseObject, error) {
	rows, err := h.svc.RecentChanges(ctx, req.Params.Framework, req.Params.Since, req.Params.AsOf, fleetLimit(req.Params.Limit))
	if err != nil {
		return nil, err
	}
	out := api.GetFleetRecentChanges200JSONResponse{Items: make([]api.FleetTransaction, len(rows))}
	for i, r := range rows {
		sev := r.Severity
		out.Items[i] = api.FleetTransaction{Id: r.ID, HostId: r.HostID, RuleId: r.RuleID, Status: api.ResultStatus(r.Status),
			Severity: &sev, ChangeKind: api.FleetTransactionChangeKind(r.ChangeKind), OccurredAt: r.OccurredAt}
	}
	return out, nil
}
