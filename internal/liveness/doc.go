// Package liveness watches whether the hosts of the inventory can be reached. A probe has
// three layers: the credential-free TCP connect and SSH banner ("ping"), then, when a
// credential applies to the host, an authenticated login ("ssh") and a trivial command
// run as root ("privilege"). Each host has a liveness row with per-layer consecutive
// failure and success counters and a monitoring state:
//
//   - online: every layer that ran succeeded;
//   - degraded: the banner answered but the login or the privilege layer failed;
//   - critical: the banner failed fewer than unreachable_threshold times in a row;
//   - down: the banner failed unreachable_threshold or more times in a row;
//   - maintenance: the host, its group, or the whole fleet (maintenance_global) is in
//     maintenance; such hosts are not probed;
//   - unknown: never probed.
//
// A state change (never a mere probe) writes a host_monitoring_history row, publishes a
// "host.state_changed" event, and on entering down opens the host's host_unreachable
// alert (at most one active per host), which a return to online or degraded resolves.
//
// The poller is a River periodic job (once per cluster per tick; ticks may overlap up to
// Options.Slots at a time). Each tick leases up to rate_limit × tick-seconds due hosts
// (next_probe_at <= now, FOR UPDATE SKIP LOCKED, oldest first), probes them concurrently
// and records the results in batches, one transaction per batch. A lease
// (probe_lease_until) marks a probe in flight, so a crashed process delays a host by at
// most the lease, and an on-demand check (POST /hosts/{id}/connectivity:check) of a host
// the poller is probing is refused with host.busy, as is a second on-demand check of the
// same host in any process (the same lease: no probe holds a database connection while it
// waits on the network). An address outside ssh.allowed_networks is never contacted: its
// probe fails the ping layer with error_type not_allowed. The next probe of a
// host is due after the interval of its new state (the *_sec settings), ±10% jitter so a
// fleet is not probed in bursts. Hosts entering or leaving maintenance (their own, their
// group's, or maintenance_global) are made due at once by triggers and by SetConfig.
//
// The tick period is worker.liveness_tick (default 1s; 0 turns polling off, as the API
// test harness does). Tests that run the real poller set app.Deps.Liveness: a short Tick
// and an IntervalUnit such as 10ms, which makes the API's minimum interval of 60 last
// 600 ms.
package liveness
