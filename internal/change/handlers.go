package change

import (
	"context"

	"github.com/google/uuid"

	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/scan"
)

// Handlers implements the patch-job, remediation-request and change-settings operations.
type Handlers struct {
	svc *Service
}

// NewHandlers returns the handlers.
func NewHandlers(svc *Service) *Handlers { return &Handlers{svc: svc} }

func (h *Handlers) list(ctx context.Context, kind string, status *api.ChangeJobStatus, c *string, limit *int, l cursor.Limits) (api.ChangeJobPage, error) {
	var st *string
	if status != nil {
		s := string(*status)
		st = &s
	}
	page, err := cursor.Serve(ctx, cursor.JSON[uuid.UUID]{}, c, limit, l,
		func(ctx context.Context, r cursor.Request[uuid.UUID]) (cursor.Page[Job], error) {
			return h.svc.List(ctx, kind, st, r)
		}, toAPIJob)
	if err != nil {
		return api.ChangeJobPage{}, err
	}
	return api.ChangeJobPage{Items: page.Items, NextCursor: page.Next}, nil
}

func (h *Handlers) hosts(ctx context.Context, kind string, id uuid.UUID) (api.ChangeJobHostList, error) {
	rows, err := h.svc.Hosts(ctx, kind, id)
	if err != nil {
		return api.ChangeJobHostList{}, err
	}
	out := api.ChangeJobHostList{Items: make([]api.ChangeJobHost, len(rows))}
	for i, r := range rows {
		out.Items[i] = toAPIHost(r)
	}
	return out, nil
}

func (h *Handlers) steps(ctx context.Context, kind string, id uuid.UUID, hostID *uuid.UUID, phase *api.ChangePhase, c *string, limit *int, l cursor.Limits) (api.ChangeStepPage, error) {
	f := StepFilter{HostID: hostID}
	if phase != nil {
		p := string(*phase)
		f.Phase = &p
	}
	page, err := cursor.Serve(ctx, cursor.JSON[uuid.UUID]{}, c, limit, l,
		func(ctx context.Context, r cursor.Request[uuid.UUID]) (cursor.Page[dbq.ChangeStep], error) {
			return h.svc.Steps(ctx, kind, id, f, r)
		}, toAPIStep)
	if err != nil {
		return api.ChangeStepPage{}, err
	}
	return api.ChangeStepPage{Items: page.Items, NextCursor: page.Next}, nil
}

// selector turns the target fields of a create body into a scan.Selector.
func selector(ids *[]uuid.UUID, group *uuid.UUID, f *api.ScanBatchFilter, all *bool) scan.Selector {
	sel := scan.Selector{GroupID: group, All: all}
	if ids != nil {
		sel.HostIDs = *ids
	}
	if f != nil {
		sel.Filter = &scan.HostFilter{Environment: f.Environment, Tag: f.Tag, GroupID: f.GroupId, Q: f.Q}
	}
	return sel
}

func common(r *Request, name *string, w *api.ChangeWaves, b *api.ChangeFailureBudget, checks *[]uuid.UUID, reboot *api.RebootPolicy,
	ignore *bool, override, reason *string) {
	r.Name, r.HealthCheckIDs, r.OverrideReason, r.Reason = deref(name), uuids(checks), deref(override), deref(reason)
	if w != nil {
		r.Canary, r.Growth = derefInt(w.Canary), derefInt(w.Growth)
		r.CanaryPercent = int32Ptr(w.CanaryPercent)
	}
	if b != nil {
		r.MaxFailures, r.MaxFailurePercent = int32Ptr(b.MaxFailures), int32Ptr(b.MaxFailurePercent)
	}
	if reboot != nil {
		r.Reboot = string(*reboot)
	}
	r.IgnoreWindows = ignore != nil && *ignore
}

func derefInt(v *int) int {
	if v == nil {
		return 0
	}
	return *v
}

func int32Ptr(v *int) *int32 {
	if v == nil {
		return nil
	}
	i := int32(*v)
	return &i
}

func note(n *api.ChangeNote) string {
	if n == nil {
		return ""
	}
	return deref(n.Reason)
}

// ListPatchJobs implements GET /jobs (patch:read).
func (h *Handlers) ListPatchJobs(ctx context.Context, req api.ListPatchJobsRequestObject) (api.ListPatchJobsResponseObject, error) {
	p, err := h.list(ctx, KindPatch, req.Params.Status, req.Params.Cursor, req.Params.Limit, cursor.Limits(api.ListPatchJobsPageLimit()))
	if err != nil {
		return nil, err
	}
	return api.ListPatchJobs200JSONResponse(p), nil
}

// CreatePatchJob implements POST /jobs (patch:request).
func (h *Handlers) CreatePatchJob(ctx context.Context, req api.CreatePatchJobRequestObject) (api.CreatePatchJobResponseObject, error) {
	b := req.Body
	if err := validatePatch(b.Patch); err != nil {
		return nil, err
	}
	r := Request{Kind: KindPatch, Selector: selector(b.HostIds, b.GroupId, b.Filter, b.All), Spec: b.Patch}
	common(&r, b.Name, b.Waves, b.FailureBudget, b.HealthCheckIds, b.Reboot, b.IgnoreWindows, b.OverrideReason, b.Reason)
	j, err := h.svc.Create(ctx, authz.PrincipalFrom(ctx), r)
	if err != nil {
		return nil, err
	}
	return api.CreatePatchJob201JSONResponse(toAPIJob(j)), nil
}

// validatePatch checks what the schema cannot: packages go with mode packages.
func validatePatch(p api.PatchSpec) error {
	n := 0
	if p.Packages != nil {
		n = len(*p.Packages)
	}
	switch {
	case p.Mode == api.Packages && n == 0:
		return apperr.Invalid("patch.packages", "Name at least one package operation for mode packages.")
	case p.Mode != api.Packages && n > 0:
		return apperr.Invalid("patch.packages", "Packages go with mode packages.")
	}
	return nil
}

// GetPatchJob implements GET /jobs/{id} (patch:read).
func (h *Handlers) GetPatchJob(ctx context.Context, req api.GetPatchJobRequestObject) (api.GetPatchJobResponseObject, error) {
	j, err := h.svc.Get(ctx, KindPatch, req.Id)
	if err != nil {
		return nil, err
	}
	return api.GetPatchJob200JSONResponse(toAPIJob(j)), nil
}

// ListPatchJobHosts implements GET /jobs/{id}/hosts (patch:read).
func (h *Handlers) ListPatchJobHosts(ctx context.Context, req api.ListPatchJobHostsRequestObject) (api.ListPatchJobHostsResponseObject, error) {
	l, err := h.hosts(ctx, KindPatch, req.Id)
	if err != nil {
		return nil, err
	}
	return api.ListPatchJobHosts200JSONResponse(l), nil
}

// ListPatchJobSteps implements GET /jobs/{id}/steps (patch:read).
func (h *Handlers) ListPatchJobSteps(ctx context.Context, req api.ListPatchJobStepsRequestObject) (api.ListPatchJobStepsResponseObject, error) {
	p := req.Params
	page, err := h.steps(ctx, KindPatch, req.Id, p.HostId, p.Phase, p.Cursor, p.Limit, cursor.Limits(api.ListPatchJobStepsPageLimit()))
	if err != nil {
		return nil, err
	}
	return api.ListPatchJobSteps200JSONResponse(page), nil
}

// ApprovePatchJob implements POST /jobs/{id}:approve (patch:approve).
func (h *Handlers) ApprovePatchJob(ctx context.Context, req api.ApprovePatchJobRequestObject) (api.ApprovePatchJobResponseObject, error) {
	j, err := h.svc.Decide(ctx, authz.PrincipalFrom(ctx), KindPatch, req.Id, true, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return api.ApprovePatchJob200JSONResponse(toAPIJob(j)), nil
}

// RejectPatchJob implements POST /jobs/{id}:reject (patch:approve).
func (h *Handlers) RejectPatchJob(ctx context.Context, req api.RejectPatchJobRequestObject) (api.RejectPatchJobResponseObject, error) {
	j, err := h.svc.Decide(ctx, authz.PrincipalFrom(ctx), KindPatch, req.Id, false, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return api.RejectPatchJob200JSONResponse(toAPIJob(j)), nil
}

// CancelPatchJob implements POST /jobs/{id}:cancel (patch:execute).
func (h *Handlers) CancelPatchJob(ctx context.Context, req api.CancelPatchJobRequestObject) (api.CancelPatchJobResponseObject, error) {
	j, err := h.svc.Cancel(ctx, authz.PrincipalFrom(ctx), KindPatch, req.Id, note(req.Body))
	if err != nil {
		return nil, err
	}
	return api.CancelPatchJob200JSONResponse(toAPIJob(j)), nil
}

// ResumePatchJob implements POST /jobs/{id}:resume (patch:execute).
func (h *Handlers) ResumePatchJob(ctx context.Context, req api.ResumePatchJobRequestObject) (api.ResumePatchJobResponseObject, error) {
	j, err := h.svc.Resume(ctx, authz.PrincipalFrom(ctx), KindPatch, req.Id, note(req.Body))
	if err != nil {
		return nil, err
	}
	return api.ResumePatchJob200JSONResponse(toAPIJob(j)), nil
}

// RollbackPatchJob implements POST /jobs/{id}:rollback (patch:rollback).
func (h *Handlers) RollbackPatchJob(ctx context.Context, req api.RollbackPatchJobRequestObject) (api.RollbackPatchJobResponseObject, error) {
	j, err := h.svc.Rollback(ctx, authz.PrincipalFrom(ctx), KindPatch, req.Id, note(req.Body))
	if err != nil {
		return nil, err
	}
	return api.RollbackPatchJob202JSONResponse(toAPIJob(j)), nil
}

// ListRemediationRequests implements GET /remediation/requests (remediation:read).
func (h *Handlers) ListRemediationRequests(ctx context.Context, req api.ListRemediationRequestsRequestObject) (api.ListRemediationRequestsResponseObject, error) {
	p, err := h.list(ctx, KindRemediation, req.Params.Status, req.Params.Cursor, req.Params.Limit, cursor.Limits(api.ListRemediationRequestsPageLimit()))
	if err != nil {
		return nil, err
	}
	return api.ListRemediationRequests200JSONResponse(p), nil
}

// CreateRemediationRequest implements POST /remediation/requests (remediation:request).
func (h *Handlers) CreateRemediationRequest(ctx context.Context, req api.CreateRemediationRequestRequestObject) (api.CreateRemediationRequestResponseObject, error) {
	b := req.Body
	r := Request{Kind: KindRemediation, Selector: selector(b.HostIds, b.GroupId, b.Filter, b.All), RuleIDs: b.RuleIds,
		Spec: map[string]any{"rule_ids": b.RuleIds}}
	common(&r, b.Name, b.Waves, b.FailureBudget, b.HealthCheckIds, b.Reboot, b.IgnoreWindows, b.OverrideReason, b.Reason)
	plan, err := h.svc.rulePlan(ctx, b.RuleIds)
	if err != nil {
		return nil, err
	}
	r.Plan = plan
	j, err := h.svc.Create(ctx, authz.PrincipalFrom(ctx), r)
	if err != nil {
		return nil, err
	}
	return api.CreateRemediationRequest201JSONResponse(toAPIJob(j)), nil
}

// GetRemediationRequest implements GET /remediation/requests/{rid} (remediation:read).
func (h *Handlers) GetRemediationRequest(ctx context.Context, req api.GetRemediationRequestRequestObject) (api.GetRemediationRequestResponseObject, error) {
	j, err := h.svc.Get(ctx, KindRemediation, req.Rid)
	if err != nil {
		return nil, err
	}
	return api.GetRemediationRequest200JSONResponse(toAPIJob(j)), nil
}

// ListRemediationRequestHosts implements GET /remediation/requests/{rid}/hosts (remediation:read).
func (h *Handlers) ListRemediationRequestHosts(ctx context.Context, req api.ListRemediationRequestHostsRequestObject) (api.ListRemediationRequestHostsResponseObject, error) {
	l, err := h.hosts(ctx, KindRemediation, req.Rid)
	if err != nil {
		return nil, err
	}
	return api.ListRemediationRequestHosts200JSONResponse(l), nil
}

// ListRemediationRequestSteps implements GET /remediation/requests/{rid}/steps (remediation:read).
func (h *Handlers) ListRemediationRequestSteps(ctx context.Context, req api.ListRemediationRequestStepsRequestObject) (api.ListRemediationRequestStepsResponseObject, error) {
	p := req.Params
	page, err := h.steps(ctx, KindRemediation, req.Rid, p.HostId, p.Phase, p.Cursor, p.Limit, cursor.Limits(api.ListRemediationRequestStepsPageLimit()))
	if err != nil {
		return nil, err
	}
	return api.ListRemediationRequestSteps200JSONResponse(page), nil
}

// GetRemediationPlan implements GET /remediation/requests/{rid}/plan (remediation:read).
func (h *Handlers) GetRemediationPlan(ctx context.Context, req api.GetRemediationPlanRequestObject) (api.GetRemediationPlanResponseObject, error) {
	plan, err := h.svc.Plan(ctx, req.Rid)
	if err != nil {
		return nil, err
	}
	return api.GetRemediationPlan200JSONResponse(plan), nil
}

// ApproveRemediationRequest implements POST /remediation/requests/{rid}:approve (remediation:approve).
func (h *Handlers) ApproveRemediationRequest(ctx context.Context, req api.ApproveRemediationRequestRequestObject) (api.ApproveRemediationRequestResponseObject, error) {
	j, err := h.svc.Decide(ctx, authz.PrincipalFrom(ctx), KindRemediation, req.Rid, true, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return api.ApproveRemediationRequest200JSONResponse(toAPIJob(j)), nil
}

// RejectRemediationRequest implements POST /remediation/requests/{rid}:reject (remediation:approve).
func (h *Handlers) RejectRemediationRequest(ctx context.Context, req api.RejectRemediationRequestRequestObject) (api.RejectRemediationRequestResponseObject, error) {
	j, err := h.svc.Decide(ctx, authz.PrincipalFrom(ctx), KindRemediation, req.Rid, false, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return api.RejectRemediationRequest200JSONResponse(toAPIJob(j)), nil
}

// DryRunRemediationRequest implements POST /remediation/requests/{rid}:dry-run (remediation:execute).
func (h *Handlers) DryRunRemediationRequest(ctx context.Context, req api.DryRunRemediationRequestRequestObject) (api.DryRunRemediationRequestResponseObject, error) {
	j, err := h.svc.DryRun(ctx, authz.PrincipalFrom(ctx), KindRemediation, req.Rid)
	if err != nil {
		return nil, err
	}
	return api.DryRunRemediationRequest202JSONResponse(toAPIJob(j)), nil
}

// ExecuteRemediationRequest implements POST /remediation/requests/{rid}:execute (remediation:execute).
func (h *Handlers) ExecuteRemediationRequest(ctx context.Context, req api.ExecuteRemediationRequestRequestObject) (api.ExecuteRemediationRequestResponseObject, error) {
	j, err := h.svc.Execute(ctx, authz.PrincipalFrom(ctx), KindRemediation, req.Rid)
	if err != nil {
		return nil, err
	}
	return api.ExecuteRemediationRequest202JSONResponse(toAPIJob(j)), nil
}

// CancelRemediationRequest implements POST /remediation/requests/{rid}:cancel (remediation:execute).
func (h *Handlers) CancelRemediationRequest(ctx context.Context, req api.CancelRemediationRequestRequestObject) (api.CancelRemediationRequestResponseObject, error) {
	j, err := h.svc.Cancel(ctx, authz.PrincipalFrom(ctx), KindRemediation, req.Rid, note(req.Body))
	if err != nil {
		return nil, err
	}
	return api.CancelRemediationRequest200JSONResponse(toAPIJob(j)), nil
}

// ResumeRemediationRequest implements POST /remediation/requests/{rid}:resume (remediation:execute).
func (h *Handlers) ResumeRemediationRequest(ctx context.Context, req api.ResumeRemediationRequestRequestObject) (api.ResumeRemediationRequestResponseObject, error) {
	j, err := h.svc.Resume(ctx, authz.PrincipalFrom(ctx), KindRemediation, req.Rid, note(req.Body))
	if err != nil {
		return nil, err
	}
	return api.ResumeRemediationRequest200JSONResponse(toAPIJob(j)), nil
}

// RollbackRemediationRequest implements POST /remediation/requests/{rid}:rollback (remediation:rollback).
func (h *Handlers) RollbackRemediationRequest(ctx context.Context, req api.RollbackRemediationRequestRequestObject) (api.RollbackRemediationRequestResponseObject, error) {
	j, err := h.svc.Rollback(ctx, authz.PrincipalFrom(ctx), KindRemediation, req.Rid, note(req.Body))
	if err != nil {
		return nil, err
	}
	return api.RollbackRemediationRequest202JSONResponse(toAPIJob(j)), nil
}

// GetChangeSettings implements GET /system/changes/config (system:read).
func (h *Handlers) GetChangeSettings(ctx context.Context, _ api.GetChangeSettingsRequestObject) (api.GetChangeSettingsResponseObject, error) {
	st, err := h.svc.Settings(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetChangeSettings200JSONResponse(toAPISettings(st)), nil
}

// UpdateChangeSettings implements PUT /system/changes/config (system:config:write).
func (h *Handlers) UpdateChangeSettings(ctx context.Context, req api.UpdateChangeSettingsRequestObject) (api.UpdateChangeSettingsResponseObject, error) {
	st, err := h.svc.UpdateSettings(ctx, authz.PrincipalFrom(ctx), req.Body.ApprovalEnvironments, req.Body.RemediationRequiresApproval)
	if err != nil {
		return nil, err
	}
	return api.UpdateChangeSettings200JSONResponse(toAPISettings(st)), nil
}

// GetVulnerabilityPatchPlan implements GET /vulnerabilities/{vulnerability_id}/patch-plan
// (vulnerability:read).
func (h *Handlers) GetVulnerabilityPatchPlan(ctx context.Context, req api.GetVulnerabilityPatchPlanRequestObject) (api.GetVulnerabilityPatchPlanResponseObject, error) {
	p, err := h.svc.AdvisoryPlan(ctx, req.VulnerabilityId)
	if err != nil {
		return nil, err
	}
	out := api.VulnerabilityPatchPlan{VulnerabilityId: p.Name, AdvisoryIds: p.AdvisoryIDs, Packages: p.Packages,
		Hosts: toAPIAdvisoryHosts(p.Hosts), Excluded: toAPIAdvisoryHosts(p.Excluded)}
	return api.GetVulnerabilityPatchPlan200JSONResponse(out), nil
}

// CreateVulnerabilityPatchJob implements POST /vulnerabilities/{vulnerability_id}:patch
// (patch:request; the service checks vulnerability:read).
func (h *Handlers) CreateVulnerabilityPatchJob(ctx context.Context, req api.CreateVulnerabilityPatchJobRequestObject) (api.CreateVulnerabilityPatchJobResponseObject, error) {
	b := req.Body
	var r Request
	common(&r, b.Name, b.Waves, b.FailureBudget, b.HealthCheckIds, b.Reboot, b.IgnoreWindows, b.OverrideReason, b.Reason)
	j, err := h.svc.CreateFromAdvisory(ctx, authz.PrincipalFrom(ctx), req.VulnerabilityId, AdvisoryJob{Name: r.Name,
		Canary: r.Canary, CanaryPercent: r.CanaryPercent, Growth: r.Growth, MaxFailures: r.MaxFailures,
		MaxFailurePercent: r.MaxFailurePercent, HealthCheckIDs: r.HealthCheckIDs, Reboot: r.Reboot, IgnoreWindows: r.IgnoreWindows,
		OverrideReason: r.OverrideReason, Reason: r.Reason})
	if err != nil {
		return nil, err
	}
	return api.CreateVulnerabilityPatchJob201JSONResponse(toAPIJob(j)), nil
}
