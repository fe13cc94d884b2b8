-- The scan scheduler (band of each host, when it is next due, queuing the due ones) and the
-- retention of scans and evidence. The band thresholds and the intervals are parameters:
-- their definitions live in Go (internal/scan/schedule.go), and each query computes them
-- for the whole fleet at once.

-- name: ScanScheduleLock :exec
-- ScanScheduleLock makes scheduler ticks take turns until the caller's transaction ends,
-- so two overlapping ticks never count the same free places twice.
SELECT pg_advisory_xact_lock(hashtext('openwatch.scan_schedule'));

-- name: ScanScheduledActive :one
-- ScanScheduledActive counts the scheduled scans queued or running.
SELECT count(*) FROM scans WHERE trigger = 'scheduled' AND status IN ('queued', 'running');

-- name: ScanScheduleList :many
-- ScanScheduleList returns the hosts the scheduler may queue (live, out of maintenance,
-- found reachable by the liveness poller, with no scan queued or running), each with its
-- band, its last scan (the latest created_at of any of its scans) and when it is next due:
-- its last scan plus the band's interval, or its creation when it was never scanned
-- (scanned false; last_scan_at is then its creation too). Soonest first; with due_by, only
-- the hosts due by then.
WITH base AS (
    SELECT h.id, h.hostname, h.created_at,
        COALESCE(c.pass_count, 0)::int AS pass_count, COALESCE(c.fail_count, 0)::int AS fail_count,
        COALESCE(c.critical_failing, 0)::int AS critical_failing, last.created_at AS last_scan_at
    FROM live_hosts h
    JOIN host_liveness l ON l.host_id = h.id AND l.reachability_status = 'reachable'
    LEFT JOIN host_compliance c ON c.host_id = h.id AND c.framework = 'all'
    LEFT JOIN LATERAL (SELECT s.created_at FROM scans s WHERE s.host_id = h.id ORDER BY s.created_at DESC LIMIT 1) last ON true
    WHERE NOT h.effective_maintenance
      AND NOT EXISTS (SELECT 1 FROM scans a WHERE a.host_id = h.id AND a.status IN ('queued', 'running'))
), banded AS (
    SELECT base.*, CASE
        WHEN pass_count + fail_count = 0 THEN 'unknown'
        WHEN critical_failing > 0 OR pass_count::float8 / (pass_count + fail_count) < @critical_below::float8 THEN 'critical'
        WHEN pass_count::float8 / (pass_count + fail_count) < @low_below::float8 THEN 'low'
        WHEN pass_count::float8 / (pass_count + fail_count) < @partial_below::float8 THEN 'partial'
        ELSE 'compliant' END AS band
    FROM base
), timed AS (
    SELECT banded.*, CASE WHEN last_scan_at IS NULL THEN created_at
        ELSE last_scan_at + make_interval(mins => CASE band
            WHEN 'unknown' THEN @unknown_minutes::int WHEN 'critical' THEN @critical_minutes::int
            WHEN 'low' THEN @low_minutes::int WHEN 'partial' THEN @partial_minutes::int
            ELSE @compliant_minutes::int END) END AS next_scan_at
    FROM banded
)
SELECT id, hostname, band::text AS band, pass_count, fail_count,
    (last_scan_at IS NOT NULL)::boolean AS scanned, COALESCE(last_scan_at, created_at)::timestamptz AS last_scan_at,
    next_scan_at::timestamptz AS next_scan_at
FROM timed
WHERE sqlc.narg(due_by)::timestamptz IS NULL OR next_scan_at <= sqlc.narg(due_by)::timestamptz
ORDER BY next_scan_at, id
LIMIT @row_limit;

-- name: ScanScheduleCounts :one
-- ScanScheduleCounts counts the live hosts: those the scheduler looks after (reachable,
-- out of maintenance) by band, those it leaves alone, and those due at @now (as
-- ScanScheduleList finds them).
WITH base AS (
    SELECT h.id, h.created_at,
        (COALESCE(l.reachability_status = 'reachable', false) AND NOT h.effective_maintenance) AS schedulable,
        EXISTS (SELECT 1 FROM scans a WHERE a.host_id = h.id AND a.status IN ('queued', 'running')) AS busy,
        COALESCE(c.pass_count, 0)::int AS pass_count, COALESCE(c.fail_count, 0)::int AS fail_count,
        COALESCE(c.critical_failing, 0)::int AS critical_failing,
        (SELECT s.created_at FROM scans s WHERE s.host_id = h.id ORDER BY s.created_at DESC LIMIT 1) AS last_scan_at
    FROM live_hosts h
    LEFT JOIN host_liveness l ON l.host_id = h.id
    LEFT JOIN host_compliance c ON c.host_id = h.id AND c.framework = 'all'
), banded AS (
    SELECT base.*, CASE
        WHEN pass_count + fail_count = 0 THEN 'unknown'
        WHEN critical_failing > 0 OR pass_count::float8 / (pass_count + fail_count) < @critical_below::float8 THEN 'critical'
        WHEN pass_count::float8 / (pass_count + fail_count) < @low_below::float8 THEN 'low'
        WHEN pass_count::float8 / (pass_count + fail_count) < @partial_below::float8 THEN 'partial'
        ELSE 'compliant' END AS band
    FROM base
), timed AS (
    SELECT banded.*, CASE WHEN last_scan_at IS NULL THEN created_at
        ELSE last_scan_at + make_interval(mins => CASE band
            WHEN 'unknown' THEN @unknown_minutes::int WHEN 'critical' THEN @critical_minutes::int
            WHEN 'low' THEN @low_minutes::int WHEN 'partial' THEN @partial_minutes::int
            ELSE @compliant_minutes::int END) END AS next_scan_at
    FROM banded
)
SELECT
    count(*) FILTER (WHERE NOT schedulable)::bigint AS not_schedulable,
    count(*) FILTER (WHERE schedulable AND band = 'unknown')::bigint AS unknown,
    count(*) FILTER (WHERE schedulable AND band = 'critical')::bigint AS critical,
    count(*) FILTER (WHERE schedulable AND band = 'low')::bigint AS low,
    count(*) FILTER (WHERE schedulable AND band = 'partial')::bigint AS partial,
    count(*) FILTER (WHERE schedulable AND band = 'compliant')::bigint AS compliant,
    count(*) FILTER (WHERE schedulable AND NOT busy AND next_scan_at <= @now::timestamptz)::bigint AS due_now
FROM timed;

-- name: ScanScheduleInsert :many
-- ScanScheduleInsert queues a scheduled scan of every rule for each host, in the order
-- given. A host that has a scan queued or running by now (a manual request that won the
-- race) is skipped without an error: the partial unique index decides.
INSERT INTO scans (id, host_id, status, trigger, requested_by, correlation_id, created_at)
SELECT id, host_id, 'queued', 'scheduled', 'system', @correlation_id, @created_at::timestamptz
FROM (SELECT unnest(@ids::uuid[]) AS id, unnest(@host_ids::uuid[]) AS host_id) AS t
ON CONFLICT (host_id) WHERE status IN ('queued', 'running') DO NOTHING
RETURNING *;

-- name: ScanRetentionDelete :one
-- ScanRetentionDelete looks at the next @batch_size ended scans created before @cutoff,
-- in (created_at, id) order after the given position, and deletes those no current result
-- names (rule_states.scan_id). A scan a current result names wrote that result, so it has
-- a transition for it: looking it up through the scan's transitions finds such a scan at
-- once; the host's states are read only for a scan about to be deleted, in case. It
-- returns how many scans it looked at and deleted, and the position of the last it looked
-- at.
WITH candidates AS (
    SELECT s.id, s.host_id, s.created_at FROM scans s
    WHERE s.status IN ('completed', 'failed', 'cancelled') AND s.created_at < @cutoff::timestamptz
      AND s.created_at >= @after_created_at::timestamptz
      AND (s.created_at > @after_created_at::timestamptz OR s.id > @after_id::uuid)
    ORDER BY s.created_at, s.id
    LIMIT @batch_size
), deleted AS (
    DELETE FROM scans s USING candidates c
    WHERE s.id = c.id AND NOT (
        EXISTS (SELECT 1 FROM rule_transitions t
                JOIN rule_states r ON r.host_id = t.host_id AND r.rule_id = t.rule_id AND r.scan_id = t.scan_id
                WHERE t.scan_id = c.id)
        OR EXISTS (SELECT 1 FROM rule_states r WHERE r.host_id = c.host_id AND r.scan_id = c.id))
    RETURNING s.id
), last AS (
    SELECT c.created_at, c.id FROM candidates c ORDER BY c.created_at DESC, c.id DESC LIMIT 1
)
SELECT (SELECT count(*) FROM candidates)::bigint AS examined,
    (SELECT count(*) FROM deleted)::bigint AS deleted,
    COALESCE((SELECT created_at FROM last), @after_created_at::timestamptz)::timestamptz AS last_created_at,
    COALESCE((SELECT id FROM last), @after_id::uuid)::uuid AS last_id;

-- name: EvidenceRetentionCandidates :many
-- EvidenceRetentionCandidates returns up to @row_limit evidence rows stored before
-- @cutoff that no current result uses and no transition since @cutoff uses. Reading them
-- locks nothing; EvidenceRetentionDelete deletes them in batches.
SELECT e.hash FROM evidence e
WHERE e.created_at < @cutoff::timestamptz
  AND NOT EXISTS (SELECT 1 FROM rule_states r WHERE r.evidence_hash = e.hash)
  AND NOT EXISTS (SELECT 1 FROM rule_transitions t WHERE t.evidence_hash = e.hash AND t.occurred_at >= @cutoff::timestamptz)
LIMIT @row_limit;

-- name: EvidenceRetentionDelete :execrows
-- EvidenceRetentionDelete deletes the given evidence rows still stored before @cutoff. A
-- scan that uses one of them again since EvidenceRetentionCandidates read it has moved
-- its created_at forward (EvidenceInsert), so it is kept; a scan doing so right now holds
-- its row until it commits, and the recheck then keeps it too.
DELETE FROM evidence WHERE hash = ANY(@hashes::bytea[]) AND created_at < @cutoff::timestamptz;
