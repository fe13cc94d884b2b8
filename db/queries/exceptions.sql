-- name: ExceptionInsert :one
-- ExceptionInsert records a pending exception; the partial unique index refuses a second
-- open one of the same scope and subject (unique violation on compliance_exceptions_open_key).
INSERT INTO compliance_exceptions (id, kind, rule_id, advisory_id, scope, host_id, group_id, status, reason, expires_at,
    requested_by, requested_at, correlation_id, updated_at)
VALUES (@id, @kind, @rule_id, sqlc.narg(advisory_id), @scope, sqlc.narg(host_id), sqlc.narg(group_id), 'pending', @reason,
    @expires_at, @requested_by, @requested_at, @correlation_id, @requested_at)
RETURNING *;

-- name: ExceptionGet :one
SELECT * FROM compliance_exceptions WHERE id = @id;

-- name: ExceptionGetForUpdate :one
SELECT * FROM compliance_exceptions WHERE id = @id FOR UPDATE;

-- name: ExceptionDecide :one
-- ExceptionDecide moves an exception to a new status with who did it, when and why.
UPDATE compliance_exceptions SET
    status = @status,
    decided_by = CASE WHEN @status::text IN ('approved', 'rejected') THEN @actor::text ELSE decided_by END,
    decided_at = CASE WHEN @status::text IN ('approved', 'rejected') THEN @at::timestamptz ELSE decided_at END,
    decision_reason = CASE WHEN @status::text IN ('approved', 'rejected') THEN @reason::text ELSE decision_reason END,
    revoked_by = CASE WHEN @status::text = 'revoked' THEN @actor::text ELSE revoked_by END,
    revoked_at = CASE WHEN @status::text = 'revoked' THEN @at::timestamptz ELSE revoked_at END,
    revoke_reason = CASE WHEN @status::text = 'revoked' THEN @reason::text ELSE revoke_reason END,
    expired_at = CASE WHEN @status::text = 'expired' THEN @at::timestamptz ELSE expired_at END,
    updated_at = @at::timestamptz
WHERE id = @id
RETURNING *;

-- name: ExceptionList :many
-- ExceptionList pages exceptions newest first. host_id matches the exceptions covering the
-- host: its own, its group's and the fleet-wide ones.
SELECT e.* FROM compliance_exceptions e
WHERE (sqlc.narg(status)::text IS NULL OR e.status = sqlc.narg(status))
  AND (sqlc.narg(rule_id)::text IS NULL OR e.rule_id = sqlc.narg(rule_id))
  AND (sqlc.narg(kind)::text IS NULL OR e.kind = sqlc.narg(kind))
  AND (sqlc.narg(advisory_id)::text IS NULL OR e.advisory_id = sqlc.narg(advisory_id))
  AND (sqlc.narg(scope)::text IS NULL OR e.scope = sqlc.narg(scope))
  AND (sqlc.narg(group_id)::uuid IS NULL OR e.group_id = sqlc.narg(group_id))
  AND (sqlc.narg(requested_by)::text IS NULL OR e.requested_by = sqlc.narg(requested_by))
  AND (sqlc.narg(expiring_before)::timestamptz IS NULL OR e.expires_at < sqlc.narg(expiring_before))
  AND (sqlc.narg(host_id)::uuid IS NULL OR e.host_id = sqlc.narg(host_id)
       OR (e.scope = 'group' AND e.group_id = (SELECT h.group_id FROM hosts h WHERE h.id = sqlc.narg(host_id)))
       OR e.scope = 'fleet')
  AND (sqlc.narg(before_id)::uuid IS NULL OR e.id < sqlc.narg(before_id))
ORDER BY e.id DESC
LIMIT @row_limit;

-- name: ExceptionCoveredHosts :many
-- ExceptionCoveredHosts returns the live hosts an exception's scope covers.
SELECT h.id FROM hosts h
WHERE h.deleted_at IS NULL
  AND (@scope::text = 'fleet'
       OR (@scope::text = 'host' AND h.id = sqlc.narg(host_id)::uuid)
       OR (@scope::text = 'group' AND h.group_id = sqlc.narg(group_id)::uuid))
ORDER BY h.id;

-- name: ExceptionsInForceForHost :many
-- ExceptionsInForceForHost returns, per rule, the approved unexpired exception covering a
-- host (its own first, then its group's, then the fleet's; the oldest of a kind).
SELECT DISTINCT ON (e.rule_id) e.rule_id, e.id
FROM compliance_exceptions e
WHERE e.kind = 'rule' AND e.status = 'approved' AND e.expires_at > @at
  AND (e.host_id = @host_id::uuid
       OR (e.scope = 'group' AND e.group_id = (SELECT h.group_id FROM hosts h WHERE h.id = @host_id::uuid))
       OR e.scope = 'fleet')
ORDER BY e.rule_id, CASE e.scope WHEN 'host' THEN 0 WHEN 'group' THEN 1 ELSE 2 END, e.id;

-- name: ExceptionStatesExcepted :many
-- ExceptionStatesExcepted returns the hosts whose result of a rule an exception excepts.
SELECT host_id FROM rule_states WHERE exception_id = @exception_id ORDER BY host_id;

-- name: ExceptionDue :many
-- ExceptionDue returns open exceptions whose expiry has passed, locked for the expiry job.
SELECT * FROM compliance_exceptions
WHERE status IN ('pending', 'approved') AND expires_at <= @at
ORDER BY expires_at, id
LIMIT 500
FOR UPDATE SKIP LOCKED;

-- name: ExceptionExpiringSoon :many
-- ExceptionExpiringSoon claims the approved exceptions that expire by @before and have
-- not raised their exception_expiring alert yet.
UPDATE compliance_exceptions SET expiring_alerted_at = @at::timestamptz
WHERE id IN (
    SELECT e.id FROM compliance_exceptions e
    WHERE e.status = 'approved' AND e.expires_at > @at::timestamptz AND e.expires_at <= @before::timestamptz AND e.expiring_alerted_at IS NULL
    ORDER BY e.expires_at, e.id
    LIMIT 500
    FOR UPDATE SKIP LOCKED)
RETURNING *;

-- name: ExceptionGroupExists :one
SELECT EXISTS (SELECT 1 FROM host_groups WHERE id = @id);

-- name: ExceptionAdvisoryKnown :one
-- ExceptionAdvisoryKnown reports whether an imported advisory has the id or names it as an
-- alias.
SELECT EXISTS (SELECT 1 FROM vuln_advisories WHERE id = @id::text OR aliases @> ARRAY[@id::text]);

-- name: ExceptionAdvisorySeverity :one
-- ExceptionAdvisorySeverity returns the highest severity among the advisories an
-- exception's advisory id names (by id or alias), 'unknown' for none.
SELECT COALESCE((SELECT severity FROM vuln_advisories WHERE id = @id::text OR aliases @> ARRAY[@id::text]
    ORDER BY severity_rank DESC LIMIT 1), 'unknown')::text;
