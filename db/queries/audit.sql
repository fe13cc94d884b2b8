-- name: AuditHeadLock :one
-- AuditHeadLock locks the chain head until the transaction ends and returns it with the
-- database clock read after the lock was granted, so recorded_at follows seq order.
-- Every statement here names the head by its key (WHERE id): every append leaves a dead
-- version of the row, and a transaction holding the horizon back (a bulk import, a
-- backup) can spread them over many pages that the table keeps afterwards. By its key
-- the head is a couple of page reads however large the table grew; unnamed, a scan of
-- every page on every append.
WITH head AS (
    SELECT seq, mac FROM audit_head WHERE id FOR UPDATE
)
SELECT head.seq, head.mac, clock_timestamp()::timestamptz AS now FROM head;

-- name: AuditEventAppend :exec
-- AuditEventAppend inserts the event at @seq and moves the head to it. Unless the head is
-- the row before (seq @seq - 1 with mac @prev_mac) it changes nothing and raises (SQLSTATE
-- OW001, audit_appended of 00020_audit_append_raises.sql), so it can travel with COMMIT.
WITH inserted AS (
    INSERT INTO audit_events (
        id, seq, occurred_at, recorded_at, correlation_id, action, severity, actor_type,
        actor_id, resource_type, resource_id, client_addr, detail, redactions, prev_mac, mac)
    SELECT @id, @seq, @occurred_at, @recorded_at, @correlation_id, @action, @severity, @actor_type,
        sqlc.narg(actor_id), sqlc.narg(resource_type), sqlc.narg(resource_id), @client_addr,
        @detail, @redactions::text[], @prev_mac, @mac
    FROM audit_head h WHERE h.id AND h.seq + 1 = @seq AND h.mac = @prev_mac
    RETURNING seq
), moved AS (
    UPDATE audit_head SET seq = inserted.seq, mac = @mac, checkpoint_mac = @checkpoint_mac
    FROM inserted
    WHERE audit_head.id
    RETURNING audit_head.seq
)
SELECT audit_appended((SELECT count(*) FROM moved));

-- name: AuditHeadGet :one
SELECT seq, mac, checkpoint_mac FROM audit_head WHERE id;

-- name: AuditHeadSignEmpty :execrows
-- AuditHeadSignEmpty signs the empty chain when the audit key is created.
UPDATE audit_head SET checkpoint_mac = @checkpoint_mac WHERE id AND seq = 0 AND checkpoint_mac IS NULL;

-- name: AuditKeyGet :one
-- AuditKeyGet returns the key in use: the oldest.
SELECT id, sealed_key FROM audit_keys ORDER BY created_at, id LIMIT 1;

-- name: AuditKeyInsert :exec
INSERT INTO audit_keys (id, sealed_key) VALUES (@id, @sealed_key);

-- name: AuditPlanPerCall :exec
-- AuditPlanPerCall makes the rest of the transaction plan each statement for its actual
-- parameters. AuditEventList's optional filters ("@x IS NULL OR col = @x") can use their
-- indexes only in such a custom plan; a cached generic plan would scan by seq alone.
SELECT set_config('plan_cache_mode', 'force_custom_plan', true);

-- name: AuditEventList :many
-- AuditEventList returns events newest first, before seq @before_seq when set, matching
-- every filter that is set; occurred_at is in [since, until).
SELECT * FROM audit_events
WHERE (sqlc.narg(before_seq)::bigint IS NULL OR seq < sqlc.narg(before_seq))
  AND (sqlc.narg(action)::text IS NULL OR action = sqlc.narg(action))
  AND (sqlc.narg(correlation_id)::text IS NULL OR correlation_id = sqlc.narg(correlation_id))
  AND (sqlc.narg(actor_type)::text IS NULL OR actor_type = sqlc.narg(actor_type))
  AND (sqlc.narg(resource_type)::text IS NULL OR resource_type = sqlc.narg(resource_type))
  AND (sqlc.narg(resource_id)::text IS NULL OR resource_id = sqlc.narg(resource_id))
  AND (sqlc.narg(since)::timestamptz IS NULL OR occurred_at >= sqlc.narg(since))
  AND (sqlc.narg(until)::timestamptz IS NULL OR occurred_at < sqlc.narg(until))
ORDER BY seq DESC
LIMIT @row_limit;

-- name: AuditEventListAll :many
-- AuditEventListAll is AuditEventList without filters, newest first before seq
-- @before_seq: a backward range scan of audit_events_seq_key that a cached generic plan
-- serves as well as a custom one, so it needs neither AuditPlanPerCall nor a transaction.
SELECT * FROM audit_events WHERE seq < @before_seq ORDER BY seq DESC LIMIT @row_limit;

-- name: AuditEventWalk :many
-- AuditEventWalk returns up to @row_limit events after seq @after_seq in chain order.
SELECT * FROM audit_events WHERE seq > @after_seq ORDER BY seq LIMIT @row_limit;

-- name: AuditChainCheckRecord :exec
-- AuditChainCheckRecord stores the verdict of a periodic verification of the chain as the
-- last one; last_ok_at moves only when the chain verified.
INSERT INTO audit_chain_checks (id, verified_at, ok, checked, first_broken_seq, reason, last_ok_at)
VALUES (true, @verified_at::timestamptz, @ok, @checked, sqlc.narg(first_broken_seq), @reason,
        CASE WHEN @ok THEN @verified_at::timestamptz END)
ON CONFLICT (id) DO UPDATE SET verified_at = EXCLUDED.verified_at, ok = EXCLUDED.ok, checked = EXCLUDED.checked,
    first_broken_seq = EXCLUDED.first_broken_seq, reason = EXCLUDED.reason,
    last_ok_at = COALESCE(EXCLUDED.last_ok_at, audit_chain_checks.last_ok_at);

-- name: AuditChainCheckGet :one
-- AuditChainCheckGet returns the last periodic verification; no row before the first.
SELECT verified_at, ok, checked, first_broken_seq, reason, last_ok_at FROM audit_chain_checks WHERE id;

-- name: RekeyAuditKeyList :many
-- RekeyAuditKeyList locks every audit key, for `openwatch rekey`.
SELECT id, sealed_key AS sealed FROM audit_keys ORDER BY id FOR UPDATE;

-- name: RekeyAuditKeySet :exec
UPDATE audit_keys SET sealed_key = @sealed WHERE id = @id;

-- name: AuditChainLength :one
-- The number of events in the audit chain (seq counts from 1 without gaps), for the
-- openwatch_audit_chain_length gauge; it reads one index entry.
SELECT coalesce(max(seq), 0)::bigint AS length FROM audit_events;
