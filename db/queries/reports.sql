-- name: ReportSigningKeyActive :one
SELECT * FROM report_signing_keys WHERE retired_at IS NULL;

-- name: ReportSigningKeyInsert :one
-- ReportSigningKeyInsert adds the active key; it inserts nothing (no row) when another
-- key is active already (the partial unique index).
INSERT INTO report_signing_keys (id, key_id, public_key, private_key_sealed, created_at)
VALUES (@id, @key_id, @public_key, @private_key_sealed, @created_at)
ON CONFLICT DO NOTHING
RETURNING *;

-- name: ReportSigningKeyActiveLock :one
SELECT * FROM report_signing_keys WHERE retired_at IS NULL FOR UPDATE;

-- name: ReportSigningKeyRetire :exec
UPDATE report_signing_keys SET retired_at = @retired_at WHERE id = @id AND retired_at IS NULL;

-- name: ReportSigningKeyList :many
-- ReportSigningKeyList returns every key, the active one first, then newest first.
SELECT * FROM report_signing_keys ORDER BY retired_at IS NOT NULL, created_at DESC, id DESC;

-- name: RekeyReportSigningKeyList :many
SELECT id, private_key_sealed AS sealed FROM report_signing_keys ORDER BY id FOR UPDATE;

-- name: RekeyReportSigningKeySet :exec
UPDATE report_signing_keys SET private_key_sealed = @sealed WHERE id = @id;

-- name: ReportInsert :one
INSERT INTO reports (id, kind, status, title, scope, parameters, requested_by, requested_by_name, schedule_id, created_at)
VALUES (@id, @kind, 'queued', @title, @scope, @parameters, @requested_by, @requested_by_name, sqlc.narg(schedule_id), @created_at)
RETURNING *;

-- name: ReportGet :one
SELECT * FROM reports WHERE id = @id;

-- name: ReportList :many
-- ReportList pages reports newest first (ids are UUIDv7).
SELECT * FROM reports
WHERE (sqlc.narg(kind)::text IS NULL OR kind = sqlc.narg(kind))
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(before_id)::uuid IS NULL OR id < sqlc.narg(before_id))
ORDER BY id DESC
LIMIT @row_limit;

-- name: ReportStart :one
-- ReportStart moves a queued (or, on a retry, running) report to running.
UPDATE reports SET status = 'running', started_at = COALESCE(started_at, @at), progress = 0
WHERE id = @id AND status IN ('queued', 'running')
RETURNING *;

-- name: ReportProgress :exec
UPDATE reports SET progress = @progress WHERE id = @id AND status = 'running';

-- name: ReportComplete :one
UPDATE reports SET status = 'completed', progress = 100, content = @content, signature = @signature,
    signing_key_id = @signing_key_id, summary = @summary, chain_head_seq = @chain_head_seq,
    chain_head_hash = @chain_head_hash, generated_at = @generated_at, finished_at = @finished_at
WHERE id = @id AND status = 'running'
RETURNING *;

-- name: ReportFail :one
UPDATE reports SET status = 'failed', error = @error, finished_at = @finished_at
WHERE id = @id AND status IN ('queued', 'running')
RETURNING *;

-- name: ReportHostsInScope :many
-- ReportHostsInScope returns the live hosts of a scope (fleet, a group, a host) by name.
SELECT h.id, h.hostname, h.display_name, h.environment, h.group_id, h.os_family, h.os_version
FROM hosts h
WHERE h.deleted_at IS NULL
  AND (@scope::text = 'fleet'
       OR (@scope::text = 'group' AND h.group_id = sqlc.narg(scope_id)::uuid)
       OR (@scope::text = 'host' AND h.id = sqlc.narg(scope_id)::uuid))
ORDER BY lower(h.hostname), h.id;

-- name: ReportGroupName :one
SELECT name FROM host_groups WHERE id = @id;

-- name: ReportHostName :one
SELECT hostname FROM hosts WHERE id = @id AND deleted_at IS NULL;

-- name: ReportHostStates :many
-- ReportHostStates is a host's current result of every rule.
SELECT rule_id, status, severity, reason, scan_id, changed_at, exception_id
FROM rule_states WHERE host_id = @host_id ORDER BY rule_id;

-- name: ReportHostStatesAt :many
-- ReportHostStatesAt is a host's result of every rule as of an instant: each rule's latest
-- transition at or before it.
SELECT DISTINCT ON (r.rule_id) r.rule_id, r.status, r.severity, r.reason, r.scan_id, r.occurred_at AS changed_at, r.exception_id
FROM rule_transitions r
WHERE r.host_id = @host_id AND r.occurred_at <= @at
ORDER BY r.rule_id, r.occurred_at DESC, r.id DESC;

-- name: ReportAnyResultBy :one
-- ReportAnyResultBy reports whether any compliance result was recorded at or before @at.
SELECT EXISTS (SELECT 1 FROM rule_transitions WHERE occurred_at <= @at);

-- name: ReportExceptionsInForce :many
-- ReportExceptionsInForce returns the exceptions approved and unexpired at @at (not
-- revoked before it) that cover any of @host_ids (their own, their groups', the fleet's).
SELECT e.* FROM compliance_exceptions e
WHERE e.kind = 'rule' AND e.status IN ('approved', 'revoked', 'expired') AND e.decided_at IS NOT NULL AND e.decided_at <= @at
  AND e.expires_at > @at
  AND (e.revoked_at IS NULL OR e.revoked_at > @at)
  AND (e.scope = 'fleet'
       OR (e.scope = 'host' AND e.host_id = ANY(@host_ids::uuid[]))
       OR (e.scope = 'group' AND e.group_id IN (SELECT h.group_id FROM hosts h WHERE h.id = ANY(@host_ids::uuid[]))))
ORDER BY e.rule_id, e.id;

-- name: ReportAuditEvents :many
-- ReportAuditEvents returns the audit events that occurred in [since, until), in chain
-- order, after seq @after_seq, at most @row_limit.
SELECT * FROM audit_events
WHERE occurred_at >= @since AND occurred_at < @until AND seq > @after_seq
ORDER BY seq
LIMIT @row_limit;

-- name: ReportAuditEventCount :one
-- ReportAuditEventCount counts the audit events that occurred in [since, until), up to
-- @up_to (it stops counting there).
SELECT count(*) FROM (
    SELECT 1 FROM audit_events WHERE occurred_at >= @since AND occurred_at < @until LIMIT @up_to
) AS capped;

-- name: ReportChangeJobs :many
-- ReportChangeJobs returns the change jobs created in [since, until), oldest first.
SELECT * FROM change_jobs WHERE created_at >= @since AND created_at < @until ORDER BY created_at, id;

-- name: ReportChangeJobHosts :many
SELECT job_id, host_id, host_name, environment, wave, status, error, started_at, finished_at, rolled_back_at, rebooted
FROM change_job_hosts WHERE job_id = ANY(@job_ids::uuid[]) ORDER BY job_id, wave, position;

-- name: ReportScheduleInsert :one
INSERT INTO report_schedules (id, name, kind, scope, parameters, cron, timezone, format, channel_ids, enabled,
    next_run_at, created_by, created_at, updated_at)
VALUES (@id, @name, @kind, @scope, @parameters, @cron, @timezone, @format, @channel_ids, @enabled,
    @next_run_at, @created_by, @created_at, @created_at)
RETURNING *;

-- name: ReportScheduleGet :one
SELECT * FROM report_schedules WHERE id = @id;

-- name: ReportScheduleLock :one
SELECT * FROM report_schedules WHERE id = @id FOR UPDATE;

-- name: ReportScheduleUpdate :one
UPDATE report_schedules SET name = @name, kind = @kind, scope = @scope, parameters = @parameters, cron = @cron,
    timezone = @timezone, format = @format, channel_ids = @channel_ids, enabled = @enabled,
    next_run_at = @next_run_at, updated_at = @updated_at
WHERE id = @id
RETURNING *;

-- name: ReportScheduleDelete :execrows
DELETE FROM report_schedules WHERE id = @id;

-- name: ReportScheduleList :many
SELECT * FROM report_schedules
WHERE (sqlc.narg(before_id)::uuid IS NULL OR id < sqlc.narg(before_id))
ORDER BY id DESC
LIMIT @row_limit;

-- name: ReportSchedulesDue :many
-- ReportSchedulesDue locks the enabled schedules due at @now (skipping those another
-- worker holds).
SELECT * FROM report_schedules WHERE enabled AND next_run_at <= @now
ORDER BY next_run_at, id
LIMIT 50
FOR UPDATE SKIP LOCKED;

-- name: ReportScheduleRan :exec
-- ReportScheduleRan records a run: the report it queued (none when it could not be
-- requested, with last_error saying why) and the next run.
UPDATE report_schedules SET last_run_at = @ran_at, last_report_id = @report_id, next_run_at = @next_run_at,
    last_error = sqlc.narg(last_error)
WHERE id = @id;

-- name: ReportScheduleSetError :exec
-- ReportScheduleSetError records what went wrong with a schedule's report @report_id (its
-- generation or a delivery), unless a later run has replaced it as the last report.
UPDATE report_schedules SET last_error = @last_error
WHERE id = @id AND last_report_id = @report_id;

-- name: ReportVulnExposures :many
-- ReportVulnExposures returns the open exposures of the live hosts of a scope to the
-- advisories (not withdrawn) of at least a severity rank, most severe advisory first.
SELECT v.id AS advisory_id, v.aliases, v.summary, v.severity, v.severity_rank, v.cvss_score, v.cvss_vector,
    e.host_id, h.hostname, h.display_name, e.package, e.release, e.installed_version, e.fixed_version, e.binaries,
    e.first_seen
FROM vuln_exposures e
JOIN vuln_advisories v ON v.id = e.advisory_id AND v.withdrawn IS NULL
JOIN hosts h ON h.id = e.host_id AND h.deleted_at IS NULL
WHERE e.resolved_at IS NULL
  AND v.severity_rank >= @min_rank::smallint
  AND (@scope::text = 'fleet'
       OR (@scope::text = 'group' AND h.group_id = sqlc.narg(scope_id)::uuid)
       OR (@scope::text = 'host' AND h.id = sqlc.narg(scope_id)::uuid))
ORDER BY v.severity_rank DESC, v.id, lower(h.hostname), h.id, e.package;

-- name: ReportVulnTrend :many
-- ReportVulnTrend counts, at each of the ends, the exposures open then (first seen by
-- then, not resolved by then) of the live hosts of a scope to the advisories of at least
-- a severity rank: distinct hosts and distinct (host, advisory) pairs.
WITH ex AS (
    SELECT e.host_id, e.advisory_id, e.first_seen, e.resolved_at
    FROM vuln_exposures e
    JOIN vuln_advisories v ON v.id = e.advisory_id
    JOIN hosts h ON h.id = e.host_id AND h.deleted_at IS NULL
    WHERE v.severity_rank >= @min_rank::smallint
      AND (@scope::text = 'fleet'
           OR (@scope::text = 'group' AND h.group_id = sqlc.narg(scope_id)::uuid)
           OR (@scope::text = 'host' AND h.id = sqlc.narg(scope_id)::uuid))
)
SELECT t.at::timestamptz AS at, count(DISTINCT ex.host_id)::bigint AS hosts,
    count(DISTINCT ex.host_id::text || ' ' || ex.advisory_id)::bigint AS exposures
FROM unnest(@ends::timestamptz[]) AS t(at)
LEFT JOIN ex ON ex.first_seen <= t.at AND (ex.resolved_at IS NULL OR ex.resolved_at > t.at)
GROUP BY t.at
ORDER BY t.at;

-- name: ReportVulnFeeds :many
-- ReportVulnFeeds returns each advisory feed (import source): its last import, that
-- import's status, its last successful import and the advisories it last wrote.
SELECT i.source, count(*)::bigint AS imports,
    max(i.finished_at)::timestamptz AS last_import_at,
    (array_agg(i.status ORDER BY i.finished_at DESC, i.id DESC))[1]::text AS last_status,
    coalesce(max(i.finished_at) FILTER (WHERE i.status = 'succeeded'), 'epoch')::timestamptz AS last_success_at,
    (SELECT count(*) FROM vuln_advisories a WHERE a.source = i.source)::bigint AS advisories
FROM vuln_feed_imports i
GROUP BY i.source
ORDER BY i.source;
