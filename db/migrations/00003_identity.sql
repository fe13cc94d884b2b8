-- +goose Up

-- Custom roles. Built-in roles live in code (internal/authz) and are never stored.
CREATE TABLE custom_roles (
    id           text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]{1,63}$'),
    description  text NOT NULL,
    permissions  text[] NOT NULL,
    created_by   uuid REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- A user's roles; permissions are the union over them, resolved at request time.
CREATE TABLE user_roles (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id     text NOT NULL,
    granted_by  uuid REFERENCES users (id),
    granted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role_id)
);
CREATE INDEX user_roles_role_id_idx ON user_roles (role_id);

INSERT INTO user_roles (user_id, role_id) SELECT id, role FROM users;
ALTER TABLE users DROP COLUMN role;

-- Refresh tokens: one family per session. A token is used once; presenting a used token
-- revokes the session and with it every token of the family.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    session_id  uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    used_at     timestamptz
);
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);
INSERT INTO refresh_tokens (id, session_id, token_hash, created_at)
    SELECT gen_random_uuid(), id, refresh_token_hash, created_at FROM sessions;
ALTER TABLE sessions DROP COLUMN refresh_token_hash;

-- +goose Down
ALTER TABLE sessions ADD COLUMN refresh_token_hash bytea;
UPDATE sessions s SET refresh_token_hash = (SELECT token_hash FROM refresh_tokens r WHERE r.session_id = s.id ORDER BY created_at DESC LIMIT 1);
DROP TABLE refresh_tokens;
ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'viewer';
UPDATE users u SET role = COALESCE((SELECT min(role_id) FROM user_roles r WHERE r.user_id = u.id), 'viewer');
DROP TABLE user_roles;
DROP TABLE custom_roles;
