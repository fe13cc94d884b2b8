package netscan

import (
	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
)

func scanToAPI(s Scan) api.DiscoveryScan {
	ports := make([]int, len(s.Ports))
	for i, p := range s.Ports {
		ports[i] = int(p)
	}
	hosts := make([]api.DiscoveredHost, len(s.Hosts))
	for i, h := range s.Hosts {
		hosts[i] = hostToAPI(h)
	}
	createdBy := s.CreatedBy
	return api.DiscoveryScan{
		Id: s.ID, Cidr: s.Cidr, Ports: ports, Status: api.DiscoveryScanStatus(s.Status), Total: s.Total,
		Scanned: s.Scanned, Found: s.Found, Error: s.Error, CreatedBy: &createdBy, CreatedAt: s.CreatedAt,
		StartedAt: s.StartedAt, FinishedAt: s.FinishedAt, Hosts: hosts,
	}
}

func hostToAPI(h dbq.DiscoveryScanHost) api.DiscoveredHost {
	out := api.DiscoveredHost{Address: h.Address.String(), Port: int(h.Port), SshBanner: h.SshBanner, FoundAt: h.FoundAt,
		RegisteredHostId: h.RegisteredHostID}
	if h.ResponseTimeMs != nil {
		ms := int(*h.ResponseTimeMs)
		out.ResponseTimeMs = &ms
	}
	return out
}
