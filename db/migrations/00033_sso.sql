-- Single sign-on (internal/sso): OpenID Connect providers, the identities they vouch for,
-- logins in flight and the handoff codes that carry a finished login to the web app.
--
-- A provider's client secret is sealed bound to its row (and resealed by `openwatch
-- rekey`). A login in flight is stored under the SHA-256 of its state, with the SHA-256
-- of its nonce; its PKCE verifier is HMAC-SHA256(pkce_key, state), so neither the row
-- alone nor the browser's URL alone yields it. A handoff code is stored only as SHA-256
-- and is consumed by deleting its row.

-- +goose Up
CREATE TABLE sso_providers (
    id                    uuid PRIMARY KEY,
    name                  text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    issuer                text NOT NULL,
    client_id             text NOT NULL,
    -- The client secret sealed with the row id as associated data; NULL for a public client.
    client_secret_sealed  bytea,
    scopes                text[] NOT NULL,
    groups_claim          text NOT NULL,
    -- Ordered [{"group": "...", "role": "..."}]: the first whose group the user is in wins.
    role_mappings         jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(role_mappings) = 'array'),
    -- The role of a user no mapping matches; NULL refuses such users.
    default_role          text,
    enabled               boolean NOT NULL DEFAULT true,
    -- Users linked to this provider may not sign in with a password (admins excepted).
    sso_only              boolean NOT NULL DEFAULT false,
    created_by            text NOT NULL DEFAULT '',
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sso_providers_name_key ON sso_providers (lower(name));

-- Users linked to a provider by the ID token's (iss, sub), iss being the provider's.
CREATE TABLE sso_identities (
    provider_id    uuid NOT NULL REFERENCES sso_providers (id) ON DELETE CASCADE,
    subject        text NOT NULL,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_login_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider_id, subject)
);
CREATE INDEX sso_identities_user_idx ON sso_identities (user_id);

CREATE TABLE sso_logins (
    id            uuid PRIMARY KEY,
    provider_id   uuid NOT NULL REFERENCES sso_providers (id) ON DELETE CASCADE,
    state_hash    bytea NOT NULL UNIQUE,
    nonce_hash    bytea NOT NULL,
    pkce_key      bytea NOT NULL,
    redirect_uri  text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX sso_logins_expires_idx ON sso_logins (expires_at);

CREATE TABLE sso_handoffs (
    code_hash    bytea PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider_id  uuid NOT NULL REFERENCES sso_providers (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sso_handoffs_expires_idx ON sso_handoffs (expires_at);

-- A session opened by single sign-on names its provider: the identity provider was its
-- second factor, so the workspace's MFA requirement does not restrict it.
ALTER TABLE sessions ADD COLUMN sso_provider_id uuid REFERENCES sso_providers (id) ON DELETE SET NULL;

-- +goose Down
ALTER TABLE sessions DROP COLUMN sso_provider_id;
DROP TABLE sso_handoffs;
DROP TABLE sso_logins;
DROP TABLE sso_identities;
DROP TABLE sso_providers;
