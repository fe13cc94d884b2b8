-- Retention: the policy row, the record of runs, and one bounded delete per kind of data.
-- Each delete takes at most @batch_size of the oldest rows past @cutoff (their own index
-- finds them) and reports how many it removed; the job repeats it, one short transaction
-- per batch, until a batch comes back short.

-- name: RetentionPolicyGet :one
SELECT * FROM retention_policy WHERE id;

-- name: RetentionPolicyUpdate :one
UPDATE retention_policy SET events_days = @events_days, scan_evidence_days = @scan_evidence_days,
    monitoring_days = @monitoring_days, jobs_days = @jobs_days, change_jobs_days = @change_jobs_days,
    reports_days = @reports_days, notification_deliveries_days = @notification_deliveries_days,
    updated_at = now(), updated_by = @updated_by
WHERE id
RETURNING *;

-- name: RetentionRunInsert :one
INSERT INTO retention_runs (id, started_at, status) VALUES (@id, @started_at, 'running') RETURNING *;

-- name: RetentionRunFinish :one
UPDATE retention_runs SET finished_at = @finished_at, status = @status, deleted = @deleted, error = sqlc.narg('error')
WHERE id = @id
RETURNING *;

-- name: RetentionRunList :many
SELECT * FROM retention_runs ORDER BY started_at DESC LIMIT @row_limit;

-- name: RetentionRunPrune :execrows
-- RetentionRunPrune keeps the newest @keep runs.
DELETE FROM retention_runs WHERE id IN (
    SELECT id FROM retention_runs ORDER BY started_at DESC OFFSET @keep);

-- name: RetentionDeleteFeedItems :execrows
DELETE FROM feed_items WHERE id IN (
    SELECT id FROM feed_items WHERE created_at < @cutoff::timestamptz ORDER BY created_at LIMIT @batch_size);

-- name: RetentionDeleteIntelligenceEvents :execrows
DELETE FROM intelligence_events WHERE id IN (
    SELECT id FROM intelligence_events WHERE occurred_at < @cutoff::timestamptz ORDER BY occurred_at LIMIT @batch_size);

-- name: RetentionDeleteMonitoringHistory :execrows
-- RetentionDeleteMonitoringHistory never deletes a host's newest row, so every host keeps
-- its last known check however old.
DELETE FROM host_monitoring_history h WHERE h.id IN (
    SELECT m.id FROM host_monitoring_history m
    WHERE m.check_time < @cutoff::timestamptz
      AND EXISTS (SELECT 1 FROM host_monitoring_history n WHERE n.host_id = m.host_id AND n.id > m.id)
    ORDER BY m.check_time LIMIT @batch_size);

-- name: RetentionDeleteChangeJobs :execrows
-- RetentionDeleteChangeJobs deletes finished patch and remediation jobs (their hosts and
-- steps go with them); running, halted and waiting jobs are never touched.
DELETE FROM change_jobs WHERE id IN (
    SELECT id FROM change_jobs
    WHERE status IN ('completed', 'failed', 'cancelled', 'rejected', 'rolled_back') AND updated_at < @cutoff::timestamptz
    ORDER BY updated_at LIMIT @batch_size);

-- name: RetentionDeleteReports :execrows
DELETE FROM reports WHERE id IN (
    SELECT id FROM reports WHERE status IN ('completed', 'failed') AND created_at < @cutoff::timestamptz
    ORDER BY created_at LIMIT @batch_size);

-- name: RetentionDeleteNotificationDeliveries :execrows
DELETE FROM notification_deliveries WHERE id IN (
    SELECT id FROM notification_deliveries
    WHERE status IN ('delivered', 'failed', 'dead', 'skipped') AND created_at < @cutoff::timestamptz
    ORDER BY created_at LIMIT @batch_size);
