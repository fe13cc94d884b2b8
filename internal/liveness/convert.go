package liveness

import (
	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
)

func historyEntry(r dbq.HostMonitoringHistory) api.HostMonitoringHistoryEntry {
	e := api.HostMonitoringHistoryEntry{
		Id: r.ID, HostId: r.HostID, CheckTime: r.CheckTime, MonitoringState: api.MonitoringState(r.MonitoringState),
		PingOk: r.PingOk, SshOk: r.SshOk, PrivilegeOk: r.PrivilegeOk, ErrorMessage: r.ErrorMessage, ErrorType: r.ErrorType,
	}
	if r.PreviousState != nil {
		s := api.MonitoringState(*r.PreviousState)
		e.PreviousState = &s
	}
	if r.ResponseTimeMs != nil {
		ms := int(*r.ResponseTimeMs)
		e.ResponseTimeMs = &ms
	}
	if r.FailedLayer != nil {
		l := api.HostMonitoringHistoryEntryFailedLayer(*r.FailedLayer)
		e.FailedLayer = &l
	}
	return e
}

func checkResult(r CheckResult) api.ConnectivityCheckResult {
	p := r.Probe
	state := api.MonitoringState(r.State)
	out := api.ConnectivityCheckResult{
		Reachable: p.PingOK, ResponseTimeMs: p.ResponseMS, ProbedAt: p.At,
		NewReachabilityStatus: api.ReachabilityStatus(r.Reachability), MonitoringState: &state,
		PingOk: &p.PingOK, SshOk: p.SSHOK, PrivilegeOk: p.PrivilegeOK,
		ErrorType: optional(p.ErrorType), ErrorMessage: optional(p.ErrorMessage), SshBanner: optional(p.Banner),
	}
	if p.Privilege != "" {
		priv := api.ConnectivityCheckResultPrivilege(p.Privilege)
		out.Privilege = &priv
	}
	return out
}

func configToAPI(c Config) api.ConnectivityConfig {
	return api.ConnectivityConfig{
		OnlineSec: c.OnlineSec, DegradedSec: c.DegradedSec, CriticalSec: c.CriticalSec, DownSec: c.DownSec,
		MaintenanceSec: c.MaintenanceSec, TimeoutSec: c.TimeoutSec, UnreachableThreshold: c.UnreachableThreshold,
		RateLimit: c.RateLimit, MaintenanceGlobal: c.MaintenanceGlobal,
	}
}

func configFromAPI(c api.ConnectivityConfig) Config {
	return Config{
		OnlineSec: c.OnlineSec, DegradedSec: c.DegradedSec, CriticalSec: c.CriticalSec, DownSec: c.DownSec,
		MaintenanceSec: c.MaintenanceSec, TimeoutSec: c.TimeoutSec, UnreachableThreshold: c.UnreachableThreshold,
		RateLimit: c.RateLimit, MaintenanceGlobal: c.MaintenanceGlobal,
	}
}
