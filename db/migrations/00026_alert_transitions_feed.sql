-- +goose Up
-- Deliveries and feed items announce themselves on the live stream under their own topic.
ALTER TABLE events DROP CONSTRAINT events_topic_check;
ALTER TABLE events ADD CONSTRAINT events_topic_check
    CHECK (topic IN ('liveness', 'discovery', 'intelligence', 'jobs', 'alerts', 'scans', 'notifications'));

-- The outbox of alert transitions. Each transition (raised, recurred, acknowledged,
-- silenced, unsilenced, resolved, dismissed) is written in the transaction that makes it
-- and announced with NOTIFY on openwatch_alert_transitions; the worker's dispatcher drains
-- the rows still without notified_at (FOR UPDATE SKIP LOCKED, so several workers split
-- them), queues their notices and feed items, and sets notified_at. The rows stay as the
-- alert's history.
CREATE TABLE alert_transitions (
    id          uuid PRIMARY KEY,
    alert_id    uuid NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    transition  text NOT NULL CHECK (transition IN ('raised', 'recurred', 'acknowledged', 'silenced',
                                                    'unsilenced', 'resolved', 'dismissed')),
    -- actor: 'system', 'user:<id>' or 'service_account:<id>'.
    actor       text NOT NULL,
    reason      text NOT NULL DEFAULT '',
    at          timestamptz NOT NULL,
    notified_at timestamptz
);
CREATE INDEX alert_transitions_alert_idx ON alert_transitions (alert_id, id);
CREATE INDEX alert_transitions_pending_idx ON alert_transitions (id) WHERE notified_at IS NULL;

-- The in-app feed. An item is addressed to an audience, either everyone holding a
-- permission or one user, so an event costs one row whatever the number of readers.
-- Read state is per reader (a principal key such as 'user:<id>'): single items in
-- feed_reads, and a read-all watermark in feed_watermarks (every item whose id is at most
-- read_through is read).
CREATE TABLE feed_items (
    id                  uuid PRIMARY KEY,
    kind                text NOT NULL CHECK (char_length(kind) BETWEEN 1 AND 64),
    title               text NOT NULL,
    body                text NOT NULL DEFAULT '',
    severity            text CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
    link                text NOT NULL DEFAULT '',
    -- No foreign key: the dispatcher's insert must not take a lock on the alert row,
    -- which a user's action on the alert holds while it publishes its own event.
    alert_id            uuid,
    audience_permission text,
    audience_user       uuid REFERENCES users (id) ON DELETE CASCADE,
    created_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT feed_items_audience_check CHECK ((audience_permission IS NULL) <> (audience_user IS NULL))
);
CREATE INDEX feed_items_permission_idx ON feed_items (audience_permission, id DESC) WHERE audience_permission IS NOT NULL;
CREATE INDEX feed_items_user_idx ON feed_items (audience_user, id DESC) WHERE audience_user IS NOT NULL;

CREATE TABLE feed_reads (
    reader  text NOT NULL,
    item_id uuid NOT NULL REFERENCES feed_items (id) ON DELETE CASCADE,
    read_at timestamptz NOT NULL,
    PRIMARY KEY (reader, item_id)
);

CREATE TABLE feed_watermarks (
    reader       text PRIMARY KEY,
    read_through uuid NOT NULL,
    read_at      timestamptz NOT NULL
);

-- +goose Down
DROP TABLE feed_watermarks;
DROP TABLE feed_reads;
DROP TABLE feed_items;
DROP TABLE alert_transitions;
DELETE FROM events WHERE topic = 'notifications';
ALTER TABLE events DROP CONSTRAINT events_topic_check;
ALTER TABLE events ADD CONSTRAINT events_topic_check
    CHECK (topic IN ('liveness', 'discovery', 'intelligence', 'jobs', 'alerts', 'scans'));
