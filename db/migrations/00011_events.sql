-- +goose Up

-- The live event stream's durable log. Ids are handed out in commit order (publishers take
-- a transaction-scoped advisory lock before inserting), so a client resuming after id N
-- with Last-Event-ID never skips an event that committed later with a smaller id. Rows
-- older than the retention window are swept.
CREATE TABLE events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic           text NOT NULL CHECK (topic IN ('liveness', 'discovery', 'intelligence', 'jobs', 'alerts')),
    type            text NOT NULL CHECK (char_length(type) BETWEEN 1 AND 64),
    host_id         uuid,
    -- The permission a reader needs to receive the event.
    permission      text NOT NULL,
    correlation_id  text NOT NULL DEFAULT '',
    data            jsonb NOT NULL DEFAULT '{}',
    occurred_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_occurred_at_idx ON events (occurred_at);

-- One row: the highest event id the retention sweep has deleted. A client resuming after
-- an id below it has missed events for good and gets a `reset` event first.
CREATE TABLE events_horizon (
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    swept_through  bigint NOT NULL DEFAULT 0
);
INSERT INTO events_horizon DEFAULT VALUES;

-- Single-use tickets that authenticate one GET /events for browsers (EventSource cannot
-- send headers). Only the SHA-256 of the ticket is stored. A ticket names the session (for
-- a user) or the API token (for a service account) it was issued to, so ending that
-- session or revoking that token also voids the ticket; the principal's roles are
-- reloaded when it is redeemed.
CREATE TABLE event_tickets (
    token_hash          bytea PRIMARY KEY,
    kind                text NOT NULL CHECK (kind IN ('session', 'token')),
    user_id             uuid REFERENCES users (id) ON DELETE CASCADE,
    session_id          uuid REFERENCES sessions (id) ON DELETE CASCADE,
    service_account_id  uuid REFERENCES service_accounts (id) ON DELETE CASCADE,
    token_id            uuid REFERENCES api_tokens (id) ON DELETE CASCADE,
    created_at          timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    CHECK ((kind = 'session' AND user_id IS NOT NULL AND session_id IS NOT NULL AND service_account_id IS NULL AND token_id IS NULL)
        OR (kind = 'token' AND service_account_id IS NOT NULL AND token_id IS NOT NULL AND user_id IS NULL AND session_id IS NULL))
);
CREATE INDEX event_tickets_expires_at_idx ON event_tickets (expires_at);

-- +goose Down
DROP TABLE event_tickets;
DROP TABLE events_horizon;
DROP TABLE events;
