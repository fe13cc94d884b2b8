-- Health checks: probes run on a host over SSH, as root, before and after a change
-- (internal/health). A check is a kind (service, tcp, http, command) with its typed
-- parameters in params, a per-attempt timeout, and retries with a delay between attempts.
-- The last manual test (POST /health-checks/{id}:test) is kept on the row.

-- +goose Up
CREATE TABLE health_checks (
    id               uuid PRIMARY KEY,
    name             text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 128),
    kind             text NOT NULL CHECK (kind IN ('service', 'tcp', 'http', 'command')),
    -- The kind's parameters (internal/health.Params as JSON).
    params           jsonb NOT NULL,
    timeout_sec      integer NOT NULL CHECK (timeout_sec BETWEEN 1 AND 300),
    retries          integer NOT NULL DEFAULT 0 CHECK (retries BETWEEN 0 AND 10),
    retry_delay_sec  integer NOT NULL DEFAULT 0 CHECK (retry_delay_sec BETWEEN 0 AND 300),
    enabled          boolean NOT NULL DEFAULT true,
    created_by       text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz,
    -- The last manual test: when, on which host, and its outcome.
    last_tested_at   timestamptz,
    last_host_id     uuid REFERENCES hosts (id) ON DELETE SET NULL,
    last_ok          boolean,
    last_detail      text,
    last_output      text,
    last_duration_ms integer,
    last_attempts    integer
);
CREATE UNIQUE INDEX health_checks_name_live_idx ON health_checks (name) WHERE deleted_at IS NULL;
CREATE INDEX health_checks_live_idx ON health_checks (id) WHERE deleted_at IS NULL;

-- +goose Down
DROP TABLE health_checks;
