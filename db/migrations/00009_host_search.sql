-- +goose Up

-- Substring search (GET /hosts?q=) on hostname, display name and IP address is served by
-- trigram indexes. pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may
-- create it. It may already live in another schema, so its operator class is named
-- through the schema it is in.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- +goose StatementBegin
DO $$
DECLARE
    ext_schema text := (SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm');
BEGIN
    EXECUTE format('CREATE INDEX hosts_hostname_trgm_idx ON hosts USING gin (hostname %s.gin_trgm_ops) WHERE deleted_at IS NULL', ext_schema);
    EXECUTE format('CREATE INDEX hosts_display_name_trgm_idx ON hosts USING gin (display_name %s.gin_trgm_ops) WHERE deleted_at IS NULL', ext_schema);
    EXECUTE format('CREATE INDEX hosts_ip_trgm_idx ON hosts USING gin (host(ip_address) %s.gin_trgm_ops) WHERE deleted_at IS NULL', ext_schema);
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX hosts_ip_trgm_idx;
DROP INDEX hosts_display_name_trgm_idx;
DROP INDEX hosts_hostname_trgm_idx;
