-- name: ScanBatchHosts :many
-- ScanBatchHosts returns the live hosts a batch's selector names, each with whether it is
-- in maintenance (its own or its group's) and whether it has a scan queued or running (the
-- partial unique index answers that). The filters mean what HostList's (hosts.sql) mean.
SELECT h.id, h.effective_maintenance,
    EXISTS (SELECT 1 FROM scans s WHERE s.host_id = h.id AND s.status IN ('queued', 'running'))::boolean AS busy
FROM live_hosts h
WHERE (sqlc.narg(host_ids)::uuid[] IS NULL OR h.id = ANY (sqlc.narg(host_ids)::uuid[]))
  AND (sqlc.narg(environment)::text IS NULL OR h.environment = sqlc.narg(environment)::text)
  AND (sqlc.narg(tag)::text IS NULL OR h.tags @> ARRAY[sqlc.narg(tag)::text])
  AND (sqlc.narg(group_id)::uuid IS NULL OR h.group_id = sqlc.narg(group_id)::uuid)
  AND (sqlc.narg(q)::text IS NULL OR h.hostname ILIKE '%' || sqlc.narg(q)::text || '%'
       OR h.display_name ILIKE '%' || sqlc.narg(q)::text || '%' OR host(h.ip_address) LIKE sqlc.narg(q)::text || '%')
ORDER BY h.id;

-- name: ScanBatchInsert :one
INSERT INTO scan_batches (id, selector, framework, rule_ids, concurrency, status, hosts_total, hosts_skipped,
    requested_by, correlation_id, created_at, finished_at)
VALUES (@id, @selector, sqlc.narg(framework), sqlc.narg(rule_ids)::text[], @concurrency, @status, @hosts_total,
    @hosts_skipped, @requested_by, @correlation_id, @created_at, sqlc.narg(finished_at))
RETURNING *;

-- name: ScanBatchScansInsert :execrows
-- ScanBatchScansInsert queues one scan per host, waiting without a job until the batch
-- dispatches it. A host that got a scan since it was selected keeps that one: the partial
-- unique index scans_one_active_per_host refuses a second and the row is left out.
INSERT INTO scans (id, host_id, batch_id, status, trigger, framework, rule_ids, requested_by, correlation_id,
    created_at, dispatched)
SELECT unnest(@ids::uuid[]), unnest(@host_ids::uuid[]), @batch_id::uuid, 'queued', 'batch', sqlc.narg(framework)::text,
    sqlc.narg(rule_ids)::text[], @requested_by::text, @correlation_id::text, @created_at::timestamptz, false
ON CONFLICT DO NOTHING;

-- name: ScanBatchSetTotals :one
-- ScanBatchSetTotals corrects a new batch's counts when hosts were taken by other scans
-- between selection and insert.
UPDATE scan_batches SET hosts_total = @hosts_total, hosts_skipped = @hosts_skipped, status = @status,
    finished_at = sqlc.narg(finished_at)
WHERE id = @id
RETURNING *;

-- name: ScanBatchDispatch :many
-- ScanBatchDispatch marks the oldest waiting scans of a batch dispatched (their jobs are
-- inserted in the same transaction); rows another transaction holds are skipped.
UPDATE scans SET dispatched = true
WHERE id IN (
    SELECT w.id FROM scans w
    WHERE w.batch_id = @batch_id::uuid AND NOT w.dispatched AND w.status = 'queued'
    ORDER BY w.id
    LIMIT @max_scans
    FOR UPDATE SKIP LOCKED)
RETURNING id;

-- name: ScanBatchLock :one
-- ScanBatchLock locks a batch until the transaction ends: the ends of its scans take their
-- turns, each seeing what the previous ones committed.
SELECT * FROM scan_batches WHERE id = @id FOR UPDATE;

-- name: ScanBatchGet :one
SELECT * FROM scan_batches WHERE id = @id;

-- name: ScanBatchScanCounts :many
-- ScanBatchScanCounts counts the scans of batches by status and whether they were
-- dispatched (scans_batch_idx).
SELECT batch_id::uuid AS batch_id, status, dispatched, count(*)::int AS scans
FROM scans
WHERE batch_id = ANY (@batch_ids::uuid[])
GROUP BY batch_id, status, dispatched;

-- name: ScanBatchEnd :one
-- ScanBatchEnd ends a running batch; no row when it had ended already.
UPDATE scan_batches SET status = @status, finished_at = @finished_at::timestamptz
WHERE id = @id AND status = 'running'
RETURNING *;

-- name: ScanBatchCancelScans :one
-- ScanBatchCancelScans cancels a batch's queued scans at once and asks its running ones to
-- stop (as ScanRequestCancel does for one scan), and counts each.
WITH changed AS (
    UPDATE scans SET
        cancel_requested = true,
        status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
        finished_at = CASE WHEN status = 'queued' THEN @now::timestamptz ELSE finished_at END
    WHERE batch_id = @batch_id::uuid AND status IN ('queued', 'running')
    RETURNING status
)
SELECT count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled,
    count(*) FILTER (WHERE status = 'running')::int AS stopping
FROM changed;

-- name: ScanBatchList :many
-- ScanBatchList pages batches newest first (ids are UUIDv7, so id order is creation order).
SELECT * FROM scan_batches
WHERE (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(before_id)::uuid IS NULL OR id < sqlc.narg(before_id))
ORDER BY id DESC
LIMIT @row_limit;

-- name: ScanHostInMaintenance :one
-- ScanHostInMaintenance reports whether a live host is in maintenance, its own or its
-- group's; no row when the host is gone.
SELECT effective_maintenance FROM live_hosts WHERE id = @id;
