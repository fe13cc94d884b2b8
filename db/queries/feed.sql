-- name: FeedItemInsert :exec
INSERT INTO feed_items (id, kind, title, body, severity, link, alert_id, audience_permission, audience_user, created_at)
VALUES (@id, @kind, @title, @body, sqlc.narg(severity), @link, sqlc.narg(alert_id), sqlc.narg(audience_permission),
        sqlc.narg(audience_user), @now);

-- name: FeedList :many
-- FeedList pages the items a reader may see, newest first, with the reader's read marks:
-- the item's own (item_read_at) and the read-all watermark (read_through, watermark_at).
SELECT f.id, f.kind, f.title, f.body, f.severity, f.link, f.alert_id, f.created_at,
       r.read_at AS item_read_at, w.read_through, w.read_at AS watermark_at
FROM feed_items f
LEFT JOIN feed_watermarks w ON w.reader = @reader::text
LEFT JOIN feed_reads r ON r.reader = @reader::text AND r.item_id = f.id
WHERE (f.audience_permission = ANY(@permissions::text[]) OR f.audience_user = sqlc.narg(user_id)::uuid)
  AND (sqlc.narg(before_id)::uuid IS NULL OR f.id < sqlc.narg(before_id)::uuid)
  AND (NOT @unread_only::boolean OR (r.item_id IS NULL AND (w.read_through IS NULL OR f.id > w.read_through)))
ORDER BY f.id DESC
LIMIT @row_limit;

-- name: FeedUnreadCount :one
-- FeedUnreadCount counts a reader's unread items, up to 1000.
SELECT count(*) FROM (
    SELECT 1 FROM feed_items f
    WHERE (f.audience_permission = ANY(@permissions::text[]) OR f.audience_user = sqlc.narg(user_id)::uuid)
      AND f.id > COALESCE((SELECT w.read_through FROM feed_watermarks w WHERE w.reader = @reader::text),
                          '00000000-0000-0000-0000-000000000000'::uuid)
      AND NOT EXISTS (SELECT 1 FROM feed_reads r WHERE r.reader = @reader::text AND r.item_id = f.id)
    LIMIT 1000
) unread;

-- name: FeedItemVisible :one
-- FeedItemVisible returns the item when the reader may see it.
SELECT id FROM feed_items f
WHERE f.id = @id AND (f.audience_permission = ANY(@permissions::text[]) OR f.audience_user = sqlc.narg(user_id)::uuid);

-- name: FeedReadInsert :exec
INSERT INTO feed_reads (reader, item_id, read_at) VALUES (@reader, @item_id, @now)
ON CONFLICT (reader, item_id) DO NOTHING;

-- name: FeedWatermarkAdvance :execrows
-- FeedWatermarkAdvance marks read every item the reader may see now.
INSERT INTO feed_watermarks (reader, read_through, read_at)
SELECT @reader::text, f.id, @now::timestamptz FROM feed_items f
WHERE f.audience_permission = ANY(@permissions::text[]) OR f.audience_user = sqlc.narg(user_id)::uuid
ORDER BY f.id DESC
LIMIT 1
ON CONFLICT (reader) DO UPDATE SET read_through = GREATEST(feed_watermarks.read_through, EXCLUDED.read_through),
                                   read_at = EXCLUDED.read_at;

-- name: FeedReadsPrune :exec
-- FeedReadsPrune drops the single read marks the watermark now covers.
DELETE FROM feed_reads r USING feed_watermarks w
WHERE r.reader = @reader AND w.reader = r.reader AND r.item_id <= w.read_through;
