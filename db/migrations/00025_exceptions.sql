-- Exceptions (risk acceptance): one rule accepted as failing on one host, on a group's
-- hosts or fleet-wide, until an expiry, requested by one person and decided by another.
-- While an approved exception is in force, the rule's fail on a covered host is recorded
-- as excepted: in rule_states (naming the exception), as a transition (so as_of answers
-- see it), and in every rollup, which gain an excepted count (neither pass nor fail).

-- +goose Up
CREATE TABLE compliance_exceptions (
    id               uuid PRIMARY KEY,
    rule_id          text NOT NULL,
    scope            text NOT NULL CHECK (scope IN ('host', 'group', 'fleet')),
    host_id          uuid REFERENCES hosts (id) ON DELETE CASCADE,
    group_id         uuid REFERENCES host_groups (id) ON DELETE CASCADE,
    status           text NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'revoked', 'expired')),
    reason           text NOT NULL CHECK (char_length(reason) BETWEEN 1 AND 2000),
    expires_at       timestamptz NOT NULL,
    requested_by     text NOT NULL, -- the requesting principal's id (user or service account)
    requested_at     timestamptz NOT NULL,
    decided_by       text,
    decided_at       timestamptz,
    decision_reason  text,
    revoked_by       text,
    revoked_at       timestamptz,
    revoke_reason    text,
    expired_at       timestamptz,
    -- When the exception_expiring alert was raised for it (once per exception).
    expiring_alerted_at timestamptz,
    correlation_id   text NOT NULL DEFAULT '',
    updated_at       timestamptz NOT NULL,
    CHECK ((scope = 'host') = (host_id IS NOT NULL)),
    CHECK ((scope = 'group') = (group_id IS NOT NULL))
);
-- One open (pending or approved) exception per scope and rule.
CREATE UNIQUE INDEX compliance_exceptions_open_key ON compliance_exceptions
    (rule_id, scope, COALESCE(host_id, group_id, '00000000-0000-0000-0000-000000000000'::uuid))
    WHERE status IN ('pending', 'approved');
CREATE INDEX compliance_exceptions_id_desc_idx ON compliance_exceptions (id DESC);
CREATE INDEX compliance_exceptions_host_idx ON compliance_exceptions (host_id, id DESC) WHERE host_id IS NOT NULL;
CREATE INDEX compliance_exceptions_group_idx ON compliance_exceptions (group_id, id DESC) WHERE group_id IS NOT NULL;
-- The expiry job's scan, and the lookup of exceptions in force during a scan.
CREATE INDEX compliance_exceptions_open_expiry_idx ON compliance_exceptions (expires_at)
    WHERE status IN ('pending', 'approved');
CREATE INDEX compliance_exceptions_in_force_idx ON compliance_exceptions (rule_id) WHERE status = 'approved';

ALTER TABLE rule_states DROP CONSTRAINT rule_states_status_check;
ALTER TABLE rule_states ADD CONSTRAINT rule_states_status_check
    CHECK (status IN ('pass', 'fail', 'skipped', 'error', 'excepted'));
ALTER TABLE rule_states ADD COLUMN exception_id uuid;
ALTER TABLE rule_transitions ADD COLUMN exception_id uuid;
CREATE INDEX rule_states_exception_idx ON rule_states (exception_id) WHERE exception_id IS NOT NULL;

ALTER TABLE host_compliance ADD COLUMN excepted_count integer NOT NULL DEFAULT 0;
ALTER TABLE host_compliance_history ADD COLUMN excepted_count integer NOT NULL DEFAULT 0;
ALTER TABLE fleet_compliance ADD COLUMN excepted_count bigint NOT NULL DEFAULT 0;
ALTER TABLE fleet_compliance_history ADD COLUMN excepted_count bigint NOT NULL DEFAULT 0;
ALTER TABLE rule_fleet ADD COLUMN excepted_hosts integer NOT NULL DEFAULT 0;

-- A deleted host leaves the fleet numbers with its excepted results too.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION compliance_forget_host() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE fleet_compliance f SET
        pass_count = f.pass_count - h.pass_count, fail_count = f.fail_count - h.fail_count,
        skipped_count = f.skipped_count - h.skipped_count, error_count = f.error_count - h.error_count,
        excepted_count = f.excepted_count - h.excepted_count
    FROM host_compliance h
    WHERE h.host_id = OLD.id AND f.framework = h.framework AND f.shard = compliance_shard(OLD.id);
    UPDATE rule_fleet r SET
        pass_hosts = r.pass_hosts - (s.status = 'pass')::int, fail_hosts = r.fail_hosts - (s.status = 'fail')::int,
        skipped_hosts = r.skipped_hosts - (s.status = 'skipped')::int, error_hosts = r.error_hosts - (s.status = 'error')::int,
        excepted_hosts = r.excepted_hosts - (s.status = 'excepted')::int
    FROM rule_states s
    WHERE s.host_id = OLD.id AND r.rule_id = s.rule_id;
    PERFORM pg_notify('openwatch_compliance', '');
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION compliance_forget_host() RETURNS trigger LANGUAGE plpgsql AS $$
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
ALTER TABLE rule_fleet DROP COLUMN excepted_hosts;
ALTER TABLE fleet_compliance_history DROP COLUMN excepted_count;
ALTER TABLE fleet_compliance DROP COLUMN excepted_count;
ALTER TABLE host_compliance_history DROP COLUMN excepted_count;
ALTER TABLE host_compliance DROP COLUMN excepted_count;
DROP INDEX rule_states_exception_idx;
ALTER TABLE rule_transitions DROP COLUMN exception_id;
ALTER TABLE rule_states DROP COLUMN exception_id;
UPDATE rule_states SET status = 'fail' WHERE status = 'excepted';
ALTER TABLE rule_states DROP CONSTRAINT rule_states_status_check;
ALTER TABLE rule_states ADD CONSTRAINT rule_states_status_check
    CHECK (status IN ('pass', 'fail', 'skipped', 'error'));
DROP TABLE compliance_exceptions;
