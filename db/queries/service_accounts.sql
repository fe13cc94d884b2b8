-- name: ServiceAccountInsert :one
INSERT INTO service_accounts (id, name, description, role, created_by)
VALUES (@id, @name, @description, @role, @created_by)
RETURNING *;

-- name: ServiceAccountList :many
SELECT * FROM service_accounts
WHERE (sqlc.narg(after)::uuid IS NULL OR id > sqlc.narg(after)::uuid)
ORDER BY id
LIMIT @row_limit;

-- name: ServiceAccountGet :one
SELECT * FROM service_accounts WHERE id = @id;

-- name: ServiceAccountUpdate :one
UPDATE service_accounts
SET name = COALESCE(sqlc.narg(name), name),
    description = COALESCE(sqlc.narg(description), description),
    role = COALESCE(sqlc.narg(role), role),
    updated_at = now()
WHERE id = @id AND disabled_at IS NULL
RETURNING *;

-- name: ServiceAccountDisable :execrows
UPDATE service_accounts SET disabled_at = now(), updated_at = now() WHERE id = @id AND disabled_at IS NULL;

-- name: APITokenInsert :one
INSERT INTO api_tokens (id, service_account_id, name, secret_hash, role, created_by, expires_at)
VALUES (@id, @service_account_id, @name, @secret_hash, @role, @created_by, @expires_at)
RETURNING *;

-- name: APITokenList :many
SELECT * FROM api_tokens WHERE service_account_id = @service_account_id ORDER BY created_at, id;

-- name: APITokenRevoke :execrows
UPDATE api_tokens SET revoked_at = now()
WHERE id = @id AND service_account_id = @service_account_id AND revoked_at IS NULL;

-- name: APITokenRevokeAll :execrows
UPDATE api_tokens SET revoked_at = now() WHERE service_account_id = @service_account_id AND revoked_at IS NULL;

-- name: APITokenAuth :one
-- APITokenAuth loads a token with its account for authentication.
SELECT t.id, t.secret_hash, t.signing_key_sealed, t.role, t.expires_at, t.revoked_at, t.last_used_at,
       a.id AS account_id, a.name AS account_name, a.role AS account_role, a.disabled_at AS account_disabled_at
FROM api_tokens t JOIN service_accounts a ON a.id = t.service_account_id
WHERE t.id = @id;

-- name: APITokenTouch :exec
UPDATE api_tokens SET last_used_at = now() WHERE id = @id;

-- name: APITokenSetSigningKey :one
-- APITokenSetSigningKey stores (or replaces) a live token's sealed signing key.
UPDATE api_tokens SET signing_key_sealed = @sealed, signing_key_created_at = now()
WHERE id = @id AND service_account_id = @service_account_id AND revoked_at IS NULL
RETURNING *;

-- name: SignedNonceRecord :execrows
-- SignedNonceRecord remembers a signed request's nonce; 0 rows means it was seen before.
-- Expired nonces of the token are dropped on the way.
WITH gone AS (
    DELETE FROM signed_request_nonces WHERE token_id = @token_id AND signed_request_nonces.expires_at < @now::timestamptz
)
INSERT INTO signed_request_nonces (token_id, nonce, expires_at)
VALUES (@token_id, @nonce, @expires_at)
ON CONFLICT (token_id, nonce) DO NOTHING;

-- name: RekeyAPITokenSigningKeyList :many
-- RekeyAPITokenSigningKeyList locks every token holding a sealed signing key, revoked ones
-- too, for `openwatch rekey`.
SELECT id, signing_key_sealed AS sealed FROM api_tokens WHERE signing_key_sealed IS NOT NULL ORDER BY id FOR UPDATE;

-- name: RekeyAPITokenSigningKeySet :exec
UPDATE api_tokens SET signing_key_sealed = @sealed WHERE id = @id;

-- name: SignedNonceSweep :execrows
-- SignedNonceSweep drops the nonces whose signatures can no longer be accepted, of every
-- token (SignedNonceRecord prunes only the token it records for).
DELETE FROM signed_request_nonces WHERE expires_at < @now::timestamptz;
