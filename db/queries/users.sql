-- name: UserInsert :one
INSERT INTO users (id, username, email, password_hash)
VALUES (@id, @username, @email, @password_hash)
RETURNING *;

-- name: UserGetByID :one
SELECT * FROM users WHERE id = @id AND deleted_at IS NULL;

-- name: UserGetByUsername :one
SELECT * FROM users WHERE lower(username) = lower(@username) AND deleted_at IS NULL;

-- name: UserList :many
-- UserList returns live users in id (creation) order after the cursor.
SELECT * FROM users
WHERE deleted_at IS NULL
  AND (sqlc.narg(after)::uuid IS NULL OR id > sqlc.narg(after)::uuid)
ORDER BY id
LIMIT @row_limit;

-- name: UserCountLive :one
SELECT count(*) FROM users WHERE deleted_at IS NULL;

-- name: UserUpdate :one
UPDATE users
SET username = COALESCE(sqlc.narg(username), username),
    email = COALESCE(sqlc.narg(email), email),
    updated_at = now()
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: UserSoftDelete :execrows
UPDATE users SET deleted_at = now(), updated_at = now() WHERE id = @id AND deleted_at IS NULL;

-- name: UserSetDisabled :one
UPDATE users
SET disabled_at = CASE WHEN @disabled::boolean THEN COALESCE(disabled_at, now()) ELSE NULL END,
    updated_at = now()
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: UserSetPassword :execrows
UPDATE users SET password_hash = @password_hash, last_password_change_at = now(), updated_at = now()
WHERE id = @id AND deleted_at IS NULL;

-- name: UserRoleList :many
SELECT role_id FROM user_roles WHERE user_id = @user_id ORDER BY role_id;

-- name: UserRolesForUsers :many
SELECT user_id, role_id FROM user_roles WHERE user_id = ANY(@user_ids::uuid[]) ORDER BY user_id, role_id;

-- name: UserRoleAssign :execrows
INSERT INTO user_roles (user_id, role_id, granted_by) VALUES (@user_id, @role_id, @granted_by)
ON CONFLICT DO NOTHING;

-- name: UserRoleUnassign :execrows
DELETE FROM user_roles WHERE user_id = @user_id AND role_id = @role_id;

-- name: AdminsLock :exec
-- AdminsLock serialises every change that can reduce the number of active admins, so two
-- concurrent changes cannot both pass the last-admin check.
SELECT pg_advisory_xact_lock(7270010001);

-- name: AdminCountActive :one
SELECT count(*) FROM users u
JOIN user_roles r ON r.user_id = u.id AND r.role_id = 'admin'
WHERE u.deleted_at IS NULL AND u.disabled_at IS NULL;

-- name: AuthNotify :exec
-- AuthNotify tells every process to drop cached sessions: payload session:<id>, user:<id> or *.
SELECT pg_notify('openwatch_auth', @payload::text);

-- name: UserLoginFailed :one
-- UserLoginFailed counts a failed sign-in and returns the new count.
UPDATE users SET failed_logins = failed_logins + 1 WHERE id = @id RETURNING failed_logins;

-- name: UserLock :exec
UPDATE users SET locked_until = @locked_until WHERE id = @id;

-- name: UserLoginSucceeded :exec
UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = @id AND (failed_logins <> 0 OR locked_until IS NOT NULL);
