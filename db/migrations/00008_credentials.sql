-- +goose Up

-- SSH credentials, scoped to the whole system or to one host. Secret material is sealed
-- (internal/seal) with associated data {ssh_credentials, <column>, <id>}, so a ciphertext
-- copied into another row or column does not open; the key's type, size, SHA-256
-- fingerprint and comment are kept in clear. Each auth method holds exactly the secrets it
-- uses. Rows are soft-deleted (deleted_at set, is_active false).
CREATE TABLE ssh_credentials (
    id                   uuid PRIMARY KEY,
    scope                text NOT NULL,
    scope_id             uuid REFERENCES hosts (id) ON DELETE CASCADE,
    name                 text NOT NULL,
    description          text NOT NULL DEFAULT '',
    username             text NOT NULL,
    auth_method          text NOT NULL,
    private_key_sealed   bytea,
    passphrase_sealed    bytea,
    password_sealed      bytea,
    ssh_key_type         text,
    ssh_key_bits         integer,
    ssh_key_fingerprint  text,
    ssh_key_comment      text,
    is_default           boolean NOT NULL DEFAULT false,
    is_active            boolean NOT NULL DEFAULT true,
    created_by           text NOT NULL DEFAULT '',
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    deleted_at           timestamptz,
    CONSTRAINT ssh_credentials_scope_check CHECK (scope IN ('system', 'host')),
    CONSTRAINT ssh_credentials_scope_id_check CHECK ((scope = 'host') = (scope_id IS NOT NULL)),
    CONSTRAINT ssh_credentials_name_len CHECK (char_length(name) BETWEEN 1 AND 256),
    CONSTRAINT ssh_credentials_description_len CHECK (char_length(description) <= 1024),
    CONSTRAINT ssh_credentials_username_len CHECK (char_length(username) BETWEEN 1 AND 256),
    CONSTRAINT ssh_credentials_auth_method_check CHECK (auth_method IN ('ssh_key', 'password', 'both')),
    CONSTRAINT ssh_credentials_private_key_check CHECK ((auth_method <> 'password') = (private_key_sealed IS NOT NULL)),
    CONSTRAINT ssh_credentials_password_check CHECK ((auth_method <> 'ssh_key') = (password_sealed IS NOT NULL)),
    CONSTRAINT ssh_credentials_private_key_passphrase_check CHECK (passphrase_sealed IS NULL OR private_key_sealed IS NOT NULL),
    CONSTRAINT ssh_credentials_ssh_key_check CHECK (
        (private_key_sealed IS NULL) = (ssh_key_type IS NULL) AND
        (private_key_sealed IS NULL) = (ssh_key_bits IS NULL) AND
        (private_key_sealed IS NULL) = (ssh_key_fingerprint IS NULL) AND
        (private_key_sealed IS NULL) = (ssh_key_comment IS NULL)),
    CONSTRAINT ssh_credentials_is_default_check CHECK (NOT is_default OR scope = 'system')
);
-- At most one live system default: a second one, even from a racing transaction, fails here.
CREATE UNIQUE INDEX ssh_credentials_is_default_live_key ON ssh_credentials ((true))
    WHERE is_default AND deleted_at IS NULL AND scope = 'system';
-- Keyset order for the list.
CREATE INDEX ssh_credentials_live_id_idx ON ssh_credentials (id) WHERE deleted_at IS NULL;
-- Resolution (a host's newest credential) and the foreign key's lookups on host deletion.
CREATE INDEX ssh_credentials_scope_id_idx ON ssh_credentials (scope_id, created_at DESC);

-- +goose Down
DROP TABLE ssh_credentials;
