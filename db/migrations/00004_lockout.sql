-- +goose Up

-- Per-account brute-force state: consecutive failed sign-ins and, past the threshold, the
-- time until which the account refuses sign-ins (growing with each further failure).
ALTER TABLE users
    ADD COLUMN failed_logins integer NOT NULL DEFAULT 0,
    ADD COLUMN locked_until  timestamptz;

-- +goose Down
ALTER TABLE users DROP COLUMN failed_logins, DROP COLUMN locked_until;
