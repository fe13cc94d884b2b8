-- name: CredentialInsert :one
INSERT INTO ssh_credentials (
    id, scope, scope_id, name, description, username, auth_method,
    private_key_sealed, passphrase_sealed, password_sealed,
    ssh_key_type, ssh_key_bits, ssh_key_fingerprint, ssh_key_comment,
    is_default, created_by, created_at, updated_at
) VALUES (
    @id, @scope, sqlc.narg(scope_id), @name, @description, @username, @auth_method,
    sqlc.narg(private_key_sealed), sqlc.narg(passphrase_sealed), sqlc.narg(password_sealed),
    sqlc.narg(ssh_key_type), sqlc.narg(ssh_key_bits), sqlc.narg(ssh_key_fingerprint), sqlc.narg(ssh_key_comment),
    @is_default, @created_by, @now, @now
)
RETURNING *;

-- name: CredentialGet :one
SELECT * FROM ssh_credentials WHERE id = @id AND deleted_at IS NULL;

-- name: CredentialGetForUpdate :one
SELECT * FROM ssh_credentials WHERE id = @id AND deleted_at IS NULL FOR UPDATE;

-- name: CredentialList :many
SELECT * FROM ssh_credentials
WHERE deleted_at IS NULL AND (sqlc.narg(after)::uuid IS NULL OR id > sqlc.narg(after)::uuid)
ORDER BY id
LIMIT @row_limit;

-- name: CredentialUpdate :one
-- CredentialUpdate writes every mutable column of a live credential; the service computes
-- the new state from the row it read FOR UPDATE.
UPDATE ssh_credentials
SET name = @name,
    description = @description,
    username = @username,
    auth_method = @auth_method,
    private_key_sealed = sqlc.narg(private_key_sealed),
    passphrase_sealed = sqlc.narg(passphrase_sealed),
    password_sealed = sqlc.narg(password_sealed),
    ssh_key_type = sqlc.narg(ssh_key_type),
    ssh_key_bits = sqlc.narg(ssh_key_bits),
    ssh_key_fingerprint = sqlc.narg(ssh_key_fingerprint),
    ssh_key_comment = sqlc.narg(ssh_key_comment),
    is_default = @is_default,
    updated_at = @now
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: CredentialClearDefault :execrows
-- CredentialClearDefault takes the default flag from every live system credential but @keep.
UPDATE ssh_credentials SET is_default = false, updated_at = @now
WHERE is_default AND deleted_at IS NULL AND scope = 'system' AND id <> @keep;

-- name: CredentialSoftDelete :execrows
UPDATE ssh_credentials SET deleted_at = @now::timestamptz, updated_at = @now::timestamptz, is_active = false
WHERE id = @id AND deleted_at IS NULL;

-- name: CredentialHostLive :one
-- CredentialHostLive reports whether a live host has id @id, locking it against a
-- concurrent deletion until the transaction ends.
SELECT EXISTS (SELECT 1 FROM hosts WHERE id = @id AND deleted_at IS NULL FOR SHARE);

-- name: CredentialHostExists :one
-- CredentialHostExists reports whether a live host has id @id, without locking it.
SELECT EXISTS (SELECT 1 FROM live_hosts WHERE id = @id);

-- name: CredentialResolveHost :one
-- CredentialResolveHost returns a host's newest active, live host-scoped credential.
SELECT * FROM ssh_credentials
WHERE scope = 'host' AND scope_id = @host_id::uuid AND is_active AND deleted_at IS NULL
ORDER BY created_at DESC, id DESC
LIMIT 1;

-- name: CredentialSystemDefault :one
SELECT * FROM ssh_credentials
WHERE is_default AND is_active AND deleted_at IS NULL AND scope = 'system';

-- The sealed columns of ssh_credentials, for `openwatch rekey`: each List locks every
-- credential holding a value in its column, deleted ones too.

-- name: RekeyCredentialPrivateKeyList :many
SELECT id, private_key_sealed AS sealed FROM ssh_credentials
WHERE private_key_sealed IS NOT NULL ORDER BY id FOR UPDATE;

-- name: RekeyCredentialPrivateKeySet :exec
UPDATE ssh_credentials SET private_key_sealed = @sealed WHERE id = @id;

-- name: RekeyCredentialPassphraseList :many
SELECT id, passphrase_sealed AS sealed FROM ssh_credentials
WHERE passphrase_sealed IS NOT NULL ORDER BY id FOR UPDATE;

-- name: RekeyCredentialPassphraseSet :exec
UPDATE ssh_credentials SET passphrase_sealed = @sealed WHERE id = @id;

-- name: RekeyCredentialPasswordList :many
SELECT id, password_sealed AS sealed FROM ssh_credentials
WHERE password_sealed IS NOT NULL ORDER BY id FOR UPDATE;

-- name: RekeyCredentialPasswordSet :exec
UPDATE ssh_credentials SET password_sealed = @sealed WHERE id = @id;
