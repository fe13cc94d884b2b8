-- name: ActivityList :many
-- ActivityList is the activity feed (view activity_feed), newest first on
-- (occurred_at, id), before the cursor, for the sources included (by filter and
-- permission).
SELECT x.id, x.source, x.severity, x.host_id, x.title, x.summary, x.occurred_at, x.detail
FROM activity_feed x
WHERE ((x.source = 'alert' AND @include_alert::boolean) OR (x.source = 'intelligence' AND @include_intel::boolean)
       OR (x.source = 'monitoring' AND @include_monitoring::boolean) OR (x.source = 'audit' AND @include_audit::boolean))
  AND (sqlc.narg(host_id)::uuid IS NULL OR x.host_id = sqlc.narg(host_id)::uuid)
  AND (sqlc.narg(severity)::text IS NULL OR x.severity = sqlc.narg(severity)::text)
  AND (sqlc.narg(since)::timestamptz IS NULL OR x.occurred_at >= sqlc.narg(since)::timestamptz)
  AND (sqlc.narg(until)::timestamptz IS NULL OR x.occurred_at < sqlc.narg(until)::timestamptz)
  AND (sqlc.narg(before_at)::timestamptz IS NULL OR (x.occurred_at, x.id) < (sqlc.narg(before_at)::timestamptz, sqlc.narg(before_id)::uuid))
ORDER BY x.occurred_at DESC, x.id DESC
LIMIT @row_limit;

-- name: ActivityCount :one
-- ActivityCount counts the feed's items between the (after_at, after_id) position
-- (inclusive) and the cursor (exclusive), for the sources included; the feed uses it for
-- the items a caller may not see.
SELECT count(*) FROM activity_feed x
WHERE ((x.source = 'alert' AND @include_alert::boolean) OR (x.source = 'intelligence' AND @include_intel::boolean)
       OR (x.source = 'monitoring' AND @include_monitoring::boolean) OR (x.source = 'audit' AND @include_audit::boolean))
  AND (sqlc.narg(host_id)::uuid IS NULL OR x.host_id = sqlc.narg(host_id)::uuid)
  AND (sqlc.narg(severity)::text IS NULL OR x.severity = sqlc.narg(severity)::text)
  AND (sqlc.narg(since)::timestamptz IS NULL OR x.occurred_at >= sqlc.narg(since)::timestamptz)
  AND (sqlc.narg(until)::timestamptz IS NULL OR x.occurred_at < sqlc.narg(until)::timestamptz)
  AND (sqlc.narg(before_at)::timestamptz IS NULL OR (x.occurred_at, x.id) < (sqlc.narg(before_at)::timestamptz, sqlc.narg(before_id)::uuid))
  AND (sqlc.narg(after_at)::timestamptz IS NULL OR (x.occurred_at, x.id) >= (sqlc.narg(after_at)::timestamptz, sqlc.narg(after_id)::uuid));
