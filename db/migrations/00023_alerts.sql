-- Alerts take the contract's shape. The table of 00013 (written by the liveness poller)
-- evolves in place: its rows stay, 'open' becomes 'active', detail becomes tags, opened_at
-- becomes occurred_at. Any source raises through a dedup key: at most one alert per key is
-- active, acknowledged or silenced; raising the key again bumps that alert's occurrence
-- count. The activity view of 00014 follows the renamed columns by itself.

-- +goose Up
DROP INDEX alerts_host_unreachable_active_key;
ALTER TABLE alerts DROP CONSTRAINT alerts_status_check;
ALTER TABLE alerts RENAME COLUMN status TO state;
ALTER TABLE alerts RENAME COLUMN detail TO tags;
ALTER TABLE alerts RENAME COLUMN opened_at TO occurred_at;
UPDATE alerts SET state = 'active' WHERE state = 'open';
ALTER TABLE alerts ALTER COLUMN state SET DEFAULT 'active';
ALTER TABLE alerts ADD CONSTRAINT alerts_state_check
    CHECK (state IN ('active', 'acknowledged', 'silenced', 'resolved', 'dismissed'));
ALTER TABLE alerts
    ADD COLUMN dedup_key         text,
    ADD COLUMN rule_id           text,
    ADD COLUMN body              text NOT NULL DEFAULT '',
    ADD COLUMN acknowledged_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN acknowledged_at   timestamptz,
    ADD COLUMN silenced_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN silenced_until    timestamptz,
    ADD COLUMN resolved_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN dismissed_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN dismissed_at      timestamptz,
    -- Raised while its host was in maintenance: recorded, but notifiers skip it.
    ADD COLUMN suppressed        boolean NOT NULL DEFAULT false,
    ADD COLUMN occurrence_count  integer NOT NULL DEFAULT 1 CHECK (occurrence_count >= 1),
    ADD COLUMN last_occurred_at  timestamptz,
    ADD COLUMN created_at        timestamptz NOT NULL DEFAULT now();
UPDATE alerts SET dedup_key = alert_type || ':' || COALESCE(host_id::text, id::text),
                  last_occurred_at = occurred_at, created_at = occurred_at;
ALTER TABLE alerts ALTER COLUMN dedup_key SET NOT NULL,
    ALTER COLUMN last_occurred_at SET NOT NULL,
    ALTER COLUMN last_occurred_at SET DEFAULT now(),
    ADD CONSTRAINT alerts_dedup_key_check CHECK (char_length(dedup_key) BETWEEN 1 AND 256),
    ADD CONSTRAINT alerts_silence_check CHECK (state <> 'silenced' OR silenced_until IS NOT NULL);
-- One live alert per dedup key: Raise's upsert arbitrates on it.
CREATE UNIQUE INDEX alerts_dedup_active_key ON alerts (dedup_key)
    WHERE state IN ('active', 'acknowledged', 'silenced');
-- The list's filters; the list pages newest first on id (UUIDv7).
CREATE INDEX alerts_state_idx ON alerts (state, id DESC);
CREATE INDEX alerts_id_desc_idx ON alerts (id DESC);
-- The silence expiry job's scan.
CREATE INDEX alerts_silenced_until_idx ON alerts (silenced_until) WHERE state = 'silenced';

-- +goose Down
DROP INDEX alerts_silenced_until_idx;
DROP INDEX alerts_id_desc_idx;
DROP INDEX alerts_state_idx;
DROP INDEX alerts_dedup_active_key;
ALTER TABLE alerts DROP CONSTRAINT alerts_silence_check, DROP CONSTRAINT alerts_dedup_key_check,
    DROP CONSTRAINT alerts_state_check;
ALTER TABLE alerts DROP COLUMN dedup_key, DROP COLUMN rule_id, DROP COLUMN body,
    DROP COLUMN acknowledged_by, DROP COLUMN acknowledged_at, DROP COLUMN silenced_by,
    DROP COLUMN silenced_until, DROP COLUMN resolved_by, DROP COLUMN dismissed_by,
    DROP COLUMN dismissed_at, DROP COLUMN suppressed, DROP COLUMN occurrence_count,
    DROP COLUMN last_occurred_at, DROP COLUMN created_at;
UPDATE alerts SET state = 'open' WHERE state = 'active';
ALTER TABLE alerts ALTER COLUMN state SET DEFAULT 'open';
ALTER TABLE alerts RENAME COLUMN occurred_at TO opened_at;
ALTER TABLE alerts RENAME COLUMN tags TO detail;
ALTER TABLE alerts RENAME COLUMN state TO status;
ALTER TABLE alerts ADD CONSTRAINT alerts_status_check
    CHECK (status IN ('open', 'acknowledged', 'silenced', 'resolved', 'dismissed'));
CREATE UNIQUE INDEX alerts_host_unreachable_active_key ON alerts (host_id)
    WHERE alert_type = 'host_unreachable' AND status IN ('open', 'acknowledged', 'silenced');
