-- name: ScanHostExists :one
SELECT EXISTS (SELECT 1 FROM live_hosts WHERE id = @id);

-- name: ScanInsert :one
-- ScanInsert queues a scan; the partial unique index refuses a second active scan of the
-- host (pg unique violation on scans_one_active_per_host).
INSERT INTO scans (id, host_id, batch_id, status, trigger, framework, rule_ids, requested_by, correlation_id, created_at)
VALUES (@id, @host_id, sqlc.narg(batch_id), 'queued', @trigger, sqlc.narg(framework), sqlc.narg(rule_ids)::text[],
    @requested_by, @correlation_id, @created_at)
RETURNING *;

-- name: ScanActiveForHost :one
SELECT * FROM scans WHERE host_id = @host_id AND status IN ('queued', 'running');

-- name: ScanGet :one
SELECT * FROM scans WHERE id = @id;

-- name: ScanStart :one
-- ScanStart moves a queued scan (or one a crashed worker left running) to running; no row
-- when it finished or was cancelled meanwhile.
UPDATE scans SET status = 'running', started_at = COALESCE(started_at, @started_at::timestamptz)
WHERE id = @id AND status IN ('queued', 'running') AND NOT cancel_requested
RETURNING *;

-- name: ScanProgress :exec
UPDATE scans SET records_done = @records_done, records_total = @records_total
WHERE id = @id AND status = 'running';

-- name: ScanFinish :one
-- ScanFinish records a scan's end once: no row when it had already ended.
UPDATE scans SET status = @status, finished_at = @finished_at::timestamptz, rules_total = @rules_total,
    records_total = @records_total, records_done = @records_done,
    pass_count = @pass_count, fail_count = @fail_count, skipped_count = @skipped_count, error_count = @error_count,
    changed_count = @changed_count, sessions = @sessions, privilege = @privilege, os_family = @os_family,
    os_version = @os_version, timings = @timings, error = @error
WHERE id = @id AND status IN ('queued', 'running')
RETURNING *;

-- name: ScanHostFailureStreak :one
-- ScanHostFailureStreak counts a host's failed scans since its last completed one
-- (cancelled scans count neither way). A host's scans never overlap (one queued or running
-- at a time), so id order (UUIDv7) is the order they ended in; scans_host_idx serves it.
SELECT count(*)::int AS failures FROM scans s
WHERE s.host_id = @host_id AND s.status = 'failed'
  AND s.id > COALESCE((SELECT c.id FROM scans c WHERE c.host_id = @host_id AND c.status = 'completed'
                       ORDER BY c.id DESC LIMIT 1), '00000000-0000-0000-0000-000000000000'::uuid);

-- name: ScanRequestCancel :one
-- ScanRequestCancel cancels a queued scan at once and asks a running one to stop; no row
-- when the scan has ended.
UPDATE scans SET
    cancel_requested = true,
    status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
    finished_at = CASE WHEN status = 'queued' THEN @now::timestamptz ELSE finished_at END
WHERE id = @id AND status IN ('queued', 'running')
RETURNING *;

-- name: ScanCancelRequested :one
SELECT cancel_requested FROM scans WHERE id = @id;

-- name: ScanList :many
-- ScanList pages scans newest first (ids are UUIDv7, so id order is creation order).
SELECT * FROM scans
WHERE (sqlc.narg(host_id)::uuid IS NULL OR host_id = sqlc.narg(host_id))
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(batch_id)::uuid IS NULL OR batch_id = sqlc.narg(batch_id))
  AND (sqlc.narg(since)::timestamptz IS NULL OR created_at >= sqlc.narg(since))
  AND (sqlc.narg(before_id)::uuid IS NULL OR id < sqlc.narg(before_id))
ORDER BY id DESC
LIMIT @row_limit;

-- name: ComplianceStatesOfHost :many
-- ComplianceStatesOfHost returns a host's current states, which a scan compares its
-- results with.
SELECT rule_id, status, severity, reason, evidence_hash, first_seen_at, exception_id, scan_id FROM rule_states WHERE host_id = @host_id;

-- name: EvidenceInsert :exec
-- EvidenceInsert stores evidence bodies not stored yet, and moves the created_at of those
-- stored already forward: created_at is when a scan last stored the evidence, so
-- retention (EvidenceRetentionDelete) keeps evidence a scan uses again. Rows go in hash
-- order, so concurrent scans lock evidence they share in the same order.
INSERT INTO evidence (hash, body, created_at)
SELECT h, b, @created_at::timestamptz FROM (SELECT unnest(@hashes::bytea[]) AS h, unnest(@bodies::jsonb[]) AS b) AS t
ORDER BY h
ON CONFLICT (hash) DO UPDATE SET created_at = EXCLUDED.created_at WHERE evidence.created_at < EXCLUDED.created_at;

-- name: EvidenceGet :one
SELECT body FROM evidence WHERE hash = @hash;

-- name: RuleStatesUpsert :exec
-- RuleStatesUpsert writes a host's changed states; an empty exception id is none.
INSERT INTO rule_states (host_id, rule_id, status, severity, reason, evidence_hash, scan_id, first_seen_at, changed_at,
    exception_id)
SELECT @host_id::uuid, r, s, sv, rs, eh, sc, fs, @changed_at::timestamptz, NULLIF(e, '')::uuid
FROM (SELECT unnest(@rule_ids::text[]) AS r, unnest(@statuses::text[]) AS s, unnest(@severities::text[]) AS sv,
    unnest(@reasons::text[]) AS rs, unnest(@evidence_hashes::bytea[]) AS eh, unnest(@scan_ids::uuid[]) AS sc,
    unnest(@first_seen::timestamptz[]) AS fs, unnest(@exception_ids::text[]) AS e) AS t
ON CONFLICT (host_id, rule_id) DO UPDATE SET
    status = EXCLUDED.status, severity = EXCLUDED.severity, reason = EXCLUDED.reason,
    evidence_hash = EXCLUDED.evidence_hash, scan_id = EXCLUDED.scan_id, changed_at = EXCLUDED.changed_at,
    exception_id = EXCLUDED.exception_id;

-- name: RuleTransitionsInsert :exec
INSERT INTO rule_transitions (id, host_id, rule_id, scan_id, change_kind, status, previous_status, severity,
    previous_severity, reason, evidence_hash, occurred_at, exception_id)
SELECT i, @host_id::uuid, r, sc, k, s, NULLIF(ps, ''), sv, NULLIF(psv, ''), rs, eh, @occurred_at::timestamptz,
    NULLIF(e, '')::uuid
FROM (SELECT unnest(@ids::uuid[]) AS i, unnest(@rule_ids::text[]) AS r, unnest(@kinds::text[]) AS k,
    unnest(@statuses::text[]) AS s, unnest(@previous_statuses::text[]) AS ps, unnest(@severities::text[]) AS sv,
    unnest(@previous_severities::text[]) AS psv, unnest(@reasons::text[]) AS rs,
    unnest(@evidence_hashes::bytea[]) AS eh, unnest(@scan_ids::uuid[]) AS sc, unnest(@exception_ids::text[]) AS e) AS t;

-- name: HostComplianceUpsert :exec
-- HostComplianceUpsert writes a host's changed rollups and their history rows.
WITH rows AS (
    SELECT unnest(@frameworks::text[]) AS framework, unnest(@pass::int[]) AS pass_count,
        unnest(@fail::int[]) AS fail_count, unnest(@skipped::int[]) AS skipped_count,
        unnest(@errors::int[]) AS error_count, unnest(@critical::int[]) AS critical_failing,
        unnest(@excepted::int[]) AS excepted_count
), history AS (
    INSERT INTO host_compliance_history (host_id, framework, valid_from, pass_count, fail_count, skipped_count,
        error_count, critical_failing, excepted_count)
    SELECT @host_id::uuid, framework, @at::timestamptz, pass_count, fail_count, skipped_count, error_count, critical_failing,
        excepted_count FROM rows
    ON CONFLICT (host_id, framework, valid_from) DO UPDATE SET pass_count = EXCLUDED.pass_count,
        fail_count = EXCLUDED.fail_count, skipped_count = EXCLUDED.skipped_count,
        error_count = EXCLUDED.error_count, critical_failing = EXCLUDED.critical_failing,
        excepted_count = EXCLUDED.excepted_count
)
INSERT INTO host_compliance (host_id, framework, pass_count, fail_count, skipped_count, error_count,
    critical_failing, updated_at, excepted_count)
SELECT @host_id::uuid, framework, pass_count, fail_count, skipped_count, error_count, critical_failing, @at::timestamptz,
    excepted_count FROM rows
ON CONFLICT (host_id, framework) DO UPDATE SET pass_count = EXCLUDED.pass_count, fail_count = EXCLUDED.fail_count,
    skipped_count = EXCLUDED.skipped_count, error_count = EXCLUDED.error_count,
    critical_failing = EXCLUDED.critical_failing, updated_at = EXCLUDED.updated_at,
    excepted_count = EXCLUDED.excepted_count;

-- name: FleetComplianceAdd :exec
-- FleetComplianceAdd adds a host's changes to the fleet totals, in the host's shard.
INSERT INTO fleet_compliance (framework, shard, pass_count, fail_count, skipped_count, error_count, excepted_count)
SELECT unnest(@frameworks::text[]), compliance_shard(@host_id::uuid), unnest(@pass::int[]), unnest(@fail::int[]),
    unnest(@skipped::int[]), unnest(@errors::int[]), unnest(@excepted::int[])
ON CONFLICT (framework, shard) DO UPDATE SET
    pass_count = fleet_compliance.pass_count + EXCLUDED.pass_count,
    fail_count = fleet_compliance.fail_count + EXCLUDED.fail_count,
    skipped_count = fleet_compliance.skipped_count + EXCLUDED.skipped_count,
    error_count = fleet_compliance.error_count + EXCLUDED.error_count,
    excepted_count = fleet_compliance.excepted_count + EXCLUDED.excepted_count;

-- name: RuleFleetAdd :exec
-- RuleFleetAdd adds a host's changes to the per-rule host counts (rules in id order, so
-- concurrent scans lock rows in the same order).
INSERT INTO rule_fleet (rule_id, pass_hosts, fail_hosts, skipped_hosts, error_hosts, excepted_hosts)
SELECT r, p, f, s, e, x
FROM (SELECT unnest(@rule_ids::text[]) AS r, unnest(@pass::int[]) AS p, unnest(@fail::int[]) AS f,
    unnest(@skipped::int[]) AS s, unnest(@errors::int[]) AS e, unnest(@excepted::int[]) AS x) AS t
ORDER BY r
ON CONFLICT (rule_id) DO UPDATE SET
    pass_hosts = rule_fleet.pass_hosts + EXCLUDED.pass_hosts,
    fail_hosts = rule_fleet.fail_hosts + EXCLUDED.fail_hosts,
    skipped_hosts = rule_fleet.skipped_hosts + EXCLUDED.skipped_hosts,
    error_hosts = rule_fleet.error_hosts + EXCLUDED.error_hosts,
    excepted_hosts = rule_fleet.excepted_hosts + EXCLUDED.excepted_hosts;

-- name: ScanResultsAt :many
-- ScanResultsAt returns, for the given rules of a host, the latest transition at or
-- before an instant: the host's results then (a scan's own results at its end).
SELECT DISTINCT ON (t.rule_id) t.rule_id, t.status, t.severity, t.reason, t.evidence_hash, t.occurred_at, t.scan_id,
    t.exception_id
FROM rule_transitions t
WHERE t.host_id = @host_id AND t.rule_id = ANY(@rule_ids::text[]) AND t.occurred_at <= @at
ORDER BY t.rule_id, t.occurred_at DESC, t.id DESC;

-- name: HostComplianceGet :one
SELECT * FROM host_compliance WHERE host_id = @host_id AND framework = @framework;

-- name: HostComplianceOfHost :many
SELECT framework, pass_count, fail_count, skipped_count, error_count, critical_failing, excepted_count
FROM host_compliance WHERE host_id = @host_id;

-- name: ScanVariables :many
SELECT name, value FROM scan_variables ORDER BY name;

-- name: ScanVariablesLock :many
-- ScanVariablesLock returns the installation's values, locking them for a change.
SELECT name, value FROM scan_variables ORDER BY name FOR UPDATE;

-- name: ScanVariableSet :exec
INSERT INTO scan_variables (name, value, updated_at, updated_by) VALUES (@name, @value, @updated_at, @updated_by)
ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by;

-- name: ScanVariableClear :exec
DELETE FROM scan_variables WHERE name = @name;

-- name: FleetComplianceTotals :one
-- FleetComplianceTotals sums a framework's shards: the fleet's current results.
SELECT COALESCE(sum(pass_count), 0)::bigint AS pass, COALESCE(sum(fail_count), 0)::bigint AS fail,
    COALESCE(sum(skipped_count), 0)::bigint AS skipped, COALESCE(sum(error_count), 0)::bigint AS errors,
    COALESCE(sum(excepted_count), 0)::bigint AS excepted
FROM fleet_compliance WHERE framework = @framework;

-- name: FleetComplianceTotalsAt :one
-- FleetComplianceTotalsAt is FleetComplianceTotals as of an instant: each host live then
-- counts with its rollup as it stood.
SELECT COALESCE(sum(pass_count), 0)::bigint AS pass, COALESCE(sum(fail_count), 0)::bigint AS fail,
    COALESCE(sum(skipped_count), 0)::bigint AS skipped, COALESCE(sum(error_count), 0)::bigint AS errors,
    COALESCE(sum(excepted_count), 0)::bigint AS excepted
FROM (
    SELECT DISTINCT ON (hh.host_id) hh.pass_count, hh.fail_count, hh.skipped_count, hh.error_count, hh.excepted_count
    FROM host_compliance_history hh JOIN hosts h ON h.id = hh.host_id
    WHERE hh.framework = @framework AND hh.valid_from <= @at AND h.created_at <= @at
      AND (h.deleted_at IS NULL OR h.deleted_at > @at)
    ORDER BY hh.host_id, hh.valid_from DESC
) latest;

-- name: FleetTopFailingRules :many
-- FleetTopFailingRules ranks the rules failing on most live hosts among @rule_ids.
SELECT rule_id, fail_hosts FROM rule_fleet
WHERE fail_hosts > 0 AND rule_id = ANY(@rule_ids::text[])
ORDER BY fail_hosts DESC, rule_id
LIMIT @row_limit;

-- name: FleetTopFailingRulesAt :many
-- FleetTopFailingRulesAt is FleetTopFailingRules as of an instant, from the transitions.
SELECT rule_id, count(*)::bigint AS fail_hosts FROM (
    SELECT DISTINCT ON (t.host_id, t.rule_id) t.rule_id, t.status
    FROM rule_transitions t JOIN hosts h ON h.id = t.host_id
    WHERE t.rule_id = ANY(@rule_ids::text[]) AND t.occurred_at <= @at AND h.created_at <= @at
      AND (h.deleted_at IS NULL OR h.deleted_at > @at)
    ORDER BY t.host_id, t.rule_id, t.occurred_at DESC, t.id DESC
) latest
WHERE status = 'fail'
GROUP BY rule_id
ORDER BY fail_hosts DESC, rule_id
LIMIT @row_limit;

-- name: FleetTopFailingHosts :many
-- FleetTopFailingHosts ranks live hosts by failing rules of a framework.
SELECT c.host_id, c.fail_count FROM host_compliance c
WHERE c.framework = @framework AND c.fail_count > 0
  AND EXISTS (SELECT 1 FROM hosts h WHERE h.id = c.host_id AND h.deleted_at IS NULL)
ORDER BY c.fail_count DESC, c.host_id
LIMIT @row_limit;

-- name: FleetTopFailingHostsAt :many
SELECT host_id, fail_count FROM (
    SELECT DISTINCT ON (hh.host_id) hh.host_id, hh.fail_count
    FROM host_compliance_history hh JOIN hosts h ON h.id = hh.host_id
    WHERE hh.framework = @framework AND hh.valid_from <= @at AND h.created_at <= @at
      AND (h.deleted_at IS NULL OR h.deleted_at > @at)
    ORDER BY hh.host_id, hh.valid_from DESC
) latest
WHERE fail_count > 0
ORDER BY fail_count DESC, host_id
LIMIT @row_limit;

-- name: FleetRecentChanges :many
-- FleetRecentChanges is the change feed of live hosts, newest first: first results,
-- status changes and severity changes (not evidence-only changes), optionally of some
-- rules only, at or after @since and at or before @until.
SELECT t.id, t.host_id, t.rule_id, t.status, t.severity, t.change_kind, t.occurred_at
FROM rule_transitions t
WHERE t.change_kind <> 'evidence_changed'
  AND t.occurred_at >= @since AND t.occurred_at <= @until
  AND (sqlc.narg(rule_ids)::text[] IS NULL OR t.rule_id = ANY(sqlc.narg(rule_ids)::text[]))
  AND EXISTS (SELECT 1 FROM hosts h WHERE h.id = t.host_id AND h.deleted_at IS NULL)
ORDER BY t.occurred_at DESC, t.id DESC
LIMIT @row_limit;

-- name: HostComplianceAt :one
-- HostComplianceAt is a host's rollup for a framework as of an instant (zeros before).
SELECT pass_count, fail_count, skipped_count, error_count, critical_failing, excepted_count
FROM host_compliance_history
WHERE host_id = @host_id AND framework = @framework AND valid_from <= @at
ORDER BY valid_from DESC
LIMIT 1;

-- name: HostLastScanSet :exec
-- HostLastScanSet records when a host's last scan completed (hosts.last_scan_at, which the
-- host list and detail show).
UPDATE hosts SET last_scan_at = @at WHERE id = @host_id AND (last_scan_at IS NULL OR last_scan_at < @at);

-- name: ComplianceHostLock :exec
-- ComplianceHostLock serializes, until the transaction ends, the writers of one host's
-- results: a scan storing them and an exception restating them.
SELECT pg_advisory_xact_lock(7301, hashtext(CAST(sqlc.arg(host_id)::uuid AS text)));
