package host

import (
	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
)

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

func listItem(h dbq.HostListRow) api.HostListItem {
	r := toAPI(Host(h))
	return api.HostListItem{
		Id: r.Id, Hostname: r.Hostname, IpAddress: r.IpAddress, Port: r.Port, DisplayName: r.DisplayName,
		Description: r.Description, Environment: r.Environment, Tags: r.Tags, GroupId: r.GroupId, Username: r.Username,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, MaintenanceMode: r.MaintenanceMode,
		CheckPriority: r.CheckPriority, OsFamily: r.OsFamily, OsVersion: r.OsVersion, Architecture: r.Architecture,
		PlatformIdentifier: r.PlatformIdentifier, OsDiscoveredAt: r.OsDiscoveredAt, LastScanAt: h.LastScanAt,
	}
}

func groupToAPI(g Group) api.HostGroup {
	return api.HostGroup{Id: g.ID, Name: g.Name, Description: g.Description, MaintenanceMode: g.MaintenanceMode,
		HostCount: g.HostCount, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt}
}
