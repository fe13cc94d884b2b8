-- name: AlertRaise :one
-- AlertRaise inserts an alert, or, when an alert of the same dedup key is live (active,
-- acknowledged or silenced), counts one more occurrence of it and takes the new title,
-- body, severity and tags. inserted says which.
INSERT INTO alerts (id, dedup_key, alert_type, severity, host_id, rule_id, title, body, tags,
                    suppressed, occurred_at, last_occurred_at, created_at, updated_at)
VALUES (@id, @dedup_key, @alert_type, @severity, sqlc.narg(host_id), sqlc.narg(rule_id), @title, @body, @tags,
        @suppressed, @at::timestamptz, @at::timestamptz, @at::timestamptz, @at::timestamptz)
ON CONFLICT (dedup_key) WHERE state IN ('active', 'acknowledged', 'silenced')
DO UPDATE SET occurrence_count = alerts.occurrence_count + 1,
              last_occurred_at = EXCLUDED.last_occurred_at,
              severity = EXCLUDED.severity, title = EXCLUDED.title, body = EXCLUDED.body,
              tags = EXCLUDED.tags, suppressed = EXCLUDED.suppressed,
              updated_at = EXCLUDED.updated_at
RETURNING alerts.*, (xmax = 0)::boolean AS inserted;

-- name: AlertGetByID :one
SELECT * FROM alerts WHERE id = @id;

-- name: AlertGetForUpdate :one
SELECT * FROM alerts WHERE id = @id FOR UPDATE;

-- name: AlertLiveByKeys :many
-- AlertLiveByKeys returns the live (active, acknowledged or silenced) alerts of the dedup
-- keys: at most one each.
SELECT * FROM alerts
WHERE dedup_key = ANY(@dedup_keys::text[]) AND state IN ('active', 'acknowledged', 'silenced');

-- name: AlertSetState :one
-- AlertSetState writes a transition the service has checked (the row is locked).
UPDATE alerts SET state = @state,
    acknowledged_by = sqlc.narg(acknowledged_by), acknowledged_at = sqlc.narg(acknowledged_at),
    silenced_by = sqlc.narg(silenced_by), silenced_until = sqlc.narg(silenced_until),
    resolved_by = sqlc.narg(resolved_by), resolved_at = sqlc.narg(resolved_at),
    dismissed_by = sqlc.narg(dismissed_by), dismissed_at = sqlc.narg(dismissed_at),
    updated_at = @at::timestamptz
WHERE id = @id
RETURNING *;

-- name: AlertAutoResolve :many
-- AlertAutoResolve resolves the live alert of a dedup key (its condition cleared).
UPDATE alerts SET state = 'resolved', resolved_at = @at::timestamptz, resolved_by = NULL,
    silenced_until = NULL, updated_at = @at::timestamptz
WHERE dedup_key = @dedup_key AND state IN ('active', 'acknowledged', 'silenced')
RETURNING *;

-- name: AlertUnsilenceDue :many
-- AlertUnsilenceDue returns to active the silenced alerts whose silence has run out.
UPDATE alerts SET state = 'active', silenced_until = NULL, updated_at = @at::timestamptz
WHERE state = 'silenced' AND silenced_until <= @at::timestamptz
RETURNING *;

-- name: AlertList :many
-- AlertList pages alerts newest first (ids are UUIDv7) under optional filters.
SELECT * FROM alerts
WHERE (sqlc.narg(state)::text IS NULL OR state = sqlc.narg(state))
  AND (sqlc.narg(host_id)::uuid IS NULL OR host_id = sqlc.narg(host_id))
  AND (sqlc.narg(severity)::text IS NULL OR severity = sqlc.narg(severity))
  AND (sqlc.narg(since)::timestamptz IS NULL OR last_occurred_at >= sqlc.narg(since))
  AND (sqlc.narg(until)::timestamptz IS NULL OR occurred_at < sqlc.narg(until))
  AND (sqlc.narg(before_id)::uuid IS NULL OR id < sqlc.narg(before_id))
ORDER BY id DESC
LIMIT @row_limit;

-- name: AlertHostInMaintenance :one
-- AlertHostInMaintenance reports whether a live host is in maintenance (its own or its
-- group's); no row when the host is gone.
SELECT effective_maintenance FROM live_hosts WHERE id = @id;
