-- name: GroupInsert :one
INSERT INTO host_groups (id, name, description, created_by) VALUES (@id, @name, @description, @created_by)
RETURNING id;

-- name: GroupGet :one
SELECT g.*, (SELECT count(*) FROM live_hosts h WHERE h.group_id = g.id)::bigint AS host_count
FROM host_groups g WHERE g.id = @id;

-- name: GroupList :many
SELECT g.*, (SELECT count(*) FROM live_hosts h WHERE h.group_id = g.id)::bigint AS host_count
FROM host_groups g
WHERE (sqlc.narg(after)::uuid IS NULL OR g.id > sqlc.narg(after)::uuid)
ORDER BY g.id
LIMIT @row_limit;

-- name: GroupUpdate :execrows
UPDATE host_groups SET name = COALESCE(sqlc.narg(name)::text, name),
    description = COALESCE(sqlc.narg(description)::text, description), updated_at = now()
WHERE id = @id;

-- name: GroupSetMaintenance :execrows
UPDATE host_groups SET maintenance_mode = @enabled, updated_at = now() WHERE id = @id;

-- name: GroupDelete :execrows
DELETE FROM host_groups WHERE id = @id;

-- name: GroupAddHost :execrows
UPDATE hosts SET group_id = @group_id, updated_at = now() WHERE id = @host_id AND deleted_at IS NULL;

-- name: GroupRemoveHost :execrows
UPDATE hosts SET group_id = NULL, updated_at = now() WHERE id = @host_id AND group_id = @group_id AND deleted_at IS NULL;
