-- +goose Up

-- Signed requests (RFC 9421 HTTP Message Signatures, hmac-sha256). An API token may hold a
-- signing key, sealed bound to the token's row: a database dump alone cannot sign.
ALTER TABLE api_tokens ADD COLUMN signing_key_sealed bytea;
ALTER TABLE api_tokens ADD COLUMN signing_key_created_at timestamptz;

-- Nonces of accepted signed requests, kept while their signature could still be accepted,
-- so a replay is refused across processes.
CREATE TABLE signed_request_nonces (
    token_id    uuid NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    nonce       text NOT NULL CHECK (char_length(nonce) BETWEEN 1 AND 256),
    expires_at  timestamptz NOT NULL,
    PRIMARY KEY (token_id, nonce)
);
CREATE INDEX signed_request_nonces_expires_at_idx ON signed_request_nonces (expires_at);

-- +goose Down
DROP TABLE signed_request_nonces;
ALTER TABLE api_tokens DROP COLUMN signing_key_created_at;
ALTER TABLE api_tokens DROP COLUMN signing_key_sealed;
