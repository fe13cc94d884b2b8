-- Retention policies: how many days each kind of data is kept, one row the operator
-- changes through the API, and the record of each run of the periodic retention job (what
-- it deleted, per kind). The audit trail has no policy: audit events and their chain
-- checks are never deleted (audit_events is append-only by trigger since 00002).
--
-- The indexes let the job find old rows of each kind in time order, batch by batch,
-- without reading whole tables.

-- +goose Up
CREATE TABLE retention_policy (
    id                           boolean PRIMARY KEY DEFAULT true CHECK (id),
    events_days                  integer NOT NULL DEFAULT 90 CHECK (events_days BETWEEN 7 AND 3650),
    scan_evidence_days           integer NOT NULL DEFAULT 30 CHECK (scan_evidence_days BETWEEN 1 AND 3650),
    monitoring_days              integer NOT NULL DEFAULT 30 CHECK (monitoring_days BETWEEN 1 AND 3650),
    jobs_days                    integer NOT NULL DEFAULT 7 CHECK (jobs_days BETWEEN 1 AND 3650),
    change_jobs_days             integer NOT NULL DEFAULT 365 CHECK (change_jobs_days BETWEEN 30 AND 3650),
    reports_days                 integer NOT NULL DEFAULT 365 CHECK (reports_days BETWEEN 30 AND 3650),
    notification_deliveries_days integer NOT NULL DEFAULT 90 CHECK (notification_deliveries_days BETWEEN 7 AND 3650),
    updated_at                   timestamptz NOT NULL DEFAULT now(),
    updated_by                   text NOT NULL DEFAULT 'system'
);
INSERT INTO retention_policy DEFAULT VALUES;

CREATE TABLE retention_runs (
    id          uuid PRIMARY KEY,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    status      text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    -- Rows deleted per kind: {"events": 12, "monitoring": 3400, ...}.
    deleted     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(deleted) = 'object'),
    error       text
);
CREATE INDEX retention_runs_started_idx ON retention_runs (started_at DESC);

CREATE INDEX feed_items_created_idx ON feed_items (created_at);
CREATE INDEX notification_deliveries_created_idx ON notification_deliveries (created_at)
    WHERE status IN ('delivered', 'failed', 'dead', 'skipped');
CREATE INDEX reports_created_idx ON reports (created_at) WHERE status IN ('completed', 'failed');
CREATE INDEX change_jobs_finished_idx ON change_jobs (updated_at)
    WHERE status IN ('completed', 'failed', 'cancelled', 'rejected', 'rolled_back');

-- +goose Down
DROP INDEX change_jobs_finished_idx;
DROP INDEX reports_created_idx;
DROP INDEX notification_deliveries_created_idx;
DROP INDEX feed_items_created_idx;
DROP TABLE retention_runs;
DROP TABLE retention_policy;
