-- Change jobs: the one machinery behind remediation and patching (internal/change). A job
-- targets hosts, ordered into waves (a canary first, then growing batches); each host's
-- change runs as its own River job: pre-checks, capture of the prior state, apply,
-- post-checks, and restore of the captured state when a step or a post-check fails. Every
-- step run on a host is recorded with its command, capped output, exit status and timing.

-- +goose Up
CREATE TABLE change_jobs (
    id                   uuid PRIMARY KEY,
    kind                 text NOT NULL CHECK (kind IN ('patch', 'remediation')),
    name                 text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 256),
    status               text NOT NULL CHECK (status IN ('pending_approval', 'approved', 'rejected', 'running',
                             'halted', 'completed', 'failed', 'cancelled', 'rolling_back', 'rolled_back')),
    -- What to change: a patch.Spec, or the remediation's rule ids.
    spec                 jsonb NOT NULL,
    -- The hosts as they were named (host ids, a group, a filter).
    selector             jsonb NOT NULL,
    -- The rule-level plan of a remediation (mechanisms, actions, guidance); '{}' for a patch.
    plan                 jsonb NOT NULL DEFAULT '{}',
    -- Waves: the canary (hosts, or a percentage when canary_percent is set), then each
    -- later wave growth times the one before.
    canary               integer NOT NULL CHECK (canary BETWEEN 1 AND 10000),
    canary_percent       integer CHECK (canary_percent BETWEEN 1 AND 100),
    growth               integer NOT NULL CHECK (growth BETWEEN 1 AND 10),
    wave_count           integer NOT NULL DEFAULT 0,
    current_wave         integer NOT NULL DEFAULT 0,
    -- The failure budget: the rollout halts once this many hosts (or this percentage of
    -- its hosts) have failed since it started or was last resumed.
    max_failures         integer CHECK (max_failures BETWEEN 1 AND 10000),
    max_failure_percent  integer CHECK (max_failure_percent BETWEEN 1 AND 100),
    failure_base         integer NOT NULL DEFAULT 0,
    health_check_ids     uuid[] NOT NULL DEFAULT '{}',
    reboot               text NOT NULL DEFAULT 'never' CHECK (reboot IN ('never', 'if_required', 'always')),
    -- ignore_windows: started with an audited override of the hosts' maintenance windows.
    ignore_windows       boolean NOT NULL DEFAULT false,
    override_reason      text,
    approval_required    boolean NOT NULL,
    reason               text NOT NULL DEFAULT '',
    requested_by         uuid,
    requested_by_name    text NOT NULL DEFAULT '',
    decided_by           uuid,
    decided_by_name      text,
    decided_at           timestamptz,
    decision_reason      text,
    halt_reason          text,
    dry_run_at           timestamptz,
    created_at           timestamptz NOT NULL,
    started_at           timestamptz,
    finished_at          timestamptz,
    updated_at           timestamptz NOT NULL,
    CHECK (NOT ignore_windows OR override_reason IS NOT NULL)
);
CREATE INDEX change_jobs_kind_idx ON change_jobs (kind, id DESC);
CREATE INDEX change_jobs_active_idx ON change_jobs (status) WHERE status IN ('running', 'rolling_back');

CREATE TABLE change_job_hosts (
    job_id           uuid NOT NULL REFERENCES change_jobs (id) ON DELETE CASCADE,
    host_id          uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    -- The host's display name when the job was created (display name, else hostname).
    host_name        text NOT NULL,
    environment      text NOT NULL,
    wave             integer NOT NULL,
    position         integer NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'queued', 'waiting_window', 'running', 'succeeded',
                         'failed', 'rolled_back', 'rollback_failed', 'cancelled', 'skipped')),
    -- The step running now (precheck, capture, apply, reboot, postcheck, rollback, verify).
    phase            text,
    -- Remediation: the rule ids this host fails of the job's rules.
    rule_ids         text[] NOT NULL DEFAULT '{}',
    -- The exact actions run on the host, fixed at capture, and what each captured; applied
    -- counts the actions whose Apply ran (restore undoes those, last first).
    actions          jsonb NOT NULL DEFAULT '[]',
    prior            jsonb NOT NULL DEFAULT '[]',
    applied          integer NOT NULL DEFAULT 0,
    -- Manual rules: guidance a person follows, per rule.
    manual           jsonb NOT NULL DEFAULT '[]',
    error            text,
    next_window_at   timestamptz,
    -- The re-scan after the change, and after its rollback.
    scan_id          uuid,
    rollback_scan_id uuid,
    sessions         integer NOT NULL DEFAULT 0,
    -- The River job changing the host: only its own retry may take over a host left
    -- running (a worker that died), never another job for the same host.
    river_job_id     bigint,
    rebooted         boolean NOT NULL DEFAULT false,
    started_at       timestamptz,
    finished_at      timestamptz,
    rolled_back_at   timestamptz,
    PRIMARY KEY (job_id, host_id)
);
CREATE INDEX change_job_hosts_wave_idx ON change_job_hosts (job_id, wave, position);
CREATE INDEX change_job_hosts_host_idx ON change_job_hosts (host_id);

CREATE TABLE change_steps (
    id           uuid PRIMARY KEY,
    job_id       uuid NOT NULL REFERENCES change_jobs (id) ON DELETE CASCADE,
    host_id      uuid NOT NULL,
    seq          integer NOT NULL,
    phase        text NOT NULL CHECK (phase IN ('precheck', 'capture', 'dry_run', 'apply', 'reboot', 'postcheck',
                     'rollback', 'verify')),
    name         text NOT NULL,
    command      text NOT NULL,
    stdout       text NOT NULL DEFAULT '',
    stderr       text NOT NULL DEFAULT '',
    exit_code    integer,
    ok           boolean NOT NULL,
    truncated    boolean NOT NULL DEFAULT false,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    UNIQUE (job_id, host_id, seq)
);

-- Which environments need a second person's approval before a change runs in them.
CREATE TABLE change_settings (
    id                              boolean PRIMARY KEY DEFAULT true CHECK (id),
    approval_environments           text[] NOT NULL DEFAULT '{production}',
    remediation_requires_approval   boolean NOT NULL DEFAULT true,
    updated_at                      timestamptz NOT NULL DEFAULT now(),
    updated_by                      text NOT NULL DEFAULT ''
);
INSERT INTO change_settings DEFAULT VALUES;

-- A remediated host's rules are re-scanned at once (trigger remediation).
ALTER TABLE scans DROP CONSTRAINT scans_trigger_check;
ALTER TABLE scans ADD CONSTRAINT scans_trigger_check CHECK (trigger IN ('manual', 'batch', 'scheduled', 'remediation'));

-- +goose Down
ALTER TABLE scans DROP CONSTRAINT scans_trigger_check;
ALTER TABLE scans ADD CONSTRAINT scans_trigger_check CHECK (trigger IN ('manual', 'batch', 'scheduled'));
DROP TABLE change_settings;
DROP TABLE change_steps;
DROP TABLE change_job_hosts;
DROP TABLE change_jobs;
