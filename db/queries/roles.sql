-- name: CustomRoleInsert :one
INSERT INTO custom_roles (id, description, permissions, created_by)
VALUES (@id, @description, @permissions, @created_by)
RETURNING *;

-- name: CustomRoleList :many
SELECT * FROM custom_roles ORDER BY id;

-- name: CustomRoleGet :one
SELECT * FROM custom_roles WHERE id = @id;

-- name: CustomRolesByIDs :many
SELECT * FROM custom_roles WHERE id = ANY(@ids::text[]);

-- name: CustomRoleGetForUpdate :one
SELECT * FROM custom_roles WHERE id = @id FOR UPDATE;

-- name: CustomRoleUpdate :one
UPDATE custom_roles
SET description = COALESCE(sqlc.narg(description), description),
    permissions = COALESCE(sqlc.narg(permissions)::text[], permissions)
WHERE id = @id
RETURNING *;

-- name: CustomRoleDelete :execrows
DELETE FROM custom_roles WHERE id = @id;

-- name: CustomRoleHolders :one
-- CustomRoleHolders counts who holds a role: live users (disabled ones too, they may come
-- back) and live service accounts holding it as their role or through an unrevoked token.
SELECT
    (SELECT count(*) FROM user_roles r JOIN users u ON u.id = r.user_id
     WHERE r.role_id = @id AND u.deleted_at IS NULL)::bigint AS users,
    (SELECT count(*) FROM service_accounts a
     WHERE a.disabled_at IS NULL
       AND (a.role = @id OR EXISTS (SELECT 1 FROM api_tokens t
                                    WHERE t.service_account_id = a.id AND t.role = @id AND t.revoked_at IS NULL)))::bigint AS service_accounts;

-- name: CustomRoleTokenAccounts :many
-- CustomRoleTokenAccounts lists the live service accounts a change to a role may leave with
-- a token above their own role: those holding it as their role or through an unrevoked
-- token, each with its role.
SELECT a.id, a.role FROM service_accounts a
WHERE a.disabled_at IS NULL
  AND (a.role = @id OR EXISTS (SELECT 1 FROM api_tokens t
                               WHERE t.service_account_id = a.id AND t.role = @id AND t.revoked_at IS NULL))
ORDER BY a.id;

-- name: CustomRoleGetForShare :one
-- CustomRoleGetForShare reads a custom role for a grant and keeps it until the transaction
-- ends: a concurrent edit or delete (which lock it for update) waits, so it never misses
-- the holder this transaction adds.
SELECT * FROM custom_roles WHERE id = @id FOR SHARE;
