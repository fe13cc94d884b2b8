-- name: IdempotencyReserve :one
-- IdempotencyReserve claims (principal, key) for a new request. It returns no row when the
-- key is already held by an unexpired entry; an expired entry is taken over.
INSERT INTO idempotency_keys (principal, key, request_hash, correlation_id, expires_at)
VALUES (@principal, @key, @request_hash, @correlation_id, @expires_at)
ON CONFLICT (principal, key) DO UPDATE
    SET request_hash = EXCLUDED.request_hash,
        state = 'in_progress',
        status_code = NULL,
        content_type = NULL,
        response_body = NULL,
        correlation_id = EXCLUDED.correlation_id,
        created_at = now(),
        expires_at = EXCLUDED.expires_at
    WHERE idempotency_keys.expires_at <= now()
RETURNING principal;

-- name: IdempotencyGet :one
SELECT * FROM idempotency_keys WHERE principal = @principal AND key = @key;

-- name: IdempotencyComplete :exec
UPDATE idempotency_keys
SET state = 'done', status_code = @status_code, content_type = @content_type, response_body = @response_body
WHERE principal = @principal AND key = @key;

-- name: IdempotencyRelease :exec
-- IdempotencyRelease forgets a reservation whose request failed before producing a
-- response worth replaying, so the caller can retry with the same key.
DELETE FROM idempotency_keys WHERE principal = @principal AND key = @key AND state = 'in_progress';

-- name: IdempotencySweep :execrows
DELETE FROM idempotency_keys WHERE expires_at <= now();
