-- name: SessionInsert :one
INSERT INTO sessions (id, user_id, refresh_token_hash, cookie_secret_hash, expires_at, client_addr, user_agent, correlation_id)
VALUES (@id, @user_id, @refresh_token_hash, @cookie_secret_hash, @expires_at, @client_addr, @user_agent, @correlation_id)
RETURNING *;

-- name: SessionGetActive :one
-- SessionGetActive returns a live session joined with its live, enabled user.
SELECT s.id AS session_id, s.cookie_secret_hash, s.expires_at, s.last_seen_at,
       u.id AS user_id, u.username, u.email, u.role
FROM sessions s
JOIN users u ON u.id = s.user_id
WHERE s.id = @id
  AND s.revoked_at IS NULL
  AND s.expires_at > now()
  AND u.deleted_at IS NULL
  AND u.disabled_at IS NULL;
