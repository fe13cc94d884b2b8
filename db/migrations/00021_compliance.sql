-- +goose Up

-- Compliance: scans of hosts against the rule corpus (internal/rule), their results kept
-- write-on-change (the current state of each host and rule, an append-only log of its
-- changes, content-addressed evidence) and rollups updated in each scan's transaction,
-- which the fleet and host summaries read instead of aggregating states.

-- Scans announce themselves on the live stream under their own topic.
ALTER TABLE events DROP CONSTRAINT events_topic_check;
ALTER TABLE events ADD CONSTRAINT events_topic_check
    CHECK (topic IN ('liveness', 'discovery', 'intelligence', 'jobs', 'alerts', 'scans'));

-- The installation's values of rule variables (GET/PUT /system/scan/variables); a rule's
-- own default applies to a variable without a row.
CREATE TABLE scan_variables (
    name        text PRIMARY KEY,
    value       text NOT NULL,
    updated_at  timestamptz NOT NULL,
    updated_by  text NOT NULL DEFAULT ''
);

-- A scan of many hosts (by group, filter or all), each host its own scan row.
CREATE TABLE scan_batches (
    id              uuid PRIMARY KEY,
    selector        jsonb NOT NULL,
    framework       text,
    rule_ids        text[],
    concurrency     integer NOT NULL CHECK (concurrency > 0),
    status          text NOT NULL CHECK (status IN ('running', 'completed', 'cancelled')),
    hosts_total     integer NOT NULL,
    hosts_skipped   integer NOT NULL DEFAULT 0, -- in maintenance when the batch was made
    requested_by    text NOT NULL DEFAULT '',
    correlation_id  text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    finished_at     timestamptz
);

-- One scan of one host. At most one is queued or running per host. rules_total counts the
-- rules that apply to the host's platform (those with results); records are the commands
-- of the scan's program, for progress.
CREATE TABLE scans (
    id                uuid PRIMARY KEY,
    host_id           uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    batch_id          uuid REFERENCES scan_batches (id) ON DELETE SET NULL,
    status            text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    trigger           text NOT NULL CHECK (trigger IN ('manual', 'batch', 'scheduled')),
    framework         text,
    rule_ids          text[],
    requested_by      text NOT NULL DEFAULT '',
    correlation_id    text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL,
    started_at        timestamptz,
    finished_at       timestamptz,
    rules_total       integer NOT NULL DEFAULT 0,
    records_total     integer NOT NULL DEFAULT 0,
    records_done      integer NOT NULL DEFAULT 0,
    pass_count        integer NOT NULL DEFAULT 0,
    fail_count        integer NOT NULL DEFAULT 0,
    skipped_count     integer NOT NULL DEFAULT 0,
    error_count       integer NOT NULL DEFAULT 0,
    changed_count     integer NOT NULL DEFAULT 0,
    sessions          integer NOT NULL DEFAULT 0,
    privilege         text NOT NULL DEFAULT '',
    os_family         text NOT NULL DEFAULT '',
    os_version        text NOT NULL DEFAULT '',
    timings           jsonb NOT NULL DEFAULT '{}', -- record key -> milliseconds
    error             text NOT NULL DEFAULT '',
    cancel_requested  boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX scans_one_active_per_host ON scans (host_id) WHERE status IN ('queued', 'running');
CREATE INDEX scans_host_idx ON scans (host_id, id DESC);
CREATE INDEX scans_batch_idx ON scans (batch_id, id DESC) WHERE batch_id IS NOT NULL;
CREATE INDEX scans_status_idx ON scans (status, id DESC);
CREATE INDEX scans_created_idx ON scans (created_at);

-- Evidence, content-addressed: hash = SHA-256 of the canonical JSON body. A result whose
-- evidence did not change points at the row already there.
CREATE TABLE evidence (
    hash        bytea PRIMARY KEY,
    body        jsonb NOT NULL,
    created_at  timestamptz NOT NULL
);

-- The current result of each rule on each host, rewritten only when its status, severity
-- or evidence changed (scan_id and changed_at name that scan). first_seen_at is when the
-- rule was first evaluated on the host.
CREATE TABLE rule_states (
    host_id        uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    rule_id        text NOT NULL,
    status         text NOT NULL CHECK (status IN ('pass', 'fail', 'skipped', 'error')),
    severity       text NOT NULL,
    reason         text NOT NULL DEFAULT '',
    evidence_hash  bytea NOT NULL,
    scan_id        uuid NOT NULL,
    first_seen_at  timestamptz NOT NULL,
    changed_at     timestamptz NOT NULL,
    PRIMARY KEY (host_id, rule_id)
) WITH (fillfactor = 80); -- room on each page, so a changed result stays beside its host's others

-- Every change of a state, never updated: the history that as_of and trends read.
-- evidence_changed rows record a new evidence with the same status and severity (a
-- value that moved and still passes); the seed's change feed leaves them out.
CREATE TABLE rule_transitions (
    id                 uuid PRIMARY KEY,
    host_id            uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    rule_id            text NOT NULL,
    scan_id            uuid NOT NULL,
    change_kind        text NOT NULL CHECK (change_kind IN ('first_seen', 'state_changed', 'severity_changed', 'evidence_changed')),
    status             text NOT NULL,
    previous_status    text,
    severity           text NOT NULL,
    previous_severity  text,
    reason             text NOT NULL DEFAULT '',
    evidence_hash      bytea NOT NULL,
    occurred_at        timestamptz NOT NULL
);
CREATE INDEX rule_transitions_feed_idx ON rule_transitions (occurred_at DESC, id DESC) WHERE change_kind <> 'evidence_changed';
CREATE INDEX rule_transitions_host_rule_idx ON rule_transitions (host_id, rule_id, occurred_at DESC, id DESC);
CREATE INDEX rule_transitions_scan_idx ON rule_transitions (scan_id);

-- Rollups of each host's current states per framework ('all' counts every rule), updated
-- in the scan's transaction.
CREATE TABLE host_compliance (
    host_id           uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    framework         text NOT NULL,
    pass_count        integer NOT NULL,
    fail_count        integer NOT NULL,
    skipped_count     integer NOT NULL,
    error_count       integer NOT NULL,
    critical_failing  integer NOT NULL,
    updated_at        timestamptz NOT NULL,
    PRIMARY KEY (host_id, framework)
);
CREATE INDEX host_compliance_failing_idx ON host_compliance (framework, fail_count DESC, host_id);

-- The host rollups over time: a row whenever a host's counts for a framework changed.
CREATE TABLE host_compliance_history (
    host_id           uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    framework         text NOT NULL,
    valid_from        timestamptz NOT NULL,
    pass_count        integer NOT NULL,
    fail_count        integer NOT NULL,
    skipped_count     integer NOT NULL,
    error_count       integer NOT NULL,
    critical_failing  integer NOT NULL,
    PRIMARY KEY (host_id, framework, valid_from)
);

-- Fleet totals per framework over live hosts, kept by adding each scan's change. Sixteen
-- shards per framework (by host) so concurrent scans rarely wait on one row; a read sums
-- them.
CREATE TABLE fleet_compliance (
    framework      text NOT NULL,
    shard          smallint NOT NULL,
    pass_count     bigint NOT NULL DEFAULT 0,
    fail_count     bigint NOT NULL DEFAULT 0,
    skipped_count  bigint NOT NULL DEFAULT 0,
    error_count    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (framework, shard)
);

-- Hosts per status of each rule over live hosts, kept the same way.
CREATE TABLE rule_fleet (
    rule_id        text PRIMARY KEY,
    pass_hosts     integer NOT NULL DEFAULT 0,
    fail_hosts     integer NOT NULL DEFAULT 0,
    skipped_hosts  integer NOT NULL DEFAULT 0,
    error_hosts    integer NOT NULL DEFAULT 0
);
CREATE INDEX rule_fleet_failing_idx ON rule_fleet (fail_hosts DESC, rule_id);

-- Fleet totals over time for trend charts: the totals after the last change within each
-- minute.
CREATE TABLE fleet_compliance_history (
    framework      text NOT NULL,
    at             timestamptz NOT NULL,
    pass_count     bigint NOT NULL,
    fail_count     bigint NOT NULL,
    skipped_count  bigint NOT NULL,
    error_count    bigint NOT NULL,
    PRIMARY KEY (framework, at)
);

-- A host leaving the inventory (soft delete) leaves the fleet numbers: its rollups are
-- taken off the fleet totals and its states off the per-rule counts, in the same
-- transaction. Its own rows stay for history until the host row is purged.
-- +goose StatementBegin
CREATE FUNCTION compliance_forget_host() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE fleet_compliance f SET
        pass_count = f.pass_count - h.pass_count, fail_count = f.fail_count - h.fail_count,
        skipped_count = f.skipped_count - h.skipped_count, error_count = f.error_count - h.error_count
    FROM host_compliance h
    WHERE h.host_id = OLD.id AND f.framework = h.framework AND f.shard = compliance_shard(OLD.id);
    UPDATE rule_fleet r SET
        pass_hosts = r.pass_hosts - (s.status = 'pass')::int, fail_hosts = r.fail_hosts - (s.status = 'fail')::int,
        skipped_hosts = r.skipped_hosts - (s.status = 'skipped')::int, error_hosts = r.error_hosts - (s.status = 'error')::int
    FROM rule_states s
    WHERE s.host_id = OLD.id AND r.rule_id = s.rule_id;
    PERFORM pg_notify('openwatch_compliance', '');
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- compliance_shard is the fleet_compliance shard of a host.
-- +goose StatementBegin
CREATE FUNCTION compliance_shard(host uuid) RETURNS smallint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (abs(hashtext(host::text)) % 16)::smallint;
$$;
-- +goose StatementEnd

CREATE TRIGGER hosts_compliance_deleted AFTER UPDATE OF deleted_at ON hosts
    FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL)
    EXECUTE FUNCTION compliance_forget_host();

-- +goose Down
ALTER TABLE events DROP CONSTRAINT events_topic_check;
ALTER TABLE events ADD CONSTRAINT events_topic_check
    CHECK (topic IN ('liveness', 'discovery', 'intelligence', 'jobs', 'alerts'));
DROP TRIGGER hosts_compliance_deleted ON hosts;
DROP FUNCTION compliance_forget_host();
DROP FUNCTION compliance_shard(uuid);
DROP TABLE fleet_compliance_history;
DROP TABLE rule_fleet;
DROP TABLE fleet_compliance;
DROP TABLE host_compliance_history;
DROP TABLE host_compliance;
DROP TABLE rule_transitions;
DROP TABLE rule_states;
DROP TABLE evidence;
DROP TABLE scans;
DROP TABLE scan_batches;
DROP TABLE scan_variables;
