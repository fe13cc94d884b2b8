-- +goose Up

-- Network scans for SSH servers (POST /discovery/cidr). A scan row and its River job are
-- inserted in one transaction; the job probes every address × port of the range with a
-- TCP connect and the SSH banner, and records what answered in discovery_scan_hosts.
CREATE TABLE discovery_scans (
    id           uuid PRIMARY KEY,
    -- The normalised network, host bits cleared (10.0.1.0/24, fd00::/126).
    cidr         text NOT NULL,
    ports        integer[] NOT NULL CHECK (cardinality(ports) BETWEEN 1 AND 16),
    status       text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'completed', 'failed')),
    -- Addresses × ports to try; scanned counts the tries done, found the SSH servers.
    total        bigint NOT NULL CHECK (total >= 0),
    scanned      bigint NOT NULL DEFAULT 0,
    found        bigint NOT NULL DEFAULT 0,
    error        text,
    created_by   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz
);
CREATE INDEX discovery_scans_created_at_idx ON discovery_scans (created_at);

-- One SSH server a scan found. The key makes a re-run of a job (after a crash) idempotent.
CREATE TABLE discovery_scan_hosts (
    scan_id             uuid NOT NULL REFERENCES discovery_scans (id) ON DELETE CASCADE,
    address             inet NOT NULL,
    port                integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
    ssh_banner          text NOT NULL,
    response_time_ms    integer,
    found_at            timestamptz NOT NULL DEFAULT now(),
    registered_host_id  uuid REFERENCES hosts (id) ON DELETE SET NULL,
    -- Set while a registration of the address is in progress, so two requests cannot both
    -- create a host; a claim older than a minute (a crashed request) is ignored.
    claimed_at          timestamptz,
    PRIMARY KEY (scan_id, address, port)
);

-- +goose Down
DROP TABLE discovery_scan_hosts;
DROP TABLE discovery_scans;
