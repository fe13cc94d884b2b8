package change

import (
	"encoding/json"

	"github.com/google/uuid"

	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
)

func toAPIJob(j Job) api.ChangeJob {
	out := api.ChangeJob{Id: j.ID, Kind: api.ChangeJobKind(j.Kind), Name: j.Name, Status: api.ChangeJobStatus(j.Status),
		Reason: j.Reason, HostNames: j.HostNames, HostCount: len(j.HostNames), HealthCheckIds: j.HealthCheckIds,
		Reboot: api.RebootPolicy(j.Reboot), IgnoreWindows: j.IgnoreWindows, OverrideReason: j.OverrideReason,
		ApprovalRequired: j.ApprovalRequired, RequestedBy: api.ChangePerson{Id: j.RequestedBy, Name: j.RequestedByName},
		DecidedAt: j.DecidedAt, DecisionReason: j.DecisionReason, HaltReason: j.HaltReason, DryRunAt: j.DryRunAt,
		CreatedAt: j.CreatedAt, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt}
	if j.DecidedByName != nil {
		out.DecidedBy = &api.ChangePerson{Id: j.DecidedBy, Name: *j.DecidedByName}
	}
	c := j.Counts
	out.Counts = api.ChangeHostCounts{Pending: c[HostPending], Queued: c[HostQueued], WaitingWindow: c[HostWaitingWindow],
		Running: c[HostRunning], Succeeded: c[HostSucceeded], Failed: c[HostFailed], RolledBack: c[HostRolledBack],
		RollbackFailed: c[HostRollbackFailed], Cancelled: c[HostCancelled], Skipped: c[HostSkipped]}
	out.Waves.Canary, out.Waves.Growth, out.Waves.Current = int(j.Canary), int(j.Growth), int(j.CurrentWave)
	out.Waves.CanaryPercent = intPtr(j.CanaryPercent)
	out.Waves.Sizes = j.WaveSizes
	if out.Waves.Sizes == nil {
		out.Waves.Sizes = []int{}
	}
	out.FailureBudget.Budget, out.FailureBudget.Failures = j.Budget, j.Failures
	out.FailureBudget.MaxFailures, out.FailureBudget.MaxFailurePercent = intPtr(j.MaxFailures), intPtr(j.MaxFailurePercent)
	var sel map[string]any
	if json.Unmarshal(j.Selector, &sel) == nil {
		out.Selector = &sel
	}
	switch j.Kind {
	case KindPatch:
		var p api.PatchSpec
		if json.Unmarshal(j.Spec, &p) == nil {
			out.Patch = &p
		}
	case KindRemediation:
		var r struct {
			RuleIDs []string `json:"rule_ids"`
		}
		if json.Unmarshal(j.Spec, &r) == nil {
			out.RuleIds = &r.RuleIDs
		}
	}
	return out
}

func intPtr(v *int32) *int {
	if v == nil {
		return nil
	}
	i := int(*v)
	return &i
}

func toAPIHost(h dbq.ChangeJobHost) api.ChangeJobHost {
	out := api.ChangeJobHost{HostId: h.HostID, HostName: h.HostName, Environment: h.Environment, Wave: int(h.Wave),
		Position: int(h.Position), Status: api.ChangeHostStatus(h.Status), RuleIds: nonNilS(h.RuleIds), Applied: int(h.Applied),
		Error: h.Error, NextWindowAt: h.NextWindowAt, ScanId: h.ScanID, RollbackScanId: h.RollbackScanID,
		Sessions: int(h.Sessions), Rebooted: h.Rebooted, StartedAt: h.StartedAt, FinishedAt: h.FinishedAt,
		RolledBackAt: h.RolledBackAt, Actions: []api.ChangeActionSummary{}, Manual: []api.ChangeManual{}}
	if h.Phase != nil {
		p := api.ChangeJobHostPhase(*h.Phase)
		out.Phase = &p
	}
	var actions []Action
	if json.Unmarshal(h.Actions, &actions) == nil {
		for _, a := range actions {
			out.Actions = append(out.Actions, summaryOf(a))
		}
	}
	var manual []Manual
	if json.Unmarshal(h.Manual, &manual) == nil {
		for _, m := range manual {
			out.Manual = append(out.Manual, api.ChangeManual{RuleId: m.RuleID, Mechanism: m.Mechanism, Guidance: m.Guidance})
		}
	}
	return out
}

// summaryOf is an action as the API shows it: what, where, not the scripts.
func summaryOf(a Action) api.ChangeActionSummary {
	s := api.ChangeActionSummary{Kind: a.Kind, Summary: a.Summary, Target: a.Target}
	if a.RuleID != "" {
		r := a.RuleID
		s.RuleId = &r
	}
	if a.Reboot {
		b := true
		s.Reboot = &b
	}
	return s
}

func toAPIStep(st dbq.ChangeStep) api.ChangeStep {
	var exit *int
	if st.ExitCode != nil {
		e := int(*st.ExitCode)
		exit = &e
	}
	return api.ChangeStep{Id: st.ID, HostId: st.HostID, Seq: int(st.Seq), Phase: api.ChangePhase(st.Phase), Name: st.Name,
		Command: st.Command, Stdout: st.Stdout, Stderr: st.Stderr, ExitCode: exit, Ok: st.Ok, Truncated: st.Truncated,
		StartedAt: st.StartedAt, FinishedAt: st.FinishedAt}
}

func toAPISettings(st dbq.ChangeSetting) api.ChangeSettings {
	return api.ChangeSettings{ApprovalEnvironments: nonNilS(st.ApprovalEnvironments),
		RemediationRequiresApproval: st.RemediationRequiresApproval, UpdatedAt: st.UpdatedAt, UpdatedBy: st.UpdatedBy}
}

func uuids(ids *[]uuid.UUID) []uuid.UUID {
	if ids == nil {
		return nil
	}
	return *ids
}

// unmarshalLoose decodes stored JSON, leaving v as it was when the JSON does not fit (a
// job created before a field existed).
func unmarshalLoose(b []byte, v any) error { return json.Unmarshal(b, v) }

func toAPIAdvisoryHosts(hosts []AdvisoryHost) []api.VulnerabilityPatchHost {
	out := make([]api.VulnerabilityPatchHost, len(hosts))
	for i, h := range hosts {
		out[i] = api.VulnerabilityPatchHost{HostId: h.ID, Hostname: h.Name, Packages: make([]api.VulnerabilityPatchPackage, len(h.Packages))}
		if h.Reason != "" {
			reason := api.VulnerabilityPatchHostReason(h.Reason)
			out[i].Reason = &reason
		}
		for k, p := range h.Packages {
			out[i].Packages[k] = api.VulnerabilityPatchPackage{AdvisoryId: p.AdvisoryID, Package: p.Package, Binaries: p.Binaries,
				InstalledVersion: p.InstalledVersion, FixedVersion: p.FixedVersion}
		}
	}
	return out
}
