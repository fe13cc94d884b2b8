-- +goose Up
-- Notification channels: where alert notices go. config holds the type's settings without
-- its secret (webhook signing secret, SMTP password), which is sealed in secret_sealed
-- bound to the row. The routing columns choose which notices a channel receives.
CREATE TABLE notification_channels (
    id            uuid PRIMARY KEY,
    name          text NOT NULL,
    type          text NOT NULL CHECK (type IN ('webhook', 'slack', 'email')),
    enabled       boolean NOT NULL DEFAULT true,
    config        jsonb NOT NULL DEFAULT '{}'::jsonb,
    secret_sealed bytea,
    min_severity  text NOT NULL DEFAULT 'info' CHECK (min_severity IN ('info', 'low', 'medium', 'high', 'critical')),
    alert_types   text[] NOT NULL DEFAULT '{}',
    host_tags     text[] NOT NULL DEFAULT '{}',
    group_ids     uuid[] NOT NULL DEFAULT '{}',
    created_by    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz
);
CREATE UNIQUE INDEX notification_channels_name_key ON notification_channels (lower(name)) WHERE deleted_at IS NULL;

-- One delivery per (notice, channel). status: pending (queued or retrying), delivered,
-- failed (an attempt failed, more will come), dead (out of attempts), skipped (the notice
-- was suppressed, e.g. by a maintenance window, and was not sent).
CREATE TABLE notification_deliveries (
    id           uuid PRIMARY KEY,
    channel_id   uuid NOT NULL REFERENCES notification_channels (id),
    alert_id     uuid,
    transition   text NOT NULL,
    severity     text NOT NULL,
    title        text NOT NULL,
    payload      jsonb NOT NULL,
    status       text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'dead', 'skipped')),
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz
);
CREATE INDEX notification_deliveries_status_idx ON notification_deliveries (status, id DESC);
CREATE INDEX notification_deliveries_channel_idx ON notification_deliveries (channel_id, id DESC);

-- +goose Down
DROP TABLE notification_deliveries;
DROP TABLE notification_channels;
