-- The SSH certificate authority (internal/sshca): a user CA and a host CA, each an
-- Ed25519 key generated on first use with its private key sealed (bound to the row id).
-- Rotation retires the active key of a kind and keeps it trusted until trusted_until
-- (the overlap), so both are listed until then. Host certificates the host CA issued are
-- recorded with their serial, key and validity; revoked ones are served as a KRL.

-- +goose Up
CREATE TABLE ssh_ca_keys (
    id                  uuid PRIMARY KEY,
    kind                text NOT NULL CHECK (kind IN ('user', 'host')),
    -- The key id (a stable name of the key, also written in the comment of its line).
    key_id              text NOT NULL UNIQUE,
    -- authorized_keys format, without comment.
    public_key          text NOT NULL,
    fingerprint_sha256  text NOT NULL,
    -- The raw Ed25519 private key (64 bytes), sealed with the row id as associated data.
    private_key_sealed  bytea NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    -- Set when a rotation replaced the key; it stays trusted until trusted_until.
    retired_at          timestamptz,
    trusted_until       timestamptz,
    CONSTRAINT ssh_ca_keys_retired_check CHECK ((retired_at IS NULL) = (trusted_until IS NULL))
);
CREATE UNIQUE INDEX ssh_ca_keys_active_idx ON ssh_ca_keys (kind) WHERE retired_at IS NULL;

-- Serials of every certificate the CAs sign (user and host), unique across both.
CREATE SEQUENCE ssh_cert_serial_seq;

CREATE TABLE ssh_host_certificates (
    id                  uuid PRIMARY KEY,
    serial              bigint NOT NULL UNIQUE,
    host_id             uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
    ca_key_id           uuid NOT NULL REFERENCES ssh_ca_keys (id),
    key_type            text NOT NULL,
    fingerprint_sha256  text NOT NULL,
    principals          text[] NOT NULL,
    -- The certificate in authorized_keys format (what the host installs as HostCertificate).
    certificate         text NOT NULL,
    valid_after         timestamptz NOT NULL,
    valid_before        timestamptz NOT NULL,
    -- 'expired' is not stored: an issued certificate past valid_before reads as expired.
    status              text NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'revoked')),
    -- The certificate this one renewed, if any.
    renewed_from        uuid REFERENCES ssh_host_certificates (id) ON DELETE SET NULL,
    issued_by           text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    revoked_at          timestamptz,
    revoked_by          text,
    revoke_reason       text,
    CONSTRAINT ssh_host_certificates_validity_check CHECK (valid_before > valid_after),
    CONSTRAINT ssh_host_certificates_revoked_check CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
);
CREATE INDEX ssh_host_certificates_host_idx ON ssh_host_certificates (host_id, created_at DESC);
CREATE INDEX ssh_host_certificates_revoked_idx ON ssh_host_certificates (ca_key_id) WHERE status = 'revoked';

-- +goose Down
DROP TABLE ssh_host_certificates;
DROP SEQUENCE ssh_cert_serial_seq;
DROP TABLE ssh_ca_keys;
