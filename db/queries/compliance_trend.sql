-- name: HostRuleStatesPage :many
-- HostRuleStatesPage pages a host's current results by rule id: of @rule_ids (every rule
-- the host has a result for when null), optionally of one status and one severity, after
-- the cursor's rule id. The primary key (host_id, rule_id) serves the order.
SELECT rule_id, status, severity, reason, scan_id, changed_at, first_seen_at, exception_id
FROM rule_states
WHERE host_id = @host_id
  AND (sqlc.narg(rule_ids)::text[] IS NULL OR rule_id = ANY(sqlc.narg(rule_ids)::text[]))
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status)::text)
  AND (sqlc.narg(severity)::text IS NULL OR severity = sqlc.narg(severity)::text)
  AND (sqlc.narg(after)::text IS NULL OR rule_id > sqlc.narg(after)::text)
ORDER BY rule_id
LIMIT @row_limit;

-- name: HostRuleStatesPageAt :many
-- HostRuleStatesPageAt is HostRuleStatesPage as of an instant: each rule's latest
-- transition at or before @at (as ScanResultsAt reads them), the filters applied to that
-- result, and first_seen_at the time of the rule's first transition on the host. The
-- index (host_id, rule_id, occurred_at DESC, id DESC) serves both.
SELECT t.rule_id, t.status, t.severity, t.reason, t.scan_id, t.occurred_at AS changed_at,
    (SELECT min(f.occurred_at) FROM rule_transitions f
     WHERE f.host_id = @host_id AND f.rule_id = t.rule_id)::timestamptz AS first_seen_at, t.exception_id
FROM (
    SELECT DISTINCT ON (r.rule_id) r.rule_id, r.status, r.severity, r.reason, r.scan_id, r.occurred_at, r.exception_id
    FROM rule_transitions r
    WHERE r.host_id = @host_id AND r.occurred_at <= @at
      AND (sqlc.narg(rule_ids)::text[] IS NULL OR r.rule_id = ANY(sqlc.narg(rule_ids)::text[]))
      AND (sqlc.narg(after)::text IS NULL OR r.rule_id > sqlc.narg(after)::text)
    ORDER BY r.rule_id, r.occurred_at DESC, r.id DESC
) t
WHERE (sqlc.narg(status)::text IS NULL OR t.status = sqlc.narg(status)::text)
  AND (sqlc.narg(severity)::text IS NULL OR t.severity = sqlc.narg(severity)::text)
ORDER BY t.rule_id
LIMIT @row_limit;

-- name: HostComplianceTrend :many
-- HostComplianceTrend returns, at each of @ends, the host's rollup for a framework as it
-- stood then: the latest history row at or before it (one probe of the primary key per
-- end), zeros before the first.
SELECT e.at::timestamptz AS at, COALESCE(h.pass_count, 0)::bigint AS pass, COALESCE(h.fail_count, 0)::bigint AS fail,
    COALESCE(h.skipped_count, 0)::bigint AS skipped, COALESCE(h.error_count, 0)::bigint AS errors,
    COALESCE(h.excepted_count, 0)::bigint AS excepted
FROM (SELECT unnest(@ends::timestamptz[]) AS at) e
LEFT JOIN LATERAL (
    SELECT hh.pass_count, hh.fail_count, hh.skipped_count, hh.error_count, hh.excepted_count
    FROM host_compliance_history hh
    WHERE hh.host_id = @host_id AND hh.framework = @framework AND hh.valid_from <= e.at
    ORDER BY hh.valid_from DESC
    LIMIT 1
) h ON true
ORDER BY e.at;

-- name: FleetComplianceTrend :many
-- FleetComplianceTrend is HostComplianceTrend over the fleet's recorded totals.
SELECT e.at::timestamptz AS at, COALESCE(h.pass_count, 0)::bigint AS pass, COALESCE(h.fail_count, 0)::bigint AS fail,
    COALESCE(h.skipped_count, 0)::bigint AS skipped, COALESCE(h.error_count, 0)::bigint AS errors,
    COALESCE(h.excepted_count, 0)::bigint AS excepted
FROM (SELECT unnest(@ends::timestamptz[]) AS at) e
LEFT JOIN LATERAL (
    SELECT fh.pass_count, fh.fail_count, fh.skipped_count, fh.error_count, fh.excepted_count
    FROM fleet_compliance_history fh
    WHERE fh.framework = @framework AND fh.at <= e.at
    ORDER BY fh.at DESC
    LIMIT 1
) h ON true
ORDER BY e.at;

-- name: FleetComplianceSnapshot :many
-- FleetComplianceSnapshot records, under @at (a minute), the totals of every framework of
-- fleet_compliance (its shards summed, as FleetComplianceTotals does) that differ from the
-- framework's latest recorded row or have none. A second record within the same minute
-- replaces the first: a row holds the totals after the last change of its minute.
INSERT INTO fleet_compliance_history (framework, at, pass_count, fail_count, skipped_count, error_count, excepted_count)
SELECT t.framework, @at::timestamptz, t.pass, t.fail, t.skipped, t.errors, t.excepted
FROM (
    SELECT framework, sum(pass_count)::bigint AS pass, sum(fail_count)::bigint AS fail,
        sum(skipped_count)::bigint AS skipped, sum(error_count)::bigint AS errors,
        sum(excepted_count)::bigint AS excepted
    FROM fleet_compliance
    GROUP BY framework
) t
LEFT JOIN LATERAL (
    SELECT l.pass_count, l.fail_count, l.skipped_count, l.error_count, l.excepted_count
    FROM fleet_compliance_history l
    WHERE l.framework = t.framework
    ORDER BY l.at DESC
    LIMIT 1
) last ON true
WHERE last.pass_count IS NULL
   OR (last.pass_count, last.fail_count, last.skipped_count, last.error_count, last.excepted_count)
      <> (t.pass, t.fail, t.skipped, t.errors, t.excepted)
ON CONFLICT (framework, at) DO UPDATE SET pass_count = EXCLUDED.pass_count, fail_count = EXCLUDED.fail_count,
    skipped_count = EXCLUDED.skipped_count, error_count = EXCLUDED.error_count,
    excepted_count = EXCLUDED.excepted_count
RETURNING framework, pass_count, fail_count;

-- name: FleetScoreHighSince :one
-- FleetScoreHighSince is the highest passing fraction among a framework's recorded fleet
-- totals from @since on, the record in force at @since included; -1 when none had a pass
-- or a fail. The primary key (framework, at) serves both reads.
SELECT COALESCE(max(h.pass_count::float8 / (h.pass_count + h.fail_count)), -1)::float8 AS high
FROM fleet_compliance_history h
WHERE h.framework = @framework AND h.pass_count + h.fail_count > 0
  AND h.at >= COALESCE((SELECT l.at FROM fleet_compliance_history l
                        WHERE l.framework = @framework AND l.at <= @since::timestamptz
                        ORDER BY l.at DESC LIMIT 1), @since::timestamptz);
