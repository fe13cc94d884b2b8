-- +goose Up

-- Discovery: the latest system information of each host, one current row per host. The row
-- is rewritten only when a collected field changed (content_hash); a collection that finds
-- the same facts only moves collected_at.
CREATE TABLE host_system_info (
    host_id              uuid PRIMARY KEY REFERENCES hosts (id) ON DELETE CASCADE,
    os_name              text,
    os_version           text,
    os_version_full      text,
    os_id                text,
    os_id_like           text,
    os_pretty_name       text,
    platform_identifier  text,
    os_family            text,
    kernel_name          text,
    kernel_release       text,
    kernel_version       text,
    architecture         text,
    mem_total_mb         integer,
    mem_available_mb     integer,
    swap_total_mb        integer,
    disk_total_gb        integer,
    disk_used_gb         integer,
    disk_free_gb         integer,
    hostname             text,
    fqdn                 text,
    selinux_status       text,
    apparmor_enabled     boolean,
    firewall_service     text,
    firewall_status      text,
    content_hash         text NOT NULL,
    collected_at         timestamptz NOT NULL,
    changed_at           timestamptz NOT NULL
);

-- Intelligence: the current value of each category of each host, written on change. A
-- category whose command failed keeps its last good value (value, value_hash, changed_at)
-- with fresh = false and the reason in error; value is null only when no collection of
-- the category ever succeeded.
CREATE TABLE host_intel_categories (
    host_id       uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    category      text NOT NULL,
    value         jsonb,
    value_hash    text,
    collected_at  timestamptz NOT NULL,
    changed_at    timestamptz,
    fresh         boolean NOT NULL,
    error         text,
    PRIMARY KEY (host_id, category),
    CONSTRAINT host_intel_categories_category_check CHECK (category IN
        ('packages', 'services', 'ports', 'users', 'groups', 'mounts', 'kernel', 'reboot', 'config_files', 'interfaces'))
);

-- When each host was last collected or discovered (attempts, successful or not, and
-- queued jobs), so the schedulers pick the most overdue hosts first and do not retry a
-- failing host every tick.
CREATE TABLE host_intel_schedule (
    host_id                 uuid PRIMARY KEY REFERENCES hosts (id) ON DELETE CASCADE,
    intel_attempted_at      timestamptz,
    discovery_attempted_at  timestamptz
);

-- The hosts the schedulers may log in to: live, out of maintenance (their own and their
-- group's) and found reachable by the liveness poller (unreachable and never-probed hosts
-- wait), with when each was last tried.
CREATE VIEW intel_schedulable_hosts AS
    SELECT h.id, h.created_at, h.os_discovered_at, s.intel_attempted_at, s.discovery_attempted_at
    FROM hosts h
    JOIN host_liveness l ON l.host_id = h.id AND l.reachability_status = 'reachable'
    LEFT JOIN host_groups g ON g.id = h.group_id
    LEFT JOIN host_intel_schedule s ON s.host_id = h.id
    WHERE h.deleted_at IS NULL AND NOT h.maintenance_mode AND NOT COALESCE(g.maintenance_mode, false);

-- The differences between two collections. The first collection of a host is a baseline
-- and raises none.
CREATE TABLE intelligence_events (
    id              uuid PRIMARY KEY,
    host_id         uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    event_code      text NOT NULL,
    severity        text NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
    detail          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object'),
    occurred_at     timestamptz NOT NULL,
    detected_at     timestamptz NOT NULL,
    correlation_id  text NOT NULL DEFAULT ''
);
-- Lists are newest first on (occurred_at, id); each filter has an index ending in that key.
CREATE INDEX intelligence_events_time_idx ON intelligence_events (occurred_at, id);
CREATE INDEX intelligence_events_host_time_idx ON intelligence_events (host_id, occurred_at, id);
CREATE INDEX intelligence_events_code_time_idx ON intelligence_events (event_code, occurred_at, id);
CREATE INDEX intelligence_events_severity_time_idx ON intelligence_events (severity, occurred_at, id);

-- The activity id of a monitoring transition (host_monitoring_history ids are bigints): a
-- stable UUID (version 8, from SHA-256 of "openwatch:monitoring:<id>"); package intel
-- computes the same value in Go.
-- +goose StatementBegin
CREATE FUNCTION openwatch_monitoring_activity_id(id bigint) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT (substr(h, 1, 12) || '8' || substr(h, 14, 3)
            || to_hex((('x' || substr(h, 17, 1))::bit(4)::int & 3) | 8)
            || substr(h, 18, 15))::uuid
    FROM (SELECT encode(sha256(convert_to('openwatch:monitoring:' || id::text, 'UTF8')), 'hex') AS h) s
$$;
-- +goose StatementEnd

-- The unified activity feed: one row shape over alerts, intelligence events, monitoring
-- transitions and audit events. The view is flattened into the query, so a filter on
-- source skips whole tables and ORDER BY occurred_at DESC, id DESC LIMIT n merges the
-- sources' time indexes.
CREATE VIEW activity_feed AS
    SELECT al.id, 'alert'::text AS source, al.severity, al.host_id, al.title,
           (al.alert_type || ' (' || al.status || ')')::text AS summary,
           al.opened_at AS occurred_at, '{}'::jsonb AS detail
    FROM alerts al
UNION ALL
    SELECT e.id, 'intelligence'::text, e.severity, e.host_id, e.event_code, ''::text, e.occurred_at, e.detail
    FROM intelligence_events e
UNION ALL
    SELECT openwatch_monitoring_activity_id(m.id), 'monitoring'::text,
           (CASE m.monitoring_state WHEN 'online' THEN 'info' WHEN 'maintenance' THEN 'info' WHEN 'degraded' THEN 'medium'
                WHEN 'critical' THEN 'high' WHEN 'down' THEN 'high' ELSE 'low' END)::text,
           m.host_id, ('Host ' || m.monitoring_state)::text,
           (COALESCE(m.previous_state, 'unknown') || ' -> ' || m.monitoring_state || COALESCE(': ' || m.error_message, ''))::text,
           m.check_time, '{}'::jsonb
    FROM host_monitoring_history m
UNION ALL
    SELECT au.id, 'audit'::text,
           (CASE au.severity WHEN 'critical' THEN 'critical' WHEN 'warning' THEN 'medium' WHEN 'notice' THEN 'low' ELSE 'info' END)::text,
           (CASE WHEN au.resource_type = 'host'
                      AND au.resource_id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                 THEN au.resource_id::uuid END),
           au.action,
           (au.actor_type || COALESCE(' ' || au.actor_id, '') || COALESCE(' on ' || au.resource_type || ' ' || au.resource_id, ''))::text,
           au.occurred_at, '{}'::jsonb
    FROM audit_events au;

-- +goose Down
DROP VIEW activity_feed;
DROP FUNCTION openwatch_monitoring_activity_id(bigint);
DROP TABLE intelligence_events;
DROP VIEW intel_schedulable_hosts;
DROP TABLE host_intel_schedule;
DROP TABLE host_intel_categories;
DROP TABLE host_system_info;
