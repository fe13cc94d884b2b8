-- name: HealthCheckInsert :one
INSERT INTO health_checks (id, name, kind, params, timeout_sec, retries, retry_delay_sec, enabled, created_by,
    created_at, updated_at)
VALUES (@id, @name, @kind, @params, @timeout_sec, @retries, @retry_delay_sec, @enabled, @created_by, @now, @now)
RETURNING *;

-- name: HealthCheckGet :one
SELECT * FROM health_checks WHERE id = @id AND deleted_at IS NULL;

-- name: HealthCheckGetForUpdate :one
SELECT * FROM health_checks WHERE id = @id AND deleted_at IS NULL FOR UPDATE;

-- name: HealthCheckListByIDs :many
-- HealthCheckListByIDs returns the live checks among @ids, in no particular order.
SELECT * FROM health_checks WHERE id = ANY(@ids::uuid[]) AND deleted_at IS NULL;

-- name: HealthCheckList :many
SELECT * FROM health_checks
WHERE deleted_at IS NULL AND (sqlc.narg(after)::uuid IS NULL OR id > sqlc.narg(after)::uuid)
ORDER BY id
LIMIT @row_limit;

-- name: HealthCheckUpdate :one
UPDATE health_checks
SET name = @name, params = @params, timeout_sec = @timeout_sec, retries = @retries,
    retry_delay_sec = @retry_delay_sec, enabled = @enabled, updated_at = @now
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: HealthCheckSoftDelete :execrows
UPDATE health_checks SET deleted_at = @now::timestamptz, updated_at = @now::timestamptz
WHERE id = @id AND deleted_at IS NULL;

-- name: HealthCheckRecordTest :one
-- HealthCheckRecordTest stores the outcome of a manual test.
UPDATE health_checks
SET last_tested_at = @tested_at, last_host_id = @host_id, last_ok = @ok, last_detail = @detail,
    last_output = @output, last_duration_ms = @duration_ms, last_attempts = @attempts
WHERE id = @id AND deleted_at IS NULL
RETURNING *;
