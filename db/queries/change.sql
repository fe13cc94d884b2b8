-- name: ChangeJobInsert :one
INSERT INTO change_jobs (id, kind, name, status, spec, selector, plan, canary, canary_percent, growth, wave_count,
    max_failures, max_failure_percent, health_check_ids, reboot, ignore_windows, override_reason,
    approval_required, reason, requested_by, requested_by_name, created_at, updated_at)
VALUES (@id, @kind, @name, @status, @spec, @selector, @plan, @canary, sqlc.narg(canary_percent), @growth, @wave_count,
    sqlc.narg(max_failures), sqlc.narg(max_failure_percent), @health_check_ids, @reboot, @ignore_windows,
    sqlc.narg(override_reason), @approval_required, @reason, sqlc.narg(requested_by), @requested_by_name,
    @created_at, @created_at)
RETURNING *;

-- name: ChangeJobGet :one
SELECT * FROM change_jobs WHERE id = @id AND kind = @kind;

-- name: ChangeJobGetAny :one
SELECT * FROM change_jobs WHERE id = @id;

-- name: ChangeJobLock :one
SELECT * FROM change_jobs WHERE id = @id FOR UPDATE;

-- name: ChangeJobList :many
SELECT * FROM change_jobs
WHERE kind = @kind
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(before_id)::uuid IS NULL OR id < sqlc.narg(before_id))
ORDER BY id DESC
LIMIT @lim;

-- name: ChangeJobSetStatus :one
UPDATE change_jobs SET status = @status, updated_at = @at::timestamptz,
    started_at = CASE WHEN @status::text = 'running' AND started_at IS NULL THEN @at::timestamptz ELSE started_at END,
    finished_at = CASE WHEN @status::text IN ('completed', 'failed', 'cancelled', 'rolled_back', 'rejected') THEN @at::timestamptz
                       WHEN @status::text IN ('running', 'rolling_back') THEN NULL ELSE finished_at END,
    halt_reason = sqlc.narg(halt_reason)
WHERE id = @id
RETURNING *;

-- name: ChangeJobDecide :one
UPDATE change_jobs SET status = @status, decided_by = sqlc.narg(decided_by), decided_by_name = @decided_by_name,
    decided_at = @at::timestamptz, decision_reason = @decision_reason, updated_at = @at::timestamptz,
    finished_at = CASE WHEN @status::text = 'rejected' THEN @at::timestamptz ELSE finished_at END
WHERE id = @id
RETURNING *;

-- name: ChangeJobSetWave :one
UPDATE change_jobs SET current_wave = @current_wave, updated_at = @at::timestamptz WHERE id = @id RETURNING *;

-- name: ChangeJobResume :one
UPDATE change_jobs SET status = 'running', failure_base = @failure_base, halt_reason = NULL, updated_at = @at::timestamptz,
    finished_at = NULL
WHERE id = @id
RETURNING *;

-- name: ChangeJobSetDryRun :exec
UPDATE change_jobs SET dry_run_at = @at::timestamptz, updated_at = @at::timestamptz WHERE id = @id;

-- name: ChangeJobHostInsert :exec
INSERT INTO change_job_hosts (job_id, host_id, host_name, environment, wave, position, status, rule_ids, manual)
VALUES (@job_id, @host_id, @host_name, @environment, @wave, @position, 'pending', @rule_ids, @manual);

-- name: ChangeJobHosts :many
SELECT * FROM change_job_hosts WHERE job_id = @job_id ORDER BY wave, position;

-- name: ChangeJobHostGet :one
SELECT * FROM change_job_hosts WHERE job_id = @job_id AND host_id = @host_id;

-- name: ChangeJobHostLock :one
SELECT * FROM change_job_hosts WHERE job_id = @job_id AND host_id = @host_id FOR UPDATE;

-- name: ChangeJobHostsInWave :many
SELECT * FROM change_job_hosts WHERE job_id = @job_id AND wave = @wave ORDER BY position;

-- name: ChangeJobHostSetStatus :one
UPDATE change_job_hosts SET status = @status, phase = sqlc.narg(phase), error = sqlc.narg(error),
    next_window_at = sqlc.narg(next_window_at),
    started_at = CASE WHEN @status::text = 'running' AND started_at IS NULL THEN @at::timestamptz ELSE started_at END,
    finished_at = CASE WHEN @status::text IN ('succeeded', 'failed', 'rolled_back', 'rollback_failed', 'cancelled', 'skipped')
                       THEN @at::timestamptz ELSE finished_at END
WHERE job_id = @job_id AND host_id = @host_id
RETURNING *;

-- name: ChangeJobHostSetPhase :exec
UPDATE change_job_hosts SET phase = @phase WHERE job_id = @job_id AND host_id = @host_id;

-- name: ChangeJobHostCaptured :exec
UPDATE change_job_hosts SET actions = @actions, prior = @prior, manual = @manual, applied = 0
WHERE job_id = @job_id AND host_id = @host_id;

-- name: ChangeJobHostApplied :exec
UPDATE change_job_hosts SET applied = @applied WHERE job_id = @job_id AND host_id = @host_id;

-- name: ChangeJobHostAddSessions :exec
UPDATE change_job_hosts SET sessions = sessions + @sessions, rebooted = rebooted OR @rebooted
WHERE job_id = @job_id AND host_id = @host_id;

-- name: ChangeJobHostSetScan :exec
UPDATE change_job_hosts SET scan_id = COALESCE(sqlc.narg(scan_id), scan_id),
    rollback_scan_id = COALESCE(sqlc.narg(rollback_scan_id), rollback_scan_id)
WHERE job_id = @job_id AND host_id = @host_id;

-- name: ChangeJobHostRolledBack :exec
UPDATE change_job_hosts SET status = @status, error = sqlc.narg(error), rolled_back_at = @at::timestamptz, phase = NULL
WHERE job_id = @job_id AND host_id = @host_id;

-- name: ChangeJobHostsCancelPending :execrows
UPDATE change_job_hosts SET status = 'cancelled', finished_at = @at::timestamptz, phase = NULL
WHERE job_id = @job_id AND status IN ('pending', 'queued', 'waiting_window');

-- name: ChangeJobHostsQueueWave :many
UPDATE change_job_hosts SET status = 'queued'
WHERE job_id = @job_id AND wave = @wave AND status = 'pending'
RETURNING host_id;

-- name: ChangeJobCounts :many
SELECT status, count(*)::int AS n FROM change_job_hosts WHERE job_id = @job_id GROUP BY status;

-- name: ChangeJobWaveOpen :one
SELECT count(*)::int FROM change_job_hosts
WHERE job_id = @job_id AND wave = @wave AND status IN ('pending', 'queued', 'waiting_window', 'running');

-- name: ChangeJobActiveHosts :one
SELECT count(*)::int FROM change_job_hosts
WHERE job_id = @job_id AND status IN ('queued', 'waiting_window', 'running');

-- name: ChangeJobHostNames :many
SELECT job_id, host_name FROM change_job_hosts WHERE job_id = ANY(@job_ids::uuid[]) ORDER BY job_id, lower(host_name);

-- name: ChangeJobRollbackHosts :many
SELECT host_id FROM change_job_hosts WHERE job_id = @job_id AND status = 'succeeded' AND applied > 0 ORDER BY wave, position;

-- name: ChangeStepInsert :exec
INSERT INTO change_steps (id, job_id, host_id, seq, phase, name, command, stdout, stderr, exit_code, ok, truncated,
    started_at, finished_at)
VALUES (@id, @job_id, @host_id,
    (SELECT COALESCE(max(seq), 0) + 1 FROM change_steps s WHERE s.job_id = @job_id AND s.host_id = @host_id),
    @phase, @name, @command, @stdout, @stderr, sqlc.narg(exit_code), @ok, @truncated, @started_at, @finished_at);

-- name: ChangeSteps :many
SELECT * FROM change_steps
WHERE job_id = @job_id
  AND (sqlc.narg(host_id)::uuid IS NULL OR host_id = sqlc.narg(host_id))
  AND (sqlc.narg(phase)::text IS NULL OR phase = sqlc.narg(phase))
  AND (sqlc.narg(after_id)::uuid IS NULL OR id > sqlc.narg(after_id))
ORDER BY id
LIMIT @lim;

-- name: ChangeSettingsGet :one
SELECT * FROM change_settings WHERE id;

-- name: ChangeSettingsUpdate :one
UPDATE change_settings SET approval_environments = @approval_environments,
    remediation_requires_approval = @remediation_requires_approval, updated_at = now(), updated_by = @updated_by
WHERE id
RETURNING *;

-- name: ChangeFailingRules :many
SELECT host_id, rule_id FROM rule_states
WHERE host_id = ANY(@host_ids::uuid[]) AND rule_id = ANY(@rule_ids::text[]) AND status = 'fail'
ORDER BY host_id, rule_id;

-- name: ChangeTargetHosts :many
SELECT id, COALESCE(NULLIF(display_name, ''), hostname)::text AS name, environment
FROM live_hosts WHERE id = ANY(@ids::uuid[]) ORDER BY id;

-- name: ChangeJobHostsHoldBack :execrows
UPDATE change_job_hosts SET status = 'pending', next_window_at = NULL
WHERE job_id = @job_id AND status IN ('queued', 'waiting_window');


-- name: ChangeJobHostClaim :exec
UPDATE change_job_hosts SET river_job_id = @river_job_id WHERE job_id = @job_id AND host_id = @host_id;

-- ChangeJobFailures counts the hosts whose change failed: not changed (failed), or
-- changed and restored at once, or not restored (rolled_back, rollback_failed by the
-- change itself: a host restored by the job's rollback has rolled_back_at set).
-- name: ChangeJobFailures :one
SELECT count(*)::int FROM change_job_hosts
WHERE job_id = @job_id
  AND (status = 'failed' OR (status IN ('rolled_back', 'rollback_failed') AND rolled_back_at IS NULL));

-- name: ChangeAdvisoryIDs :many
-- ChangeAdvisoryIDs returns the advisories (not withdrawn) an id or alias names: the
-- advisory of that id and those aliasing it.
SELECT id FROM vuln_advisories
WHERE (id = @name OR @name = ANY(aliases)) AND withdrawn IS NULL
ORDER BY id;

-- name: ChangeAdvisoryExposures :many
-- ChangeAdvisoryExposures returns the open exposures of live hosts to advisories, by host
-- name.
SELECT e.host_id, h.hostname, h.display_name, e.advisory_id, e.package, e.installed_version, e.fixed_version, e.binaries
FROM vuln_exposures e
JOIN live_hosts h ON h.id = e.host_id
WHERE e.resolved_at IS NULL AND e.advisory_id = ANY(@advisory_ids::text[])
ORDER BY lower(h.hostname), e.host_id, e.advisory_id, e.package;
