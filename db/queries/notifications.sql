-- name: NotifyChannelInsert :one
INSERT INTO notification_channels (
    id, name, type, enabled, config, secret_sealed, min_severity, alert_types, host_tags, group_ids,
    created_by, created_at, updated_at
) VALUES (
    @id, @name, @type, @enabled, @config, sqlc.narg(secret_sealed), @min_severity, @alert_types, @host_tags, @group_ids,
    @created_by, @now, @now
)
RETURNING *;

-- name: NotifyChannelGet :one
SELECT * FROM notification_channels WHERE id = @id AND deleted_at IS NULL;

-- name: NotifyChannelGetForUpdate :one
SELECT * FROM notification_channels WHERE id = @id AND deleted_at IS NULL FOR UPDATE;

-- name: NotifyChannelGetAny :one
-- NotifyChannelGetAny returns a channel even when it is deleted, for a delivery queued before.
SELECT * FROM notification_channels WHERE id = @id;

-- name: NotifyChannelList :many
SELECT * FROM notification_channels
WHERE deleted_at IS NULL AND (sqlc.narg(after)::uuid IS NULL OR id > sqlc.narg(after)::uuid)
ORDER BY id
LIMIT @row_limit;

-- name: NotifyChannelListEnabled :many
SELECT * FROM notification_channels WHERE deleted_at IS NULL AND enabled ORDER BY id;

-- name: NotifyChannelUpdate :one
UPDATE notification_channels
SET name = @name, enabled = @enabled, config = @config, secret_sealed = sqlc.narg(secret_sealed),
    min_severity = @min_severity, alert_types = @alert_types, host_tags = @host_tags, group_ids = @group_ids,
    updated_at = @now
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: NotifyChannelSoftDelete :execrows
UPDATE notification_channels SET deleted_at = @now::timestamptz, updated_at = @now::timestamptz, enabled = false
WHERE id = @id AND deleted_at IS NULL;

-- name: NotifyHostGroup :many
-- NotifyHostGroup returns the group of host @host_id (no row, or a null, when it has none).
SELECT group_id FROM hosts WHERE id = @host_id;

-- name: NotifyDeliveryInsert :one
INSERT INTO notification_deliveries (id, channel_id, alert_id, transition, severity, title, payload, status, created_at, updated_at)
VALUES (@id, @channel_id, sqlc.narg(alert_id), @transition, @severity, @title, @payload, @status, @now, @now)
RETURNING *;

-- name: NotifyDeliveryInsertReport :one
-- NotifyDeliveryInsertReport records a scheduled report's delivery through a channel.
INSERT INTO notification_deliveries (id, channel_id, report_id, transition, severity, title, payload, status, created_at, updated_at)
VALUES (@id, @channel_id, @report_id, 'report', 'info', @title, @payload, 'pending', @now, @now)
RETURNING *;

-- name: NotifyDeliveryGet :one
SELECT * FROM notification_deliveries WHERE id = @id;

-- name: NotifyDeliveryGetForUpdate :one
SELECT * FROM notification_deliveries WHERE id = @id FOR UPDATE;

-- name: NotifyDeliveryList :many
SELECT * FROM notification_deliveries
WHERE (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status)::text)
  AND (sqlc.narg(channel_id)::uuid IS NULL OR channel_id = sqlc.narg(channel_id)::uuid)
  AND (sqlc.narg(after)::uuid IS NULL OR id < sqlc.narg(after)::uuid)
ORDER BY id DESC
LIMIT @row_limit;

-- name: NotifyDeliveryRecord :one
-- NotifyDeliveryRecord stores the outcome of one attempt.
UPDATE notification_deliveries
SET status = @status, attempts = attempts + 1, last_error = sqlc.narg(last_error), updated_at = @now,
    delivered_at = CASE WHEN @status = 'delivered' THEN @now ELSE delivered_at END
WHERE id = @id
RETURNING *;

-- name: NotifyDeliveryRequeue :one
UPDATE notification_deliveries SET status = 'pending', updated_at = @now WHERE id = @id
RETURNING *;

-- The sealed column of notification_channels, for `openwatch rekey`.

-- name: RekeyNotifyChannelSecretList :many
SELECT id, secret_sealed AS sealed FROM notification_channels
WHERE secret_sealed IS NOT NULL ORDER BY id FOR UPDATE;

-- name: RekeyNotifyChannelSecretSet :exec
UPDATE notification_channels SET secret_sealed = @sealed WHERE id = @id;
