-- Scheduled report deliveries are recorded like the other notification deliveries: one
-- notification_deliveries row per (report, channel) with its status, attempts and last
-- error, and the report it sent. A schedule keeps the error of its last run (the report
-- could not be requested, its generation failed or a delivery failed), so an operator sees
-- it in the schedule list.

-- +goose Up
ALTER TABLE notification_deliveries ADD COLUMN report_id uuid REFERENCES reports (id) ON DELETE SET NULL;
CREATE INDEX notification_deliveries_report_idx ON notification_deliveries (report_id) WHERE report_id IS NOT NULL;
ALTER TABLE report_schedules ADD COLUMN last_error text;

-- +goose Down
ALTER TABLE report_schedules DROP COLUMN last_error;
DROP INDEX notification_deliveries_report_idx;
ALTER TABLE notification_deliveries DROP COLUMN report_id;
