-- +goose Up

-- Users of the product. Usernames are unique case-insensitively among live users; a
-- deleted user's name can be reused.
CREATE TABLE users (
    id                       uuid PRIMARY KEY,
    username                 text NOT NULL,
    email                    text NOT NULL,
    password_hash            text NOT NULL,
    role                     text NOT NULL,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    last_password_change_at  timestamptz NOT NULL DEFAULT now(),
    disabled_at              timestamptz,
    deleted_at               timestamptz,
    CONSTRAINT users_username_len CHECK (char_length(username) BETWEEN 1 AND 256),
    CONSTRAINT users_email_len CHECK (char_length(email) BETWEEN 3 AND 256)
);
CREATE UNIQUE INDEX users_username_live_key ON users (lower(username)) WHERE deleted_at IS NULL;

-- Server-side sessions. An access token names its session; every request checks that the
-- session is neither revoked nor past its deadlines. The browser cookie names the session
-- and carries a secret; the secret and the refresh token are stored only as SHA-256.
CREATE TABLE sessions (
    id                  uuid PRIMARY KEY,
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    refresh_token_hash  bytea NOT NULL,
    cookie_secret_hash  bytea NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    last_seen_at        timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    revoked_at          timestamptz,
    client_addr         text NOT NULL DEFAULT '',
    user_agent          text NOT NULL DEFAULT '',
    correlation_id      text NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX sessions_refresh_token_hash_key ON sessions (refresh_token_hash);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

-- Idempotency keys. A row is reserved (state 'in_progress') before the handler runs, so a
-- concurrent duplicate finds it and is refused; when the handler finishes, the response is
-- stored (state 'done') and replayed for the same request. Rows expire after 24 hours.
CREATE TABLE idempotency_keys (
    principal       text NOT NULL,
    key             text NOT NULL,
    request_hash    bytea NOT NULL,
    state           text NOT NULL DEFAULT 'in_progress' CHECK (state IN ('in_progress', 'done')),
    status_code     integer,
    content_type    text,
    response_body   bytea,
    correlation_id  text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE sessions;
DROP TABLE users;
