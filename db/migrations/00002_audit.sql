-- +goose Up

-- The audit trail. Every state change writes one row in the transaction that makes the
-- change; denials and failed sign-ins write one in a transaction of their own. Rows form a
-- hash chain: mac is HMAC-SHA256, under the key in audit_keys, over every other column
-- including seq and prev_mac (the previous row's mac), so an edited, removed or inserted row
-- breaks the chain (internal/audit verifies it).
CREATE TABLE audit_events (
    id              uuid PRIMARY KEY,
    seq             bigint NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    correlation_id  text NOT NULL DEFAULT '',
    action          text NOT NULL,
    severity        text NOT NULL,
    actor_type      text NOT NULL,
    actor_id        text,
    resource_type   text,
    resource_id     text,
    client_addr     text NOT NULL DEFAULT '',
    detail          jsonb NOT NULL DEFAULT '{}',
    redactions      text[] NOT NULL DEFAULT '{}',
    prev_mac        bytea NOT NULL,
    mac             bytea NOT NULL,
    CONSTRAINT audit_events_seq_key UNIQUE (seq),
    CONSTRAINT audit_events_seq_range CHECK (seq > 0),
    CONSTRAINT audit_events_severity_valid CHECK (severity IN ('info', 'notice', 'warning', 'critical')),
    CONSTRAINT audit_events_actor_type_valid CHECK (actor_type IN ('user', 'service_account', 'system', 'anonymous')),
    CONSTRAINT audit_events_detail_object CHECK (jsonb_typeof(detail) = 'object')
);

-- Lists are newest first by seq, keyset-paginated on seq. Each filter has an index whose
-- last column is seq, so a filtered page is a backward index range scan with no sort;
-- audit_events_seq_key serves the unfiltered list and the chain walk. The time range
-- (since/until on occurred_at) has its own index for narrow windows in the past.
CREATE INDEX audit_events_action_seq_idx ON audit_events (action, seq);
CREATE INDEX audit_events_correlation_id_seq_idx ON audit_events (correlation_id, seq);
CREATE INDEX audit_events_actor_type_seq_idx ON audit_events (actor_type, seq);
CREATE INDEX audit_events_resource_type_seq_idx ON audit_events (resource_type, seq);
CREATE INDEX audit_events_resource_id_seq_idx ON audit_events (resource_id, seq);
CREATE INDEX audit_events_occurred_at_idx ON audit_events (occurred_at);

-- The trail is append-only for the application: updates, deletes and truncation are
-- refused. (Someone able to drop the trigger can still edit rows; the chain makes that
-- detectable.)
-- +goose StatementBegin
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: the audit trail is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- The head of the chain: exactly one row. Appending locks it (SELECT ... FOR UPDATE), so
-- concurrent writers take turns and cannot fork the chain, and moves it to the new row in
-- the same transaction. checkpoint_mac = HMAC(key, "checkpoint" || seq || mac) signs the
-- head, so removing rows at the tail is detectable too. It is NULL until the audit key
-- exists (internal/audit.LoadOrCreateKey signs the empty chain).
CREATE TABLE audit_head (
    id              boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq             bigint NOT NULL,
    mac             bytea NOT NULL,
    checkpoint_mac  bytea
);
INSERT INTO audit_head (id, seq, mac) VALUES (true, 0, decode(repeat('00', 32), 'hex'));
CREATE TRIGGER audit_head_keep BEFORE DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- The chain's HMAC key, sealed (internal/seal) with associated data
-- {audit_keys, sealed_key, <id>}. The oldest row is the key in use.
CREATE TABLE audit_keys (
    id          uuid PRIMARY KEY,
    sealed_key  bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE audit_keys;
DROP TABLE audit_head;
DROP TABLE audit_events;
DROP FUNCTION audit_refuse_change();
