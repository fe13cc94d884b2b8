-- Self-enrollment (internal/enroll): enrollment tokens an administrator creates (the
-- secret is shown once and stored as its SHA-256; uses are counted atomically against
-- max_uses), and the requests hosts send with them. A request carries the host's facts
-- and host public key, waits in a queue until approved or denied (or is approved at once
-- when its token says so), and is polled by the host with a secret of its own (stored as
-- its SHA-256) until the signed host certificate is there, which it reports installed.

-- +goose Up
CREATE TABLE enrollment_tokens (
    id            uuid PRIMARY KEY,
    name          text NOT NULL,
    token_hash    bytea NOT NULL UNIQUE,
    -- The first characters of the secret, to recognise it in lists.
    token_prefix  text NOT NULL,
    expires_at    timestamptz NOT NULL,
    max_uses      integer NOT NULL CHECK (max_uses BETWEEN 1 AND 100000),
    uses          integer NOT NULL DEFAULT 0,
    auto_approve  boolean NOT NULL DEFAULT false,
    group_id      uuid REFERENCES host_groups (id) ON DELETE SET NULL,
    environment   text NOT NULL DEFAULT 'default',
    tags          text[] NOT NULL DEFAULT '{}',
    -- The scan account the script creates and the host's credential logs in as.
    username      text NOT NULL DEFAULT 'openwatch',
    created_by    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    revoked_by    text,
    CONSTRAINT enrollment_tokens_uses_check CHECK (uses BETWEEN 0 AND max_uses)
);
CREATE INDEX enrollment_tokens_created_idx ON enrollment_tokens (created_at DESC, id DESC);

CREATE TABLE enrollment_requests (
    id                    uuid PRIMARY KEY,
    token_id              uuid NOT NULL REFERENCES enrollment_tokens (id) ON DELETE CASCADE,
    poll_secret_hash      bytea NOT NULL UNIQUE,
    status                text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'denied')),
    hostname              text NOT NULL,
    address               inet NOT NULL,
    port                  integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
    -- Where the request came from, as the server saw it.
    client_address        text NOT NULL DEFAULT '',
    facts                 jsonb NOT NULL,
    host_key_type         text NOT NULL,
    host_key              text NOT NULL,
    host_key_fingerprint  text NOT NULL,
    host_id               uuid REFERENCES hosts (id) ON DELETE SET NULL,
    certificate_id        uuid REFERENCES ssh_host_certificates (id) ON DELETE SET NULL,
    decided_by            text,
    decided_at            timestamptz,
    deny_reason           text,
    -- When the host reported its certificate installed and sshd reloaded; its first
    -- system info collection and compliance scan are queued then.
    installed_at          timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT enrollment_requests_decided_check CHECK ((status = 'pending') = (decided_at IS NULL))
);
-- One live request per host key: presenting a key again while its request is pending or
-- approved is a replay.
CREATE UNIQUE INDEX enrollment_requests_key_live_idx ON enrollment_requests (host_key_fingerprint) WHERE status <> 'denied';
CREATE INDEX enrollment_requests_created_idx ON enrollment_requests (created_at DESC, id DESC);
CREATE INDEX enrollment_requests_status_idx ON enrollment_requests (status, created_at DESC, id DESC);

-- A host's first scan after its enrollment is triggered by it.
ALTER TABLE scans DROP CONSTRAINT scans_trigger_check;
ALTER TABLE scans ADD CONSTRAINT scans_trigger_check CHECK (trigger IN ('manual', 'batch', 'scheduled', 'remediation', 'enrollment'));

-- +goose Down
DELETE FROM scans WHERE trigger = 'enrollment';
ALTER TABLE scans DROP CONSTRAINT scans_trigger_check;
ALTER TABLE scans ADD CONSTRAINT scans_trigger_check CHECK (trigger IN ('manual', 'batch', 'scheduled', 'remediation'));
DROP TABLE enrollment_requests;
DROP TABLE enrollment_tokens;
