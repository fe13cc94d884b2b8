package notify

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/pg"
)

// Report is a generated report to send through a channel: an e-mail attaches File, a
// webhook or Slack message carries Link (where to download the export).
type Report struct {
	ID       uuid.UUID
	Kind     string
	Title    string
	Schedule string
	Link     string
	File     *Attachment
}

// SendReport sends a report through a channel once (the caller retries). Errors:
// resource.not_found for a channel that does not exist, validation_failed for a disabled
// one, or the send's failure.
func (s *Service) SendReport(ctx context.Context, channelID uuid.UUID, r Report) error {
	row, err := s.q.NotifyChannelGet(ctx, channelID)
	if err != nil {
		return pg.NotFoundAs(err, errNotFound())
	}
	ch := toChannel(row)
	if !ch.Enabled {
		return apperr.Invalid("channel_ids", "The notification channel "+ch.Name+" is disabled.")
	}
	var secret []byte
	if ch.sealed != nil {
		if secret, err = s.sealer.Open(ch.sealed, secretColumn.AD(ch.ID)); err != nil {
			return err
		}
	}
	payload, _ := json.Marshal(map[string]any{"event": "report.generated", "report_id": r.ID.String(), "kind": r.Kind,
		"title": r.Title, "schedule": r.Schedule, "link": r.Link, "sent_at": s.opts.Now().UTC().Format(time.RFC3339)})
	msg := message{Title: r.Title + " (" + r.Schedule + ")", JSON: payload,
		Body: "OpenWatch generated the report " + r.ID.String() + " for the schedule " + r.Schedule + ".\n\nDownload: " + r.Link +
			"\nVerify it offline with: openwatch verify-report FILE"}
	if ch.Type == TypeEmail {
		msg.Attachment = r.File
	}
	return s.send.send(ctx, ch, secret, msg)
}

// ChannelExists returns resource.not_found unless the channel exists.
func (s *Service) ChannelExists(ctx context.Context, id uuid.UUID) error {
	_, err := s.q.NotifyChannelGet(ctx, id)
	return pg.NotFoundAs(err, errNotFound())
}

// RecordReportDeliveryTx records, in tx, a report's delivery through a channel as a pending
// notification delivery (transition "report", the report's id), so it is listed with the
// other deliveries; the report package sends it and reports each attempt's outcome with
// ReportDeliveryOutcome. It returns the delivery's id.
func (s *Service) RecordReportDeliveryTx(ctx context.Context, tx pgx.Tx, channelID, reportID uuid.UUID, title string) (uuid.UUID, error) {
	payload, _ := json.Marshal(map[string]any{"event": "report.generated", "report_id": reportID.String(), "title": title})
	d, err := dbq.New(tx).NotifyDeliveryInsertReport(ctx, dbq.NotifyDeliveryInsertReportParams{ID: uuid.Must(uuid.NewV7()),
		ChannelID: channelID, ReportID: &reportID, Title: title, Payload: payload, Now: s.opts.Now()})
	if err != nil {
		return uuid.Nil, pg.Translate(err)
	}
	return d.ID, nil
}

// ReportDeliveryOutcome records one attempt of a report delivery: delivered when sendErr
// is nil, otherwise failed, or dead when it was the last attempt. The outcome is published
// on the live stream like every delivery's.
func (s *Service) ReportDeliveryOutcome(ctx context.Context, deliveryID uuid.UUID, sendErr error, last bool) error {
	p := dbq.NotifyDeliveryRecordParams{ID: deliveryID, Status: StatusDelivered, Now: s.opts.Now()}
	if sendErr != nil {
		msg := sendErr.Error()
		p.Status, p.LastError = StatusFailed, &msg
		if last {
			p.Status = StatusDead
		}
	}
	return s.record(ctx, p)
}

// ReportRequeueFunc queues, in tx, another attempt at a report delivery (Redeliver of a
// delivery that carries a report).
type ReportRequeueFunc func(ctx context.Context, tx pgx.Tx, deliveryID, reportID, channelID uuid.UUID) error

// SetReportRequeue names the function that queues report deliveries again; it is called
// once while the application is wired, before anything is served.
func (s *Service) SetReportRequeue(fn ReportRequeueFunc) { s.reportRequeue = fn }
