-- +goose Up

-- Liveness of each host: the poller's schedule (next_probe_at), the in-flight marker of a
-- probe (probe_lease_until) and the hysteresis counters of the three probe layers (ping =
-- TCP connect and SSH banner, ssh = authenticated login, privilege = root through the
-- learned mode). Every host gets its row when it is created (trigger below), due at once.
CREATE TABLE host_liveness (
    host_id                          uuid PRIMARY KEY REFERENCES hosts (id) ON DELETE CASCADE,
    monitoring_state                 text NOT NULL DEFAULT 'unknown'
        CHECK (monitoring_state IN ('online', 'degraded', 'critical', 'down', 'maintenance', 'unknown')),
    reachability_status              text NOT NULL DEFAULT 'unknown'
        CHECK (reachability_status IN ('reachable', 'unreachable', 'unknown')),
    last_probe_at                    timestamptz,
    last_response_ms                 integer,
    consecutive_failures             integer NOT NULL DEFAULT 0,
    ping_consecutive_failures        integer NOT NULL DEFAULT 0,
    ping_consecutive_successes       integer NOT NULL DEFAULT 0,
    ssh_consecutive_failures         integer NOT NULL DEFAULT 0,
    ssh_consecutive_successes        integer NOT NULL DEFAULT 0,
    privilege_consecutive_failures   integer NOT NULL DEFAULT 0,
    privilege_consecutive_successes  integer NOT NULL DEFAULT 0,
    privilege                        text CHECK (privilege IN ('root', 'sudo', 'sudo_password', 'none')),
    ssh_banner                       text,
    last_state_change_at             timestamptz,
    last_error_type                  text,
    last_error_message               text,
    next_probe_at                    timestamptz NOT NULL DEFAULT now(),
    -- Set while a probe of the host runs (poller claim or on-demand check); a probe whose
    -- process died is forgotten when the lease runs out.
    probe_lease_until                timestamptz,
    updated_at                       timestamptz NOT NULL DEFAULT now()
);
-- The poller's due scan: oldest next_probe_at first.
CREATE INDEX host_liveness_next_probe_idx ON host_liveness (next_probe_at);
CREATE INDEX host_liveness_state_idx ON host_liveness (monitoring_state);

-- One row per monitoring state transition (not per probe).
CREATE TABLE host_monitoring_history (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    host_id           uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    check_time        timestamptz NOT NULL DEFAULT now(),
    monitoring_state  text NOT NULL
        CHECK (monitoring_state IN ('online', 'degraded', 'critical', 'down', 'maintenance', 'unknown')),
    previous_state    text
        CHECK (previous_state IN ('online', 'degraded', 'critical', 'down', 'maintenance', 'unknown')),
    response_time_ms  integer,
    ping_ok           boolean,
    ssh_ok            boolean,
    privilege_ok      boolean,
    failed_layer      text CHECK (failed_layer IN ('ping', 'ssh', 'privilege')),
    error_message     text,
    error_type        text
);
CREATE INDEX host_monitoring_history_host_idx ON host_monitoring_history (host_id, id DESC);
CREATE INDEX host_monitoring_history_time_idx ON host_monitoring_history (check_time DESC, id DESC);

-- Alerts. Liveness raises host_unreachable (at most one active per host) and resolves it
-- when the host comes back; the alert API arrives with the compliance work.
CREATE TABLE alerts (
    id           uuid PRIMARY KEY,
    alert_type   text NOT NULL CHECK (char_length(alert_type) BETWEEN 1 AND 64),
    host_id      uuid REFERENCES hosts (id) ON DELETE CASCADE,
    severity     text NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
    status       text NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'acknowledged', 'silenced', 'resolved', 'dismissed')),
    title        text NOT NULL,
    detail       jsonb NOT NULL DEFAULT '{}',
    opened_at    timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alerts_opened_idx ON alerts (opened_at DESC, id DESC);
CREATE INDEX alerts_host_idx ON alerts (host_id, opened_at DESC);
CREATE UNIQUE INDEX alerts_host_unreachable_active_key ON alerts (host_id)
    WHERE alert_type = 'host_unreachable' AND status IN ('open', 'acknowledged', 'silenced');

-- The poller's counters (one row), added to once per tick and per on-demand check.
CREATE TABLE liveness_counters (
    id                      boolean PRIMARY KEY DEFAULT true CHECK (id),
    probe_count             bigint NOT NULL DEFAULT 0,
    probe_success_count     bigint NOT NULL DEFAULT 0,
    probe_failure_count     bigint NOT NULL DEFAULT 0,
    state_transition_count  bigint NOT NULL DEFAULT 0,
    last_probe_at           timestamptz,
    last_tick_at            timestamptz
);
INSERT INTO liveness_counters DEFAULT VALUES;

-- Host list pages show the monitoring state, so a state change must clear the page caches
-- (channel openwatch_inventory, 00010). Rows change on every probe; only a transition, or a
-- row born in a known state, announces itself.
CREATE TRIGGER host_liveness_inventory_notify_update AFTER UPDATE ON host_liveness
    FOR EACH ROW WHEN (OLD.monitoring_state IS DISTINCT FROM NEW.monitoring_state
                       OR OLD.reachability_status IS DISTINCT FROM NEW.reachability_status)
    EXECUTE FUNCTION openwatch_inventory_notify();
CREATE TRIGGER host_liveness_inventory_notify_insert AFTER INSERT ON host_liveness
    FOR EACH ROW WHEN (NEW.monitoring_state <> 'unknown')
    EXECUTE FUNCTION openwatch_inventory_notify();

-- A host entering or leaving maintenance (its own flag, its group's, or a move to another
-- group) is due at once, so the poller marks it (or probes it again) without waiting for
-- its next scheduled probe.
-- +goose StatementBegin
CREATE FUNCTION host_liveness_maintenance_due() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'hosts' THEN
        UPDATE host_liveness SET next_probe_at = now()
        WHERE host_id = NEW.id AND next_probe_at > now();
    ELSE
        UPDATE host_liveness l SET next_probe_at = now()
        FROM hosts h
        WHERE h.group_id = NEW.id AND l.host_id = h.id AND l.next_probe_at > now();
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER hosts_liveness_maintenance AFTER UPDATE OF maintenance_mode, group_id ON hosts
    FOR EACH ROW WHEN (OLD.maintenance_mode IS DISTINCT FROM NEW.maintenance_mode
                       OR OLD.group_id IS DISTINCT FROM NEW.group_id)
    EXECUTE FUNCTION host_liveness_maintenance_due();
CREATE TRIGGER host_groups_liveness_maintenance AFTER UPDATE OF maintenance_mode ON host_groups
    FOR EACH ROW WHEN (OLD.maintenance_mode IS DISTINCT FROM NEW.maintenance_mode)
    EXECUTE FUNCTION host_liveness_maintenance_due();

-- A new host gets its liveness row, due at once, in the statement that creates it (COPY
-- included), so the poller never has to look for hosts without one.
-- +goose StatementBegin
CREATE FUNCTION host_liveness_create() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO host_liveness (host_id) SELECT id FROM new_hosts WHERE deleted_at IS NULL;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER hosts_liveness_create AFTER INSERT ON hosts
    REFERENCING NEW TABLE AS new_hosts
    FOR EACH STATEMENT EXECUTE FUNCTION host_liveness_create();
INSERT INTO host_liveness (host_id) SELECT id FROM hosts WHERE deleted_at IS NULL;

-- A deleted host is no longer polled: its liveness row goes (its history stays).
-- +goose StatementBegin
CREATE FUNCTION host_liveness_forget_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM host_liveness WHERE host_id = NEW.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER hosts_liveness_deleted AFTER UPDATE OF deleted_at ON hosts
    FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL)
    EXECUTE FUNCTION host_liveness_forget_deleted();

-- +goose Down
DROP TRIGGER hosts_liveness_deleted ON hosts;
DROP TRIGGER hosts_liveness_create ON hosts;
DROP FUNCTION host_liveness_create();
DROP FUNCTION host_liveness_forget_deleted();
DROP TRIGGER host_groups_liveness_maintenance ON host_groups;
DROP TRIGGER hosts_liveness_maintenance ON hosts;
DROP FUNCTION host_liveness_maintenance_due();
DROP TABLE liveness_counters;
DROP TABLE alerts;
DROP TABLE host_monitoring_history;
DROP TABLE host_liveness;
