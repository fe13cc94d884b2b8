-- +goose Up

-- SSH host keys, trusted on first use. A host has at most one trusted key and at most one
-- pending key (the latest different key it presented): connections fail closed while the
-- presented key is not the trusted one, until an operator approves the pending key or
-- resets the host's keys. The partial unique indexes make two processes that contact a
-- new host at the same time agree on one trusted key (INSERT ... ON CONFLICT DO NOTHING).
CREATE TABLE host_ssh_keys (
    id                  uuid PRIMARY KEY,
    host_id             uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    key_type            text NOT NULL,
    fingerprint_sha256  text NOT NULL,
    public_key          text NOT NULL,
    status              text NOT NULL,
    first_seen_at       timestamptz NOT NULL DEFAULT now(),
    last_seen_at        timestamptz NOT NULL DEFAULT now(),
    approved_by         text,
    approved_at         timestamptz,
    CONSTRAINT host_ssh_keys_status_check CHECK (status IN ('trusted', 'pending')),
    CONSTRAINT host_ssh_keys_approved_check CHECK ((approved_by IS NULL) = (approved_at IS NULL))
);
CREATE UNIQUE INDEX host_ssh_keys_trusted_key ON host_ssh_keys (host_id) WHERE status = 'trusted';
CREATE UNIQUE INDEX host_ssh_keys_pending_key ON host_ssh_keys (host_id) WHERE status = 'pending';

-- What SSH learned about a host: the privilege mode that worked last (root, sudo -n,
-- sudo with the password on stdin, or none), reused by the next connection.
CREATE TABLE host_ssh_state (
    host_id     uuid PRIMARY KEY REFERENCES hosts (id) ON DELETE CASCADE,
    privilege   text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT host_ssh_state_privilege_check CHECK (privilege IN ('root', 'sudo', 'sudo_password', 'none'))
);

-- +goose Down
DROP TABLE host_ssh_state;
DROP TABLE host_ssh_keys;
