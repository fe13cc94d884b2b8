-- name: EnrollTokenInsert :one
INSERT INTO enrollment_tokens (id, name, token_hash, token_prefix, expires_at, max_uses, auto_approve,
    group_id, environment, tags, username, created_by)
VALUES (@id, @name, @token_hash, @token_prefix, @expires_at, @max_uses, @auto_approve,
    @group_id, @environment, @tags, @username, @created_by)
RETURNING *;

-- name: EnrollTokenGet :one
SELECT * FROM enrollment_tokens WHERE id = @id;

-- name: EnrollTokenByHash :one
SELECT * FROM enrollment_tokens WHERE token_hash = @token_hash;

-- name: EnrollTokenUse :one
-- EnrollTokenUse counts one use of a token that is live at now and not used up; no row
-- means it is not (the caller reads it again to say why).
UPDATE enrollment_tokens SET uses = uses + 1
WHERE token_hash = @token_hash AND revoked_at IS NULL AND expires_at > @now::timestamptz AND uses < max_uses
RETURNING *;

-- name: EnrollTokenRevoke :one
UPDATE enrollment_tokens SET revoked_at = @now::timestamptz, revoked_by = @revoked_by
WHERE id = @id AND revoked_at IS NULL
RETURNING *;

-- name: EnrollTokenList :many
SELECT * FROM enrollment_tokens
WHERE sqlc.narg(after_created)::timestamptz IS NULL
   OR (created_at, id) < (sqlc.narg(after_created), sqlc.narg(after_id)::uuid)
ORDER BY created_at DESC, id DESC
LIMIT @lim;

-- name: EnrollRequestInsert :one
INSERT INTO enrollment_requests (id, token_id, poll_secret_hash, hostname, address, port, client_address,
    facts, host_key_type, host_key, host_key_fingerprint)
VALUES (@id, @token_id, @poll_secret_hash, @hostname, @address, @port, @client_address,
    @facts, @host_key_type, @host_key, @host_key_fingerprint)
RETURNING *;

-- name: EnrollRequestByPollHash :one
SELECT * FROM enrollment_requests WHERE poll_secret_hash = @poll_secret_hash;

-- name: EnrollRequestGet :one
SELECT * FROM enrollment_requests WHERE id = @id;

-- name: EnrollRequestLock :one
SELECT * FROM enrollment_requests WHERE id = @id FOR UPDATE;

-- name: EnrollRequestDecide :one
UPDATE enrollment_requests SET status = @status, decided_by = @decided_by, decided_at = @now::timestamptz,
    deny_reason = sqlc.narg(deny_reason), host_id = sqlc.narg(host_id), certificate_id = sqlc.narg(certificate_id)
WHERE id = @id AND status = 'pending'
RETURNING *;

-- name: EnrollRequestList :many
SELECT * FROM enrollment_requests
WHERE (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(after_created)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(after_created), sqlc.narg(after_id)::uuid))
ORDER BY created_at DESC, id DESC
LIMIT @lim;

-- name: EnrollKeyTrusted :one
-- EnrollKeyTrusted says whether a live host already trusts the host key.
SELECT EXISTS (SELECT 1 FROM host_ssh_keys k JOIN live_hosts h ON h.id = k.host_id
               WHERE k.fingerprint_sha256 = @fingerprint_sha256 AND k.status = 'trusted')::boolean;

-- name: EnrollCertificate :one
SELECT certificate FROM ssh_host_certificates WHERE id = @id;

-- name: EnrollRequestInstalled :one
-- EnrollRequestInstalled records that an approved request's host installed its
-- certificate; no row when it is not approved or reported it already.
UPDATE enrollment_requests SET installed_at = @now::timestamptz
WHERE poll_secret_hash = @poll_secret_hash AND status = 'approved' AND installed_at IS NULL
RETURNING *;
