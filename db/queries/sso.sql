-- name: SSOProviderInsert :one
INSERT INTO sso_providers (id, name, issuer, client_id, client_secret_sealed, scopes, groups_claim, role_mappings,
    default_role, enabled, sso_only, created_by)
VALUES (@id, @name, @issuer, @client_id, @client_secret_sealed, @scopes, @groups_claim, @role_mappings,
    @default_role, @enabled, @sso_only, @created_by)
RETURNING *;

-- name: SSOProviderGet :one
SELECT * FROM sso_providers WHERE id = @id;

-- name: SSOProviderLock :one
SELECT * FROM sso_providers WHERE id = @id FOR UPDATE;

-- name: SSOProviderList :many
-- SSOProviderList pages the providers in id (creation) order.
SELECT * FROM sso_providers
WHERE (sqlc.narg(after)::uuid IS NULL OR id > sqlc.narg(after))
ORDER BY id
LIMIT @row_limit;

-- name: SSOProviderListEnabled :many
SELECT id, name FROM sso_providers WHERE enabled ORDER BY lower(name), id;

-- name: SSOProviderUpdate :one
UPDATE sso_providers
SET name = @name, issuer = @issuer, client_id = @client_id, client_secret_sealed = @client_secret_sealed,
    scopes = @scopes, groups_claim = @groups_claim, role_mappings = @role_mappings, default_role = @default_role,
    enabled = @enabled, sso_only = @sso_only, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: SSOProviderDelete :execrows
DELETE FROM sso_providers WHERE id = @id;

-- name: SSOLoginInsert :exec
INSERT INTO sso_logins (id, provider_id, state_hash, nonce_hash, pkce_key, redirect_uri, expires_at)
VALUES (@id, @provider_id, @state_hash, @nonce_hash, @pkce_key, @redirect_uri, @expires_at);

-- name: SSOLoginTake :one
-- SSOLoginTake consumes the login in flight of a state: it is deleted whatever follows,
-- so a state works once.
DELETE FROM sso_logins WHERE state_hash = @state_hash RETURNING *;

-- name: SSOExpiredDelete :exec
-- SSOExpiredDelete drops logins and handoff codes that expired before now.
WITH l AS (DELETE FROM sso_logins WHERE sso_logins.expires_at < @now::timestamptz)
DELETE FROM sso_handoffs WHERE sso_handoffs.expires_at < @now::timestamptz;

-- name: SSOIdentityGet :one
SELECT i.*, u.disabled_at FROM sso_identities i JOIN users u ON u.id = i.user_id
WHERE i.provider_id = @provider_id AND i.subject = @subject AND u.deleted_at IS NULL;

-- name: SSOIdentityInsert :exec
-- SSOIdentityInsert links a subject to a user; a link to a deleted user is moved to the
-- new one.
INSERT INTO sso_identities (provider_id, subject, user_id) VALUES (@provider_id, @subject, @user_id)
ON CONFLICT (provider_id, subject) DO UPDATE SET user_id = EXCLUDED.user_id, created_at = now(), last_login_at = now();

-- name: SSOIdentityTouch :exec
UPDATE sso_identities SET last_login_at = now() WHERE provider_id = @provider_id AND subject = @subject;

-- name: SSOOnlyProviderForUser :one
-- SSOOnlyProviderForUser returns the name of an enabled SSO-only provider user_id is
-- linked to, if any.
SELECT p.name FROM sso_identities i JOIN sso_providers p ON p.id = i.provider_id
WHERE i.user_id = @user_id AND p.enabled AND p.sso_only
ORDER BY lower(p.name) LIMIT 1;

-- name: SSOUserRolesReplace :exec
-- SSOUserRolesReplace makes role the user's only role.
WITH gone AS (DELETE FROM user_roles WHERE user_id = @user_id AND role_id <> @role_id)
INSERT INTO user_roles (user_id, role_id) VALUES (@user_id, @role_id) ON CONFLICT DO NOTHING;

-- name: SSOHandoffInsert :exec
INSERT INTO sso_handoffs (code_hash, user_id, provider_id, expires_at)
VALUES (@code_hash, @user_id, @provider_id, @expires_at);

-- name: SSOHandoffTake :one
-- SSOHandoffTake consumes a handoff code that has not expired: of concurrent takes of one
-- code, exactly one gets the row.
DELETE FROM sso_handoffs WHERE code_hash = @code_hash AND expires_at > @now::timestamptz
RETURNING *;

-- name: RekeySSOProviderSecretList :many
SELECT id, client_secret_sealed::bytea AS sealed FROM sso_providers
WHERE client_secret_sealed IS NOT NULL ORDER BY id FOR UPDATE;

-- name: RekeySSOProviderSecretSet :exec
UPDATE sso_providers SET client_secret_sealed = @sealed WHERE id = @id;
