package intel

import (
	"encoding/json"

	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
)

func intPtr(v *int32) *int {
	if v == nil {
		return nil
	}
	n := int(*v)
	return &n
}

func systemInfo(r dbq.HostSystemInfo) api.HostSystemInfo {
	return api.HostSystemInfo{
		HostId: r.HostID, OsName: r.OsName, OsVersion: r.OsVersion, OsVersionFull: r.OsVersionFull, OsId: r.OsID,
		OsIdLike: r.OsIDLike, OsPrettyName: r.OsPrettyName, PlatformIdentifier: r.PlatformIdentifier,
		OsFamily: r.OsFamily, KernelName: r.KernelName, KernelRelease: r.KernelRelease, KernelVersion: r.KernelVersion,
		Architecture: r.Architecture, MemTotalMb: intPtr(r.MemTotalMb), MemAvailableMb: intPtr(r.MemAvailableMb),
		SwapTotalMb: intPtr(r.SwapTotalMb), DiskTotalGb: intPtr(r.DiskTotalGb), DiskUsedGb: intPtr(r.DiskUsedGb),
		DiskFreeGb: intPtr(r.DiskFreeGb), Hostname: r.Hostname, Fqdn: r.Fqdn, SelinuxStatus: r.SelinuxStatus,
		ApparmorEnabled: r.ApparmorEnabled, FirewallService: r.FirewallService, FirewallStatus: r.FirewallStatus,
		CollectedAt: r.CollectedAt,
	}
}

// intelState renders the snapshot: one object per category with value, collected_at,
// changed_at, fresh and, when the last collection of it failed, error.
func intelState(st State) api.IntelligenceState {
	snap := make(map[string]any, len(st.Categories))
	for _, c := range st.Categories {
		entry := map[string]any{"value": json.RawMessage("null"), "collected_at": c.CollectedAt, "fresh": c.Fresh}
		if c.Value != nil {
			entry["value"] = json.RawMessage(c.Value)
		}
		if c.ChangedAt != nil {
			entry["changed_at"] = *c.ChangedAt
		}
		if c.Error != nil {
			entry["error"] = *c.Error
		}
		snap[c.Category] = entry
	}
	return api.IntelligenceState{HostId: st.HostID, CollectedAt: st.CollectedAt, Snapshot: snap}
}

func intelEvent(r dbq.IntelligenceEvent) api.IntelligenceEvent {
	ev := api.IntelligenceEvent{Id: r.ID, HostId: r.HostID, EventCode: api.IntelligenceEventCode(r.EventCode),
		Severity: api.Severity(r.Severity), OccurredAt: r.OccurredAt, DetectedAt: r.DetectedAt}
	var d map[string]any
	if json.Unmarshal(r.Detail, &d) == nil {
		ev.Detail = &d
	}
	if r.CorrelationID != "" {
		ev.CorrelationId = &r.CorrelationID
	}
	return ev
}

func intelConfig(c IntelligenceConfig) api.IntelligenceConfig {
	return api.IntelligenceConfig{IntervalSec: c.IntervalSec, RateLimit: c.RateLimit, MaintenanceGlobal: c.MaintenanceGlobal}
}

func systemInfoConfig(c SystemInfoConfig) api.DiscoveryConfig {
	n := c.MaxCIDRHosts
	return api.DiscoveryConfig{IntervalSec: c.IntervalSec, RateLimit: c.RateLimit, DetectOnFirstContact: c.DetectOnFirstContact,
		MaintenanceGlobal: c.MaintenanceGlobal, MaxCidrHosts: &n}
}
