-- +goose Up

-- Host groups. A group in maintenance puts all its hosts in maintenance.
CREATE TABLE host_groups (
    id                uuid PRIMARY KEY,
    name              text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 256),
    description       text NOT NULL DEFAULT '',
    maintenance_mode  boolean NOT NULL DEFAULT false,
    created_by        text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX host_groups_name_key ON host_groups (lower(name));

-- The inventory. Hosts are soft-deleted; a hostname is unique per environment among live
-- hosts (a partial unique index, so two racing creates cannot both win).
CREATE TABLE hosts (
    id                   uuid PRIMARY KEY,
    hostname             text NOT NULL CHECK (char_length(hostname) BETWEEN 1 AND 256),
    ip_address           inet NOT NULL,
    port                 integer NOT NULL DEFAULT 22 CHECK (port BETWEEN 1 AND 65535),
    display_name         text NOT NULL DEFAULT '',
    description          text NOT NULL DEFAULT '',
    environment          text NOT NULL DEFAULT 'default',
    tags                 text[] NOT NULL DEFAULT '{}',
    group_id             uuid REFERENCES host_groups (id) ON DELETE SET NULL,
    username             text NOT NULL DEFAULT '',
    created_by           text NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    maintenance_mode     boolean NOT NULL DEFAULT false,
    check_priority       integer NOT NULL DEFAULT 5 CHECK (check_priority BETWEEN 1 AND 10),
    last_scan_at         timestamptz,
    os_family            text,
    os_version           text,
    architecture         text,
    platform_identifier  text,
    os_discovered_at     timestamptz,
    deleted_at           timestamptz
);
CREATE UNIQUE INDEX hosts_hostname_env_live_key ON hosts (lower(hostname), environment) WHERE deleted_at IS NULL;
-- Keyset order for lists, and one index per list filter.
CREATE INDEX hosts_live_id_idx ON hosts (id) WHERE deleted_at IS NULL;
CREATE INDEX hosts_environment_idx ON hosts (environment, id) WHERE deleted_at IS NULL;
CREATE INDEX hosts_group_idx ON hosts (group_id, id) WHERE deleted_at IS NULL;
CREATE INDEX hosts_tags_idx ON hosts USING gin (tags) WHERE deleted_at IS NULL;
CREATE INDEX hosts_maintenance_idx ON hosts (maintenance_mode, id) WHERE deleted_at IS NULL;

-- +goose Down
DROP TABLE hosts;
DROP TABLE host_groups;
