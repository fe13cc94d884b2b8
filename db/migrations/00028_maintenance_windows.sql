-- Maintenance windows: recurring or one-off spans of local time in which OpenWatch may
-- change a host, per host or per group (then for every host of the group). The schedule is
-- interpreted by internal/window (wall clock of time_zone; see its package doc for the
-- rules on nights clocks change).

-- +goose Up
CREATE TABLE maintenance_windows (
    id                uuid PRIMARY KEY,
    host_id           uuid REFERENCES hosts (id) ON DELETE CASCADE,
    group_id          uuid REFERENCES host_groups (id) ON DELETE CASCADE,
    name              text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 256),
    time_zone         text NOT NULL CHECK (char_length(time_zone) BETWEEN 1 AND 64),
    -- Local start time, minutes after midnight.
    start_minute      integer NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
    duration_minutes  integer NOT NULL CHECK (duration_minutes BETWEEN 1 AND 10080),
    recurrence        text NOT NULL CHECK (recurrence IN ('once', 'daily', 'weekly', 'monthly_nth_weekday')),
    -- once: the local date.
    once_date         date,
    -- weekly: days of the week, 0 = Sunday .. 6 = Saturday.
    days_of_week      smallint[] NOT NULL DEFAULT '{}',
    -- monthly_nth_weekday: 1..4, or -1 for the last; day_of_week as above.
    week_of_month     smallint CHECK (week_of_month IN (-1, 1, 2, 3, 4)),
    day_of_week       smallint CHECK (day_of_week BETWEEN 0 AND 6),
    enabled           boolean NOT NULL DEFAULT true,
    created_by        text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((host_id IS NULL) <> (group_id IS NULL)),
    CHECK ((recurrence = 'once') = (once_date IS NOT NULL)),
    CHECK ((recurrence = 'monthly_nth_weekday') = (week_of_month IS NOT NULL AND day_of_week IS NOT NULL))
);
CREATE INDEX maintenance_windows_host_idx ON maintenance_windows (host_id, id) WHERE host_id IS NOT NULL;
CREATE INDEX maintenance_windows_group_idx ON maintenance_windows (group_id, id) WHERE group_id IS NOT NULL;

-- +goose Down
DROP TABLE maintenance_windows;
