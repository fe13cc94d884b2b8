-- SSH certificates in use: credentials may log in with short-lived user certificates the
-- user CA mints per connection (auth method 'certificate', no stored secrets), and host
-- certificates record whether and when they were delivered to their host.

-- +goose Up
ALTER TABLE ssh_credentials DROP CONSTRAINT ssh_credentials_auth_method_check;
ALTER TABLE ssh_credentials DROP CONSTRAINT ssh_credentials_private_key_check;
ALTER TABLE ssh_credentials DROP CONSTRAINT ssh_credentials_password_check;
ALTER TABLE ssh_credentials ADD CONSTRAINT ssh_credentials_auth_method_check
    CHECK (auth_method IN ('ssh_key', 'password', 'both', 'certificate'));
ALTER TABLE ssh_credentials ADD CONSTRAINT ssh_credentials_private_key_check
    CHECK ((auth_method IN ('ssh_key', 'both')) = (private_key_sealed IS NOT NULL));
ALTER TABLE ssh_credentials ADD CONSTRAINT ssh_credentials_password_check
    CHECK ((auth_method IN ('password', 'both')) = (password_sealed IS NOT NULL));

-- Delivery of a host certificate (and of the current KRL) to its host.
ALTER TABLE ssh_host_certificates
    ADD COLUMN delivered_at   timestamptz,
    ADD COLUMN delivery_error text;

-- +goose Down
ALTER TABLE ssh_host_certificates DROP COLUMN delivery_error, DROP COLUMN delivered_at;
DELETE FROM ssh_credentials WHERE auth_method = 'certificate';
ALTER TABLE ssh_credentials DROP CONSTRAINT ssh_credentials_password_check;
ALTER TABLE ssh_credentials DROP CONSTRAINT ssh_credentials_private_key_check;
ALTER TABLE ssh_credentials DROP CONSTRAINT ssh_credentials_auth_method_check;
ALTER TABLE ssh_credentials ADD CONSTRAINT ssh_credentials_auth_method_check
    CHECK (auth_method IN ('ssh_key', 'password', 'both'));
ALTER TABLE ssh_credentials ADD CONSTRAINT ssh_credentials_private_key_check
    CHECK ((auth_method <> 'password') = (private_key_sealed IS NOT NULL));
ALTER TABLE ssh_credentials ADD CONSTRAINT ssh_credentials_password_check
    CHECK ((auth_method <> 'ssh_key') = (password_sealed IS NOT NULL));
