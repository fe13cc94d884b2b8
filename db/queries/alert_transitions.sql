-- name: AlertTransitionInsert :exec
-- AlertTransitionInsert records one transition of an alert in its transaction (the
-- dispatcher's outbox and the alert's history).
INSERT INTO alert_transitions (id, alert_id, transition, actor, reason, at)
VALUES (@id, @alert_id, @transition, @actor, @reason, @at);

-- name: AlertTransitionNotify :exec
-- AlertTransitionNotify wakes the dispatchers when the transaction commits.
SELECT pg_notify('openwatch_alert_transitions', @alert_id::text);

-- name: AlertTransitionList :many
-- AlertTransitionList returns an alert's history, oldest first.
SELECT * FROM alert_transitions WHERE alert_id = @alert_id ORDER BY id LIMIT @row_limit;

-- name: AlertTransitionClaim :many
-- AlertTransitionClaim locks up to row_limit transitions not yet dispatched, oldest first,
-- with what routing needs of their alert and host; rows another dispatcher holds are
-- skipped.
SELECT t.id, t.alert_id, t.transition, t.at, a.alert_type, a.severity, a.title, a.body, a.host_id,
       a.suppressed, COALESCE(h.tags, '{}')::text[] AS host_tags, h.group_id, h.hostname, a.rule_id
FROM alert_transitions t
JOIN alerts a ON a.id = t.alert_id
LEFT JOIN hosts h ON h.id = a.host_id
WHERE t.notified_at IS NULL
ORDER BY t.id
LIMIT @row_limit
FOR UPDATE OF t SKIP LOCKED;

-- name: AlertTransitionMarkNotified :exec
UPDATE alert_transitions SET notified_at = @now::timestamptz WHERE id = ANY(@ids::uuid[]);
