-- name: UserInsert :one
INSERT INTO users (id, username, email, password_hash, role)
VALUES (@id, @username, @email, @password_hash, @role)
RETURNING *;

-- name: UserGetByID :one
SELECT * FROM users WHERE id = @id AND deleted_at IS NULL;

-- name: UserGetByUsername :one
SELECT * FROM users WHERE lower(username) = lower(@username) AND deleted_at IS NULL;

-- name: UserCountLive :one
SELECT count(*) FROM users WHERE deleted_at IS NULL;

-- name: UserSetPassword :exec
UPDATE users SET password_hash = @password_hash, last_password_change_at = now(), updated_at = now()
WHERE id = @id AND deleted_at IS NULL;
