-- name: LivenessClaimDue :many
-- LivenessClaimDue leases up to lim due hosts (oldest first; rows another claim holds are
-- skipped) until lease_until, which also becomes their next probe time should the probe
-- never report, and returns them with what a probe needs.
WITH due AS (
    SELECT l.host_id FROM host_liveness l
    WHERE l.next_probe_at <= @at::timestamptz
      AND (l.probe_lease_until IS NULL OR l.probe_lease_until <= @at::timestamptz)
    ORDER BY l.next_probe_at
    LIMIT @lim
    FOR UPDATE OF l SKIP LOCKED
)
UPDATE host_liveness l SET probe_lease_until = @lease_until::timestamptz, next_probe_at = @lease_until::timestamptz
FROM due, live_hosts h
WHERE l.host_id = due.host_id AND h.id = l.host_id
RETURNING l.*, h.ip_address, h.port, h.effective_maintenance AS in_maintenance;

-- name: LivenessClaimHost :one
-- LivenessClaimHost leases one live host for an on-demand probe unless a probe of it is
-- in flight (no row then). Its next probe is not due before the lease ends.
UPDATE host_liveness l SET probe_lease_until = p.lease_until, next_probe_at = GREATEST(l.next_probe_at, p.lease_until)
FROM (SELECT @lease_until::timestamptz AS lease_until) p, live_hosts h
WHERE l.host_id = @host_id AND h.id = l.host_id
  AND (l.probe_lease_until IS NULL OR l.probe_lease_until <= @at::timestamptz)
RETURNING l.*, h.ip_address, h.port, h.effective_maintenance AS in_maintenance;

-- name: LivenessRelease :exec
-- LivenessRelease ends the lease of a probe that reports no result.
UPDATE host_liveness SET probe_lease_until = NULL WHERE host_id = @host_id;

-- name: LivenessRecord :batchexec
-- LivenessRecord stores the outcome of one probe (or of marking a host in maintenance)
-- and ends its lease.
UPDATE host_liveness SET
    monitoring_state = @monitoring_state,
    reachability_status = @reachability_status,
    last_probe_at = sqlc.narg(last_probe_at)::timestamptz,
    last_response_ms = sqlc.narg(last_response_ms)::integer,
    consecutive_failures = @consecutive_failures,
    ping_consecutive_failures = @ping_consecutive_failures,
    ping_consecutive_successes = @ping_consecutive_successes,
    ssh_consecutive_failures = @ssh_consecutive_failures,
    ssh_consecutive_successes = @ssh_consecutive_successes,
    privilege_consecutive_failures = @privilege_consecutive_failures,
    privilege_consecutive_successes = @privilege_consecutive_successes,
    privilege = sqlc.narg(privilege)::text,
    ssh_banner = sqlc.narg(ssh_banner)::text,
    last_state_change_at = sqlc.narg(last_state_change_at)::timestamptz,
    last_error_type = sqlc.narg(last_error_type)::text,
    last_error_message = sqlc.narg(last_error_message)::text,
    -- A host made due while leased (it entered or left maintenance) stays due.
    next_probe_at = LEAST(@next_probe_at::timestamptz,
        CASE WHEN probe_lease_until IS NOT NULL AND next_probe_at < probe_lease_until THEN next_probe_at END),
    probe_lease_until = NULL,
    updated_at = @at::timestamptz
WHERE host_id = @host_id;

-- name: LivenessHistoryInsert :batchexec
INSERT INTO host_monitoring_history (host_id, check_time, monitoring_state, previous_state, response_time_ms,
    ping_ok, ssh_ok, privilege_ok, failed_layer, error_message, error_type)
VALUES (@host_id, @check_time, @monitoring_state, sqlc.narg(previous_state)::text, sqlc.narg(response_time_ms)::integer,
    sqlc.narg(ping_ok)::boolean, sqlc.narg(ssh_ok)::boolean, sqlc.narg(privilege_ok)::boolean,
    sqlc.narg(failed_layer)::text, sqlc.narg(error_message)::text, sqlc.narg(error_type)::text);

-- name: LivenessHistoryList :many
-- LivenessHistoryList returns a host's transitions newest first, before the cursor id.
SELECT id, host_id, check_time, monitoring_state, previous_state, response_time_ms, ping_ok, ssh_ok,
    privilege_ok, failed_layer, error_message, error_type
FROM host_monitoring_history
WHERE host_id = @host_id AND (sqlc.narg(before)::bigint IS NULL OR id < sqlc.narg(before)::bigint)
ORDER BY id DESC
LIMIT @row_limit;

-- name: LivenessCountersAdd :exec
-- LivenessCountersAdd adds one batch of probe outcomes to the poller's counters.
UPDATE liveness_counters SET
    probe_count = probe_count + @probes::bigint,
    probe_success_count = probe_success_count + @successes::bigint,
    probe_failure_count = probe_failure_count + @failures::bigint,
    state_transition_count = state_transition_count + @transitions::bigint,
    last_probe_at = GREATEST(last_probe_at, sqlc.narg(last_probe_at)::timestamptz);

-- name: LivenessCountersTick :exec
UPDATE liveness_counters SET last_tick_at = GREATEST(last_tick_at, @at::timestamptz);

-- name: LivenessCountersGet :one
SELECT probe_count, probe_success_count, probe_failure_count, state_transition_count, last_probe_at, last_tick_at
FROM liveness_counters;

-- name: LivenessHostsDue :one
-- LivenessHostsDue counts live hosts due for a probe not running: those without a row yet
-- and those whose next probe time has come.
SELECT count(*)::bigint FROM live_hosts h LEFT JOIN host_liveness l ON l.host_id = h.id
WHERE (l.host_id IS NULL OR (l.next_probe_at <= @at::timestamptz
       AND (l.probe_lease_until IS NULL OR l.probe_lease_until <= @at::timestamptz)));

-- name: LivenessFleetReachability :one
-- LivenessFleetReachability counts live hosts by reachability; a host never probed (no
-- row, or still unknown) counts only as never_probed.
SELECT
    count(*) FILTER (WHERE l.host_id IS NOT NULL AND l.monitoring_state <> 'unknown' AND l.reachability_status = 'reachable')::bigint AS reachable,
    count(*) FILTER (WHERE l.host_id IS NOT NULL AND l.monitoring_state <> 'unknown' AND l.reachability_status = 'unreachable')::bigint AS unreachable,
    count(*) FILTER (WHERE l.host_id IS NOT NULL AND l.monitoring_state <> 'unknown' AND l.reachability_status = 'unknown')::bigint AS unknown,
    count(*) FILTER (WHERE l.host_id IS NULL OR l.monitoring_state = 'unknown')::bigint AS never_probed
FROM live_hosts h LEFT JOIN host_liveness l ON l.host_id = h.id;

-- name: LivenessFleetStates :one
-- LivenessFleetStates counts live hosts by monitoring state; never_probed covers hosts
-- without a row or still unknown.
SELECT
    count(*) FILTER (WHERE l.monitoring_state = 'online')::bigint AS online,
    count(*) FILTER (WHERE l.monitoring_state = 'degraded')::bigint AS degraded,
    count(*) FILTER (WHERE l.monitoring_state = 'critical')::bigint AS critical,
    count(*) FILTER (WHERE l.monitoring_state = 'down')::bigint AS down,
    count(*) FILTER (WHERE l.monitoring_state = 'maintenance')::bigint AS maintenance,
    count(*) FILTER (WHERE l.host_id IS NULL OR l.monitoring_state = 'unknown')::bigint AS never_probed
FROM live_hosts h LEFT JOIN host_liveness l ON l.host_id = h.id;

-- name: LivenessScheduleClamp :exec
-- LivenessScheduleClamp brings forward the next probe of hosts in a state whose interval
-- was shortened, so none waits past latest: each gets a time between earliest and earliest + spread_sec
-- (= latest).
UPDATE host_liveness l SET next_probe_at = p.earliest + (p.spread_sec * random()) * interval '1 second'
FROM (SELECT @earliest::timestamptz AS earliest, @latest::timestamptz AS latest, @spread_sec::float8 AS spread_sec) p
WHERE l.monitoring_state = @monitoring_state AND l.next_probe_at > p.latest;

-- name: LivenessDueMaintenanceChange :exec
-- LivenessDueMaintenanceChange makes due at once the hosts whose state global maintenance
-- changes: those not yet marked when it starts (entering), those marked when it ends.
UPDATE host_liveness SET next_probe_at = @at::timestamptz
WHERE next_probe_at > @at::timestamptz
  AND (monitoring_state = 'maintenance') <> @entering::boolean;
