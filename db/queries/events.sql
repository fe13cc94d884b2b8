-- name: EventsLockPublish :exec
-- Serializes publishers until commit so ids become visible in order.
SELECT pg_advisory_xact_lock(7243981001);

-- name: EventInsert :one
INSERT INTO events (topic, type, host_id, permission, correlation_id, data)
VALUES (@topic, @type, @host_id, @permission, @correlation_id, @data)
RETURNING id, occurred_at;

-- name: EventNotify :exec
SELECT pg_notify('openwatch_events', @id::text);

-- name: EventsMaxID :one
-- EventsMaxID returns the id of the newest committed event, 0 when there is none.
SELECT COALESCE(max(id), 0)::bigint AS id FROM events;

-- name: EventsAfter :many
-- EventsAfter returns up to lim events with after < id <= through, oldest first, of the
-- given topics (every topic when topics is empty).
SELECT id, topic, type, host_id, permission, correlation_id, data, occurred_at
FROM events
WHERE id > @after AND id <= @through
  AND (COALESCE(cardinality(@topics::text[]), 0) = 0 OR topic = ANY (@topics::text[]))
ORDER BY id
LIMIT @lim;

-- name: EventsHorizon :one
-- EventsHorizon returns the highest event id the retention sweep deleted.
SELECT swept_through FROM events_horizon;

-- name: EventsSweep :one
-- EventsSweep deletes every event up to the newest one that occurred before @before (a
-- prefix of the log, so a resumed stream never sees holes) and records how far it went.
WITH cut AS (
    SELECT COALESCE(max(e.id), 0)::bigint AS id FROM events e WHERE e.occurred_at < @before::timestamptz
), del AS (
    DELETE FROM events WHERE id <= (SELECT id FROM cut) RETURNING id
), horizon AS (
    UPDATE events_horizon SET swept_through = GREATEST(swept_through, (SELECT id FROM cut))
    RETURNING swept_through
)
SELECT (SELECT count(*) FROM del)::bigint AS deleted, (SELECT swept_through FROM horizon)::bigint AS swept_through;

-- name: EventTicketInsert :one
-- EventTicketInsert stores a ticket (its SHA-256) that expires ttl_seconds after now.
INSERT INTO event_tickets (token_hash, kind, user_id, session_id, service_account_id, token_id, expires_at)
VALUES (@token_hash, @kind, sqlc.narg(user_id), sqlc.narg(session_id), sqlc.narg(service_account_id), sqlc.narg(token_id),
        now() + make_interval(secs => @ttl_seconds::double precision))
RETURNING expires_at;

-- name: EventTicketConsume :one
-- EventTicketConsume deletes a ticket and returns it, so each ticket is used at most once
-- across every replica; live says whether it had not expired yet.
DELETE FROM event_tickets WHERE token_hash = @token_hash
RETURNING kind, user_id, session_id, service_account_id, token_id, (expires_at > now())::boolean AS live;

-- name: EventTicketsSweep :execrows
-- EventTicketsSweep deletes expired tickets.
DELETE FROM event_tickets WHERE expires_at <= now();
