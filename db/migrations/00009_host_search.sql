-- +goose Up

-- Substring search (GET /hosts?q=) on hostname, display name and IP address is served by
-- trigram indexes. pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may
-- create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX hosts_hostname_trgm_idx ON hosts USING gin (hostname gin_trgm_ops) WHERE deleted_at IS NULL;
CREATE INDEX hosts_display_name_trgm_idx ON hosts USING gin (display_name gin_trgm_ops) WHERE deleted_at IS NULL;
CREATE INDEX hosts_ip_trgm_idx ON hosts USING gin (host(ip_address) gin_trgm_ops) WHERE deleted_at IS NULL;

-- +goose Down
DROP INDEX hosts_ip_trgm_idx;
DROP INDEX hosts_display_name_trgm_idx;
DROP INDEX hosts_hostname_trgm_idx;
