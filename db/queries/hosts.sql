-- name: HostInsert :one
-- HostInsert creates a host and returns it as live_hosts shows it (the same columns and
-- effective_maintenance expression as 00019_live_hosts_group_lookup.sql), without a
-- second round trip to read it back.
WITH h AS (
    INSERT INTO hosts (id, hostname, ip_address, port, display_name, description, environment, tags, group_id, username, created_by)
    VALUES (@id, @hostname, @ip_address, @port, @display_name, @description, @environment, @tags, @group_id, @username, @created_by)
    RETURNING *
)
SELECT h.*,
       (h.maintenance_mode OR (h.group_id IS NOT NULL AND COALESCE(
           (SELECT g.maintenance_mode FROM host_groups g WHERE g.id = h.group_id), false)))::boolean AS effective_maintenance
FROM h;

-- name: HostGet :one
-- HostGet returns a live host with its effective maintenance mode.
SELECT * FROM live_hosts WHERE id = @id;

-- name: HostList :many
-- HostList returns live hosts in id order after the cursor, filtered; every filter is
-- served by an index of 00007_hosts.sql. Each comes with its compliance rollup over every
-- rule, as HostDetailGet reads it (has_compliance false and zeros before its first scan).
SELECT sqlc.embed(h), (c.host_id IS NOT NULL)::boolean AS has_compliance,
    COALESCE(c.pass_count, 0)::int AS compliance_pass, COALESCE(c.fail_count, 0)::int AS compliance_fail,
    COALESCE(c.skipped_count, 0)::int AS compliance_skipped, COALESCE(c.error_count, 0)::int AS compliance_error,
    COALESCE(c.critical_failing, 0)::int AS compliance_critical, COALESCE(c.excepted_count, 0)::int AS compliance_excepted
FROM live_hosts h
LEFT JOIN host_compliance c ON c.host_id = h.id AND c.framework = 'all'
WHERE (sqlc.narg(after)::uuid IS NULL OR h.id > sqlc.narg(after)::uuid)
  AND (sqlc.narg(environment)::text IS NULL OR h.environment = sqlc.narg(environment)::text)
  AND (sqlc.narg(tag)::text IS NULL OR h.tags @> ARRAY[sqlc.narg(tag)::text])
  AND (sqlc.narg(group_id)::uuid IS NULL OR h.group_id = sqlc.narg(group_id)::uuid)
  AND (sqlc.narg(q)::text IS NULL OR h.hostname ILIKE '%' || sqlc.narg(q)::text || '%'
       OR h.display_name ILIKE '%' || sqlc.narg(q)::text || '%' OR host(h.ip_address) LIKE sqlc.narg(q)::text || '%')
  AND (sqlc.narg(maintenance)::boolean IS NULL OR h.effective_maintenance = sqlc.narg(maintenance)::boolean)
ORDER BY h.id
LIMIT @row_limit;

-- name: HostUpdate :one
UPDATE hosts SET
    ip_address = COALESCE(sqlc.narg(ip_address)::inet, ip_address),
    port = COALESCE(sqlc.narg(port)::integer, port),
    display_name = COALESCE(sqlc.narg(display_name)::text, display_name),
    description = COALESCE(sqlc.narg(description)::text, description),
    environment = COALESCE(sqlc.narg(environment)::text, environment),
    tags = COALESCE(sqlc.narg(tags)::text[], tags),
    group_id = CASE WHEN @set_group::boolean THEN sqlc.narg(group_id)::uuid ELSE group_id END,
    username = COALESCE(sqlc.narg(username)::text, username),
    updated_at = now()
WHERE id = @id AND deleted_at IS NULL
RETURNING id;

-- name: HostSetMaintenance :execrows
UPDATE hosts SET maintenance_mode = @enabled, updated_at = now() WHERE id = @id AND deleted_at IS NULL;

-- name: HostSoftDelete :execrows
UPDATE hosts SET deleted_at = now(), updated_at = now() WHERE id = @id AND deleted_at IS NULL;

-- name: HostGroupExists :one
SELECT EXISTS (SELECT 1 FROM host_groups WHERE id = @id);

-- name: HostLivenessSummaries :many
-- HostLivenessSummaries returns, for the hosts of a list page, the part of their liveness
-- that changes only on a state transition (which clears cached pages; 00013_liveness.sql).
-- Hosts never probed have no row here.
SELECT host_id, monitoring_state, reachability_status, last_state_change_at
FROM host_liveness
WHERE host_id = ANY (@host_ids::uuid[]) AND (monitoring_state <> 'unknown' OR last_probe_at IS NOT NULL);

-- name: HostDetailGet :one
-- HostDetailGet returns a live host with its liveness row and its compliance rollup over
-- every rule (zeros before its first scan) in one round trip: every live
-- host has one, made with it (host_liveness_create of 00013_liveness.sql). The server
-- keeps one generic plan for it; HostDetailList, whose plan depends on how many ids it
-- gets, is planned on every call, which costs more than reading one row.
SELECT sqlc.embed(h), sqlc.embed(l),
    COALESCE(c.pass_count, 0)::int AS compliance_pass, COALESCE(c.fail_count, 0)::int AS compliance_fail,
    COALESCE(c.skipped_count, 0)::int AS compliance_skipped, COALESCE(c.error_count, 0)::int AS compliance_error,
    COALESCE(c.critical_failing, 0)::int AS compliance_critical, COALESCE(c.excepted_count, 0)::int AS compliance_excepted
FROM live_hosts h JOIN host_liveness l ON l.host_id = h.id
LEFT JOIN host_compliance c ON c.host_id = h.id AND c.framework = 'all'
WHERE h.id = @id;

-- name: HostDetailList :many
-- HostDetailList is HostDetailGet for the host details asked at about the same time
-- (host.Service.Detail).
SELECT sqlc.embed(h), sqlc.embed(l),
    COALESCE(c.pass_count, 0)::int AS compliance_pass, COALESCE(c.fail_count, 0)::int AS compliance_fail,
    COALESCE(c.skipped_count, 0)::int AS compliance_skipped, COALESCE(c.error_count, 0)::int AS compliance_error,
    COALESCE(c.critical_failing, 0)::int AS compliance_critical, COALESCE(c.excepted_count, 0)::int AS compliance_excepted
FROM live_hosts h JOIN host_liveness l ON l.host_id = h.id
LEFT JOIN host_compliance c ON c.host_id = h.id AND c.framework = 'all'
WHERE h.id = ANY (@ids::uuid[]);
