-- name: SessionInsert :one
INSERT INTO sessions (id, user_id, cookie_secret_hash, expires_at, client_addr, user_agent, correlation_id, sso_provider_id)
VALUES (@id, @user_id, @cookie_secret_hash, @expires_at, @client_addr, @user_agent, @correlation_id, sqlc.narg(sso_provider_id))
RETURNING *;

-- name: SessionGetActive :one
-- SessionGetActive returns a live session joined with its live, enabled user and the
-- user's role ids. A session unused for idle_seconds (0: no limit) has ended; both times
-- come from the database's clock. via_sso: single sign-on opened it.
SELECT s.id AS session_id, s.cookie_secret_hash, s.expires_at, s.last_seen_at, (s.sso_provider_id IS NOT NULL)::boolean AS via_sso,
       u.id AS user_id, u.username, u.email, (u.mfa_enabled_at IS NOT NULL)::boolean AS mfa_enabled,
       COALESCE(ARRAY(SELECT r.role_id FROM user_roles r WHERE r.user_id = u.id ORDER BY r.role_id), '{}')::text[] AS roles
FROM sessions s
JOIN users u ON u.id = s.user_id
WHERE s.id = @id
  AND s.revoked_at IS NULL
  AND s.expires_at > now()
  AND (@idle_seconds::integer = 0 OR s.last_seen_at > now() - make_interval(secs => @idle_seconds::integer))
  AND u.deleted_at IS NULL
  AND u.disabled_at IS NULL;

-- name: SessionRevoke :execrows
UPDATE sessions SET revoked_at = now() WHERE id = @id AND revoked_at IS NULL;

-- name: SessionRevokeForUser :execrows
-- SessionRevokeForUser ends every session of a user except, optionally, one.
UPDATE sessions SET revoked_at = now()
WHERE user_id = @user_id AND revoked_at IS NULL
  AND (sqlc.narg(keep)::uuid IS NULL OR id <> sqlc.narg(keep)::uuid);

-- name: RefreshTokenInsert :exec
INSERT INTO refresh_tokens (id, session_id, token_hash) VALUES (@id, @session_id, @token_hash);

-- name: RefreshTokenGet :one
SELECT t.id, t.session_id, t.used_at, s.user_id, s.expires_at, s.revoked_at
FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
WHERE t.token_hash = @token_hash
FOR UPDATE OF t;

-- name: RefreshTokenMarkUsed :exec
UPDATE refresh_tokens SET used_at = now() WHERE id = @id;

-- name: SessionTouch :exec
-- SessionTouch records activity, at most once a minute per session.
UPDATE sessions SET last_seen_at = now() WHERE id = @id AND last_seen_at < now() - interval '1 minute';
