-- name: MaintenanceWindowInsert :one
INSERT INTO maintenance_windows (id, host_id, group_id, name, time_zone, start_minute, duration_minutes,
    recurrence, once_date, days_of_week, week_of_month, day_of_week, enabled, created_by)
VALUES (@id, sqlc.narg(host_id), sqlc.narg(group_id), @name, @time_zone, @start_minute, @duration_minutes,
    @recurrence, sqlc.narg(once_date), @days_of_week, sqlc.narg(week_of_month), sqlc.narg(day_of_week), @enabled, @created_by)
RETURNING *;

-- MaintenanceWindowGet returns a window of a group or of a live host: a deleted host's
-- windows are gone with it.
-- name: MaintenanceWindowGet :one
SELECT w.* FROM maintenance_windows w
WHERE w.id = @id AND (w.host_id IS NULL OR EXISTS (SELECT 1 FROM live_hosts h WHERE h.id = w.host_id));

-- name: MaintenanceWindowGetForUpdate :one
SELECT w.* FROM maintenance_windows w
WHERE w.id = @id AND (w.host_id IS NULL OR EXISTS (SELECT 1 FROM live_hosts h WHERE h.id = w.host_id))
FOR UPDATE OF w;

-- MaintenanceWindowLockOwner serialises window creation for one host or group (keyed by its
-- id) until the transaction ends, so the per-owner cap holds under concurrent creates.
-- name: MaintenanceWindowLockOwner :exec
SELECT pg_advisory_xact_lock(hashtextextended(sqlc.arg(owner_id)::uuid::text, 0));

-- name: MaintenanceWindowCountForOwner :one
SELECT count(*) FROM maintenance_windows WHERE host_id = sqlc.narg(host_id) OR group_id = sqlc.narg(group_id);

-- name: MaintenanceWindowUpdate :one
UPDATE maintenance_windows SET name = @name, time_zone = @time_zone, start_minute = @start_minute,
    duration_minutes = @duration_minutes, recurrence = @recurrence, once_date = sqlc.narg(once_date),
    days_of_week = @days_of_week, week_of_month = sqlc.narg(week_of_month), day_of_week = sqlc.narg(day_of_week),
    enabled = @enabled, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: MaintenanceWindowDelete :execrows
DELETE FROM maintenance_windows WHERE id = @id;

-- name: MaintenanceWindowListForHost :many
SELECT * FROM maintenance_windows WHERE host_id = @host_id ORDER BY id;

-- name: MaintenanceWindowListForGroup :many
SELECT * FROM maintenance_windows WHERE group_id = @group_id ORDER BY id;

-- MaintenanceWindowListEffective returns the windows that apply to a live host: its own and
-- its group's.
-- name: MaintenanceWindowListEffective :many
SELECT w.* FROM maintenance_windows w
WHERE w.host_id = @host_id
   OR w.group_id = (SELECT h.group_id FROM live_hosts h WHERE h.id = @host_id)
ORDER BY w.id;

-- name: MaintenanceWindowGroupExists :one
SELECT EXISTS (SELECT 1 FROM host_groups WHERE id = @id);
