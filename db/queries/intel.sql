-- name: IntelHostSetOS :execrows
-- IntelHostSetOS copies discovered OS fields onto a live host, only when one changed (or
-- the host was never discovered), so unchanged discoveries do not touch the inventory.
UPDATE hosts SET
    os_family = sqlc.narg(os_family)::text,
    os_version = sqlc.narg(os_version)::text,
    architecture = sqlc.narg(architecture)::text,
    platform_identifier = sqlc.narg(platform_identifier)::text,
    os_discovered_at = @discovered_at,
    updated_at = now()
WHERE id = @id AND deleted_at IS NULL
  AND (os_discovered_at IS NULL
       OR os_family IS DISTINCT FROM sqlc.narg(os_family)::text
       OR os_version IS DISTINCT FROM sqlc.narg(os_version)::text
       OR architecture IS DISTINCT FROM sqlc.narg(architecture)::text
       OR platform_identifier IS DISTINCT FROM sqlc.narg(platform_identifier)::text);

-- name: IntelHostExists :one
SELECT EXISTS (SELECT 1 FROM live_hosts WHERE id = @id);

-- name: IntelSystemInfoGet :one
SELECT * FROM host_system_info WHERE host_id = @host_id;

-- name: IntelSystemInfoLock :one
-- IntelSystemInfoLock returns the content hash of the stored row, locking it.
SELECT content_hash FROM host_system_info WHERE host_id = @host_id FOR UPDATE;

-- name: IntelSystemInfoTouch :exec
-- IntelSystemInfoTouch records a discovery that found the same facts: only the time and the
-- fields that change all the time (free memory and disk) move.
UPDATE host_system_info SET collected_at = @collected_at, mem_available_mb = @mem_available_mb,
    disk_used_gb = @disk_used_gb, disk_free_gb = @disk_free_gb
WHERE host_id = @host_id;

-- name: IntelSystemInfoUpsert :exec
INSERT INTO host_system_info (host_id, os_name, os_version, os_version_full, os_id, os_id_like, os_pretty_name,
    platform_identifier, os_family, kernel_name, kernel_release, kernel_version, architecture, mem_total_mb,
    mem_available_mb, swap_total_mb, disk_total_gb, disk_used_gb, disk_free_gb, hostname, fqdn, selinux_status,
    apparmor_enabled, firewall_service, firewall_status, content_hash, collected_at, changed_at)
VALUES (@host_id, @os_name, @os_version, @os_version_full, @os_id, @os_id_like, @os_pretty_name,
    @platform_identifier, @os_family, @kernel_name, @kernel_release, @kernel_version, @architecture, @mem_total_mb,
    @mem_available_mb, @swap_total_mb, @disk_total_gb, @disk_used_gb, @disk_free_gb, @hostname, @fqdn, @selinux_status,
    @apparmor_enabled, @firewall_service, @firewall_status, @content_hash, @collected_at, @collected_at)
ON CONFLICT (host_id) DO UPDATE SET
    os_name = EXCLUDED.os_name, os_version = EXCLUDED.os_version, os_version_full = EXCLUDED.os_version_full,
    os_id = EXCLUDED.os_id, os_id_like = EXCLUDED.os_id_like, os_pretty_name = EXCLUDED.os_pretty_name,
    platform_identifier = EXCLUDED.platform_identifier, os_family = EXCLUDED.os_family,
    kernel_name = EXCLUDED.kernel_name, kernel_release = EXCLUDED.kernel_release,
    kernel_version = EXCLUDED.kernel_version, architecture = EXCLUDED.architecture,
    mem_total_mb = EXCLUDED.mem_total_mb, mem_available_mb = EXCLUDED.mem_available_mb,
    swap_total_mb = EXCLUDED.swap_total_mb, disk_total_gb = EXCLUDED.disk_total_gb,
    disk_used_gb = EXCLUDED.disk_used_gb, disk_free_gb = EXCLUDED.disk_free_gb, hostname = EXCLUDED.hostname,
    fqdn = EXCLUDED.fqdn, selinux_status = EXCLUDED.selinux_status, apparmor_enabled = EXCLUDED.apparmor_enabled,
    firewall_service = EXCLUDED.firewall_service, firewall_status = EXCLUDED.firewall_status,
    content_hash = EXCLUDED.content_hash, collected_at = EXCLUDED.collected_at, changed_at = EXCLUDED.changed_at;

-- name: IntelCategoriesLock :many
-- IntelCategoriesLock returns a host's stored categories, locking them for the write of a
-- new collection.
SELECT * FROM host_intel_categories WHERE host_id = @host_id ORDER BY category FOR UPDATE;

-- name: IntelCategoriesGet :many
SELECT * FROM host_intel_categories WHERE host_id = @host_id ORDER BY category;

-- name: IntelCategoryTouch :exec
-- IntelCategoryTouch records a collection that found the stored value again.
UPDATE host_intel_categories SET collected_at = @collected_at, fresh = @fresh, error = @error
WHERE host_id = @host_id AND category = @category;

-- name: IntelCategoryUpsert :exec
INSERT INTO host_intel_categories (host_id, category, value, value_hash, collected_at, changed_at, fresh, error)
VALUES (@host_id, @category, @value, @value_hash, @collected_at, @changed_at, @fresh, @error)
ON CONFLICT (host_id, category) DO UPDATE SET
    value = EXCLUDED.value, value_hash = EXCLUDED.value_hash, collected_at = EXCLUDED.collected_at,
    changed_at = EXCLUDED.changed_at, fresh = EXCLUDED.fresh, error = EXCLUDED.error;

-- name: IntelEventInsert :exec
INSERT INTO intelligence_events (id, host_id, event_code, severity, detail, occurred_at, detected_at, correlation_id)
VALUES (@id, @host_id, @event_code, @severity, @detail, @occurred_at, @detected_at, @correlation_id);

-- name: IntelEventList :many
-- IntelEventList returns events newest first, before the (occurred_at, id) cursor.
SELECT * FROM intelligence_events
WHERE (sqlc.narg(host_id)::uuid IS NULL OR host_id = sqlc.narg(host_id)::uuid)
  AND (sqlc.narg(event_code)::text IS NULL OR event_code = sqlc.narg(event_code)::text)
  AND (sqlc.narg(severity)::text IS NULL OR severity = sqlc.narg(severity)::text)
  AND (sqlc.narg(since)::timestamptz IS NULL OR occurred_at >= sqlc.narg(since)::timestamptz)
  AND (sqlc.narg(until)::timestamptz IS NULL OR occurred_at < sqlc.narg(until)::timestamptz)
  AND (sqlc.narg(before_at)::timestamptz IS NULL
       OR (occurred_at, id) < (sqlc.narg(before_at)::timestamptz, sqlc.narg(before_id)::uuid))
ORDER BY occurred_at DESC, id DESC
LIMIT @row_limit;

-- name: IntelDueForCollection :many
-- IntelDueForCollection returns schedulable hosts whose last collection attempt is older
-- than the cutoff (never tried first), most overdue first.
SELECT id FROM intel_schedulable_hosts
WHERE intel_attempted_at IS NULL OR intel_attempted_at < @cutoff::timestamptz
ORDER BY intel_attempted_at ASC NULLS FIRST, id
LIMIT @row_limit;

-- name: IntelDueForSystemInfo :many
-- IntelDueForSystemInfo returns schedulable hosts due for discovery, most overdue first:
-- hosts whose last discovery attempt (or, never tried, whose creation) is older than the
-- cutoff, and, with first_contact, hosts never discovered that were not tried since
-- retry_cutoff.
SELECT id FROM intel_schedulable_hosts
WHERE COALESCE(discovery_attempted_at, created_at) < @cutoff::timestamptz
   OR (@first_contact::boolean AND os_discovered_at IS NULL
       AND (discovery_attempted_at IS NULL OR discovery_attempted_at < @retry_cutoff::timestamptz))
ORDER BY COALESCE(discovery_attempted_at, created_at), id
LIMIT @row_limit;

-- name: IntelSweepHosts :many
-- IntelSweepHosts returns every live host out of maintenance.
SELECT id FROM live_hosts WHERE NOT effective_maintenance ORDER BY id;

-- name: IntelScheduleMarkIntel :exec
-- IntelScheduleMarkIntel records that collections of the hosts were tried or queued, so
-- the scheduler does not pick them again before their interval has passed.
INSERT INTO host_intel_schedule (host_id, intel_attempted_at)
SELECT unnest(@host_ids::uuid[]), @at::timestamptz
ON CONFLICT (host_id) DO UPDATE SET intel_attempted_at = EXCLUDED.intel_attempted_at;

-- name: IntelScheduleMarkSystemInfo :exec
-- IntelScheduleMarkSystemInfo records that discoveries of the hosts were tried or queued.
INSERT INTO host_intel_schedule (host_id, discovery_attempted_at)
SELECT unnest(@host_ids::uuid[]), @at::timestamptz
ON CONFLICT (host_id) DO UPDATE SET discovery_attempted_at = EXCLUDED.discovery_attempted_at;
