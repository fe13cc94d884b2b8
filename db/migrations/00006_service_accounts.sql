-- +goose Up

-- Machine identities. A service account holds one role; its tokens carry a role no
-- higher than the account's. Disabling (deleting) an account revokes its tokens.
CREATE TABLE service_accounts (
    id           uuid PRIMARY KEY,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 128),
    description  text NOT NULL DEFAULT '',
    role         text NOT NULL,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    disabled_at  timestamptz
);
CREATE UNIQUE INDEX service_accounts_name_live_key ON service_accounts (lower(name)) WHERE disabled_at IS NULL;

-- API tokens. The secret is stored only as SHA-256; the id is public (it is the Basic
-- auth user name).
CREATE TABLE api_tokens (
    id                  uuid PRIMARY KEY,
    service_account_id  uuid NOT NULL REFERENCES service_accounts (id) ON DELETE CASCADE,
    name                text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 128),
    secret_hash         bytea NOT NULL,
    role                text NOT NULL,
    created_by          text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz,
    revoked_at          timestamptz,
    last_used_at        timestamptz
);
CREATE INDEX api_tokens_service_account_id_idx ON api_tokens (service_account_id, created_at);

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE service_accounts;
