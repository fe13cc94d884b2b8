-- +goose Up
-- Scans of a batch wait without a job until the batch's concurrency lets them run:
-- dispatched is false until their job is queued. Every other scan is queued with its job.
ALTER TABLE scans ADD COLUMN dispatched boolean NOT NULL DEFAULT true;
CREATE INDEX scans_batch_waiting_idx ON scans (batch_id, id) WHERE NOT dispatched AND status = 'queued';

-- The scheduler's and the preview's question, "when was each host last scanned?", is
-- answered from this index without reading the scans.
CREATE INDEX scans_host_created_idx ON scans (host_id, created_at DESC);

-- +goose Down
DROP INDEX scans_host_created_idx;
DROP INDEX scans_batch_waiting_idx;
ALTER TABLE scans DROP COLUMN dispatched;
