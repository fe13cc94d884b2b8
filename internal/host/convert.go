package host

import (
	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
)

// Response renders h as the API's HostResponse, for handlers of other domains that return
// a host (such as registering a discovered one).
func Response(h Host) api.HostResponse { return toAPI(h) }

func toAPI(h Host) api.HostResponse {
	prio := int(h.CheckPriority)
	return api.HostResponse{
		Id: h.ID, Hostname: h.Hostname, IpAddress: h.IpAddress.String(), Port: int(h.Port),
		DisplayName: &h.DisplayName, Description: &h.Description, Environment: h.Environment, Tags: &h.Tags,
		GroupId: h.GroupID, Username: &h.Username, CreatedBy: &h.CreatedBy, CreatedAt: &h.CreatedAt, UpdatedAt: &h.UpdatedAt,
		MaintenanceMode: &h.EffectiveMaintenance, CheckPriority: &prio, OsFamily: h.OsFamily, OsVersion: h.OsVersion,
		Architecture: h.Architecture, PlatformIdentifier: h.PlatformIdentifier, OsDiscoveredAt: h.OsDiscoveredAt,
	}
}

// listItem renders a row of the host list; compliance_summary is left out until the
// host's first scan.
func listItem(row dbq.HostListRow) api.HostListItem {
	h := row.LiveHost
	r := toAPI(h)
	item := api.HostListItem{
		Id: r.Id, Hostname: r.Hostname, IpAddress: r.IpAddress, Port: r.Port, DisplayName: r.DisplayName,
		Description: r.Description, Environment: r.Environment, Tags: r.Tags, GroupId: r.GroupId, Username: r.Username,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, MaintenanceMode: r.MaintenanceMode,
		CheckPriority: r.CheckPriority, OsFamily: r.OsFamily, OsVersion: r.OsVersion, Architecture: r.Architecture,
		PlatformIdentifier: r.PlatformIdentifier, OsDiscoveredAt: r.OsDiscoveredAt, LastScanAt: h.LastScanAt,
	}
	if row.HasCompliance {
		s := toSummary(Compliance{Pass: int(row.CompliancePass), Fail: int(row.ComplianceFail),
			Skipped: int(row.ComplianceSkipped), Error: int(row.ComplianceError), Excepted: int(row.ComplianceExcepted)})
		item.ComplianceSummary = &api.HostListComplianceSummary{Passing: s.Passing, Failing: s.Failing, Skipped: s.Skipped,
			Error: s.Error, Total: s.Total, CriticalFailing: int64(row.ComplianceCritical), Excepted: s.Excepted}
	}
	return item
}

func groupToAPI(g Group) api.HostGroup {
	return api.HostGroup{Id: g.ID, Name: g.Name, Description: g.Description, MaintenanceMode: g.MaintenanceMode,
		HostCount: g.HostCount, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt}
}

// livenessSummary is the list view of a host's liveness.
func livenessSummary(l dbq.HostLivenessSummariesRow) *api.HostLivenessSummary {
	return &api.HostLivenessSummary{
		MonitoringState: api.MonitoringState(l.MonitoringState), ReachabilityStatus: api.ReachabilityStatus(l.ReachabilityStatus),
		LastStateChangeAt: l.LastStateChangeAt,
	}
}

// livenessDetail is the detail view of a host's liveness; nil before the poller saw the host.
func livenessDetail(l *dbq.HostLiveness) *api.HostLiveness {
	if l == nil {
		return nil
	}
	state := api.MonitoringState(l.MonitoringState)
	out := &api.HostLiveness{
		ReachabilityStatus: api.ReachabilityStatus(l.ReachabilityStatus), MonitoringState: &state,
		LastProbeAt: l.LastProbeAt, NextProbeAt: &l.NextProbeAt, LastStateChangeAt: l.LastStateChangeAt,
		LastErrorType: l.LastErrorType, ConsecutiveFailures: ptr(int(l.ConsecutiveFailures)),
		PingConsecutiveFailures: ptr(int(l.PingConsecutiveFailures)), PingConsecutiveSuccesses: ptr(int(l.PingConsecutiveSuccesses)),
		SshConsecutiveFailures: ptr(int(l.SshConsecutiveFailures)), SshConsecutiveSuccesses: ptr(int(l.SshConsecutiveSuccesses)),
		PrivilegeConsecutiveFailures:  ptr(int(l.PrivilegeConsecutiveFailures)),
		PrivilegeConsecutiveSuccesses: ptr(int(l.PrivilegeConsecutiveSuccesses)),
	}
	if l.LastResponseMs != nil {
		out.LastResponseMs = ptr(int(*l.LastResponseMs))
	}
	if l.Privilege != nil {
		p := api.HostLivenessPrivilege(*l.Privilege)
		out.Privilege = &p
	}
	return out
}

func ptr[T any](v T) *T { return &v }
