-- Job kinds follow one convention, <package>_<job>: jobs queued under the old names run
-- under the new ones.

-- +goose Up
UPDATE river_job SET kind = 'intel_system_info' WHERE kind = 'intel_discover';
UPDATE river_job SET kind = 'worker_ping' WHERE kind = 'openwatch_ping';
UPDATE river_job SET kind = 'events_retention' WHERE kind = 'openwatch_events_retention';

-- +goose Down
UPDATE river_job SET kind = 'intel_discover' WHERE kind = 'intel_system_info';
UPDATE river_job SET kind = 'openwatch_ping' WHERE kind = 'worker_ping';
UPDATE river_job SET kind = 'openwatch_events_retention' WHERE kind = 'events_retention';
