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
