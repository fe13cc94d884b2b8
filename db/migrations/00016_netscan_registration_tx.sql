-- Registering a found address is one transaction that locks the address's rows, so the
-- claim marker that guarded the old three-transaction registration is gone.

-- +goose Up
ALTER TABLE discovery_scan_hosts DROP COLUMN claimed_at;

-- +goose Down
ALTER TABLE discovery_scan_hosts ADD COLUMN claimed_at timestamptz;
