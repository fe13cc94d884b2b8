-- +goose Up

-- TOTP: the secret is sealed (internal/seal) and bound to its row; mfa_enabled_at is set
-- once the user proved possession with a code. mfa_last_step is the last accepted time
-- step, so a code is never accepted twice.
ALTER TABLE users
    ADD COLUMN mfa_secret_sealed bytea,
    ADD COLUMN mfa_enabled_at    timestamptz,
    ADD COLUMN mfa_last_step     bigint NOT NULL DEFAULT 0;

-- Single-use recovery codes, stored only as SHA-256.
CREATE TABLE user_recovery_codes (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at    timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- Workspace settings, one JSON document per key.
CREATE TABLE settings (
    key         text PRIMARY KEY,
    value       jsonb NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  uuid REFERENCES users (id)
);

-- +goose Down
DROP TABLE settings;
DROP TABLE user_recovery_codes;
ALTER TABLE users DROP COLUMN mfa_secret_sealed, DROP COLUMN mfa_enabled_at, DROP COLUMN mfa_last_step;
