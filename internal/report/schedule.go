package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/robfig/cron/v3"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/cursor"
	"github.com/openwatch/openwatch/internal/pg"
)

// ScheduleInterval is how often due schedules are looked for.
const ScheduleInterval = time.Minute

// Delivery is a scheduled report to send through one channel.
type Delivery struct {
	ReportID    uuid.UUID
	Kind, Title string
	Schedule    string
	// Link is the API path of the export in the schedule's format.
	Link string
	// FileName, ContentType and File are the export, for channels that attach it.
	FileName, ContentType string
	File                  []byte
}

// DeliverFunc sends a delivery through a notification channel once.
type DeliverFunc func(ctx context.Context, channelID uuid.UUID, d Delivery) error

// ChannelCheckFunc returns resource.not_found for a channel that does not exist.
type ChannelCheckFunc func(ctx context.Context, id uuid.UUID) error

// Schedule is a report schedule.
type Schedule struct {
	dbq.ReportSchedule
	Scope      ScopeInput
	Parameters Parameters
}

// ScheduleInput is a new schedule, or a change of one (nil fields keep their value).
type ScheduleInput struct {
	Name       *string
	Kind       *string
	Scope      *ScopeInput
	Parameters *Parameters
	Cron       *string
	Timezone   *string
	Format     *string
	ChannelIDs *[]uuid.UUID
	Enabled    *bool
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// nextRun returns the first instant after after that expr matches in tz. Errors:
// validation_failed naming cron or timezone.
func nextRun(expr, tz string, after time.Time) (time.Time, error) {
	loc, err := time.LoadLocation(tz)
	if err != nil || tz == "" || tz == "Local" {
		return time.Time{}, apperr.Invalid("timezone", fmt.Sprintf("Unknown time zone %q; use an IANA name such as Europe/Paris or UTC.", tz))
	}
	sched, err := cronParser.Parse(expr)
	if err != nil {
		return time.Time{}, apperr.Invalid("cron", fmt.Sprintf("The cron expression %q is not valid (5 fields: minute hour day-of-month month day-of-week): %v.", expr, err))
	}
	next := sched.Next(after.In(loc))
	if next.IsZero() {
		return time.Time{}, apperr.Invalid("cron", "The cron expression never matches.")
	}
	return next.UTC(), nil
}

func scheduleFromRow(r dbq.ReportSchedule) (Schedule, error) {
	out := Schedule{ReportSchedule: r}
	if err := json.Unmarshal(r.Scope, &out.Scope); err != nil {
		return out, fmt.Errorf("decode schedule scope: %w", err)
	}
	if err := json.Unmarshal(r.Parameters, &out.Parameters); err != nil {
		return out, fmt.Errorf("decode schedule parameters: %w", err)
	}
	return out, nil
}

// checkSchedule validates a schedule's fields as a report request would be, plus its
// channels. It returns the next run.
func (s *Service) checkSchedule(ctx context.Context, actor *authz.Principal, r *dbq.ReportSchedule) (time.Time, error) {
	var sc ScopeInput
	var p Parameters
	_ = json.Unmarshal(r.Scope, &sc)
	_ = json.Unmarshal(r.Parameters, &p)
	if r.Kind == KindPosture {
		return time.Time{}, apperr.Invalid("kind", "A posture report is of one past instant: schedule compliance reports instead.")
	}
	if p.Since != nil || p.Until != nil {
		return time.Time{}, apperr.Invalid("parameters", "A schedule's audit and patch history reports cover the 30 days before each run: leave since and until out.")
	}
	req := Request{Kind: r.Kind, Scope: sc, Parameters: p}
	if _, err := s.normalize(ctx, actor, &req); err != nil {
		return time.Time{}, err
	}
	if r.Format != FormatJSON && r.Format != FormatCSV && r.Format != FormatPDF {
		return time.Time{}, apperr.Invalid("format", "format must be json, csv or pdf.")
	}
	for _, id := range r.ChannelIds {
		if s.channelCheck == nil {
			return time.Time{}, apperr.Invalid("channel_ids", "Notification channels are not available.")
		}
		if err := s.channelCheck(ctx, id); err != nil {
			if apperr.Is(err, apperr.CodeNotFound) {
				return time.Time{}, apperr.Invalid("channel_ids", fmt.Sprintf("The notification channel %s does not exist.", id))
			}
			return time.Time{}, err
		}
	}
	return nextRun(r.Cron, r.Timezone, s.now())
}

// CreateSchedule adds a schedule. Guarded by report:schedule plus the permission that
// reads the kind's data; audited. Errors: validation_failed naming the field.
func (s *Service) CreateSchedule(ctx context.Context, actor *authz.Principal, in ScheduleInput) (Schedule, error) {
	r := dbq.ReportSchedule{Format: FormatPDF, Enabled: true, ChannelIds: []uuid.UUID{}}
	applyInput(&r, in)
	if r.Scope == nil {
		r.Scope, _ = json.Marshal(ScopeInput{Type: ScopeFleet})
	}
	if r.Parameters == nil {
		r.Parameters = []byte("{}")
	}
	next, err := s.checkSchedule(ctx, actor, &r)
	if err != nil {
		return Schedule{}, err
	}
	var out Schedule
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		row, err := s.q.WithTx(tx).ReportScheduleInsert(ctx, dbq.ReportScheduleInsertParams{ID: uuid.Must(uuid.NewV7()),
			Name: r.Name, Kind: r.Kind, Scope: r.Scope, Parameters: r.Parameters, Cron: r.Cron, Timezone: r.Timezone,
			Format: r.Format, ChannelIds: r.ChannelIds, Enabled: r.Enabled, NextRunAt: next, CreatedBy: actor.Actor().String(),
			CreatedAt: s.now()})
		if err != nil {
			return pg.Translate(err)
		}
		if out, err = scheduleFromRow(row); err != nil {
			return err
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionReportScheduleCreated, "report_schedule", row.ID.String(),
			scheduleDetail(row)))
	})
	return out, err
}

func applyInput(r *dbq.ReportSchedule, in ScheduleInput) {
	if in.Name != nil {
		r.Name = *in.Name
	}
	if in.Kind != nil {
		r.Kind = *in.Kind
	}
	if in.Scope != nil {
		r.Scope, _ = json.Marshal(in.Scope)
	}
	if in.Parameters != nil {
		r.Parameters, _ = json.Marshal(in.Parameters)
	}
	if in.Cron != nil {
		r.Cron = *in.Cron
	}
	if in.Timezone != nil {
		r.Timezone = *in.Timezone
	}
	if in.Format != nil {
		r.Format = *in.Format
	}
	if in.ChannelIDs != nil {
		r.ChannelIds = *in.ChannelIDs
	}
	if in.Enabled != nil {
		r.Enabled = *in.Enabled
	}
}

func scheduleDetail(r dbq.ReportSchedule) map[string]any {
	return map[string]any{"name": r.Name, "kind": r.Kind, "scope": json.RawMessage(r.Scope), "parameters": json.RawMessage(r.Parameters),
		"cron": r.Cron, "timezone": r.Timezone, "format": r.Format, "channel_ids": r.ChannelIds, "enabled": r.Enabled}
}

func errScheduleNotFound() error { return apperr.NotFound("The report schedule does not exist.") }

// UpdateSchedule changes a schedule. Guarded by report:schedule; audited. Errors:
// resource.not_found, validation_failed naming the field.
func (s *Service) UpdateSchedule(ctx context.Context, actor *authz.Principal, id uuid.UUID, in ScheduleInput) (Schedule, error) {
	var out Schedule
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		r, err := q.ReportScheduleLock(ctx, id)
		if err != nil {
			return pg.NotFoundAs(err, errScheduleNotFound())
		}
		applyInput(&r, in)
		next, err := s.checkSchedule(ctx, actor, &r)
		if err != nil {
			return err
		}
		row, err := q.ReportScheduleUpdate(ctx, dbq.ReportScheduleUpdateParams{ID: id, Name: r.Name, Kind: r.Kind, Scope: r.Scope,
			Parameters: r.Parameters, Cron: r.Cron, Timezone: r.Timezone, Format: r.Format, ChannelIds: r.ChannelIds,
			Enabled: r.Enabled, NextRunAt: next, UpdatedAt: s.now()})
		if err != nil {
			return pg.Translate(err)
		}
		if out, err = scheduleFromRow(row); err != nil {
			return err
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionReportScheduleUpdated, "report_schedule", id.String(),
			scheduleDetail(row)))
	})
	return out, err
}

// DeleteSchedule deletes a schedule (its reports stay). Guarded by report:schedule;
// audited. Errors: resource.not_found.
func (s *Service) DeleteSchedule(ctx context.Context, actor *authz.Principal, id uuid.UUID) error {
	return pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		r, err := q.ReportScheduleLock(ctx, id)
		if err != nil {
			return pg.NotFoundAs(err, errScheduleNotFound())
		}
		if _, err := q.ReportScheduleDelete(ctx, id); err != nil {
			return pg.Translate(err)
		}
		return s.aw.Append(ctx, tx, audit.For(ctx, actor, audit.ActionReportScheduleDeleted, "report_schedule", id.String(),
			map[string]any{"name": r.Name}))
	})
}

// ListSchedules pages schedules newest first. Guarded by report:read.
func (s *Service) ListSchedules(ctx context.Context, page cursor.Request[uuid.UUID]) (cursor.Page[Schedule], error) {
	rows, err := s.q.ReportScheduleList(ctx, dbq.ReportScheduleListParams{BeforeID: page.After, RowLimit: page.Fetch()})
	if err != nil {
		return cursor.Page[Schedule]{}, pg.Translate(err)
	}
	out := make([]Schedule, len(rows))
	for i, r := range rows {
		if out[i], err = scheduleFromRow(r); err != nil {
			return cursor.Page[Schedule]{}, err
		}
	}
	return cursor.Cut(page, out, func(r Schedule) uuid.UUID { return r.ID }), nil
}

// RunDue generates a report for every enabled schedule that is due and moves each to its
// next run; it returns how many reports it queued. A schedule whose report cannot be
// requested any more (its group was deleted) is skipped until its next run.
func (s *Service) RunDue(ctx context.Context) (int, error) {
	n := 0
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		due, err := q.ReportSchedulesDue(ctx, s.now())
		if err != nil {
			return pg.Translate(err)
		}
		for _, row := range due {
			sc, err := scheduleFromRow(row)
			if err != nil {
				return err
			}
			next, err := nextRun(row.Cron, row.Timezone, s.now())
			if err != nil {
				return err
			}
			var reportID *uuid.UUID
			var lastErr *string
			r, err := s.GenerateTx(ctx, tx, nil, Request{Kind: row.Kind, Scope: sc.Scope, Parameters: sc.Parameters}, &row.ID,
				"schedule:"+row.ID.String(), row.Name)
			switch {
			case err == nil:
				reportID = &r.ID
				n++
			case apperr.As(err) != nil:
				s.log.WarnContext(ctx, "scheduled report not generated", "schedule_id", row.ID.String(), "error", err)
				msg := "The report could not be requested: " + apperr.As(err).HumanMessage()
				lastErr = &msg
			default:
				return err
			}
			if err := q.ReportScheduleRan(ctx, dbq.ReportScheduleRanParams{ID: row.ID, RanAt: ptr(s.now()), ReportID: reportID,
				NextRunAt: next, LastError: lastErr}); err != nil {
				return pg.Translate(err)
			}
		}
		return nil
	})
	return n, err
}

// ScheduleArgs is the periodic job that runs due schedules.
type ScheduleArgs struct{}

// Kind names the job kind.
func (ScheduleArgs) Kind() string { return "report_schedule" }

// InsertOpts: a failed run is not retried; the next period makes up for it.
func (ScheduleArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

type scheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	svc *Service
}

func (w *scheduleWorker) Work(ctx context.Context, _ *river.Job[ScheduleArgs]) error {
	n, err := w.svc.RunDue(ctx)
	if err != nil {
		return err
	}
	return river.RecordOutput(ctx, map[string]int{"queued": n})
}

// DeliverArgs is the job that sends a scheduled report through one channel.
type DeliverArgs struct {
	ReportID  uuid.UUID `json:"report_id"`
	ChannelID uuid.UUID `json:"channel_id"`
	Format    string    `json:"format"`
	// DeliveryID is the notification delivery that records the attempts (none when the
	// service has no DeliveryLog).
	DeliveryID *uuid.UUID `json:"delivery_id,omitempty"`
}

// Kind names the job kind.
func (DeliverArgs) Kind() string { return "report_deliver" }

// InsertOpts: a failed delivery is tried again, up to five times.
func (DeliverArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]
	svc *Service
}

// Work makes one attempt and records its outcome on the delivery; a failure is also the
// schedule's last error. The last failed attempt marks the delivery dead.
func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	s := w.svc
	sendErr := s.deliverOne(ctx, job.Args)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	// The schedule's last error is written before the delivery's outcome, so whoever sees
	// the delivery failed also sees it on the schedule.
	if sendErr != nil {
		s.log.WarnContext(ctx, "scheduled report delivery failed", "report_id", job.Args.ReportID.String(),
			"channel_id", job.Args.ChannelID.String(), "attempt", job.Attempt, "error", sendErr)
		if err := s.recordDeliveryError(rctx, job.Args, sendErr); err != nil {
			return errors.Join(sendErr, err)
		}
	}
	if id := job.Args.DeliveryID; id != nil && s.deliveries != nil {
		if err := s.deliveries.ReportDeliveryOutcome(rctx, *id, sendErr, job.Attempt >= job.MaxAttempts); err != nil {
			return errors.Join(sendErr, err)
		}
	}
	return sendErr
}

// recordDeliveryError makes a failed delivery the last error of the report's schedule.
func (s *Service) recordDeliveryError(ctx context.Context, a DeliverArgs, sendErr error) error {
	r, err := s.q.ReportGet(ctx, a.ReportID)
	if err != nil {
		return pg.IgnoreNotFound(err)
	}
	if r.ScheduleID == nil {
		return nil
	}
	msg := fmt.Sprintf("The delivery of report %s through the notification channel %s failed: %v", r.ID, a.ChannelID, sendErr)
	return pg.Translate(s.q.ReportScheduleSetError(ctx, dbq.ReportScheduleSetErrorParams{ID: *r.ScheduleID, ReportID: &r.ID, LastError: &msg}))
}

// RequeueDelivery queues, in tx, another attempt at a recorded report delivery (a
// redelivery of a failed or dead one); the schedule's format is used, a deleted schedule's
// reports go as PDF. It implements notify.ReportRequeueFunc.
func (s *Service) RequeueDelivery(ctx context.Context, tx pgx.Tx, deliveryID, reportID, channelID uuid.UUID) error {
	format := FormatPDF
	r, err := s.q.WithTx(tx).ReportGet(ctx, reportID)
	if err != nil {
		return pg.NotFoundAs(err, apperr.Conflict("The delivered report no longer exists."))
	}
	if r.ScheduleID != nil {
		if sc, err := s.q.WithTx(tx).ReportScheduleGet(ctx, *r.ScheduleID); err == nil {
			format = sc.Format
		}
	}
	// Unless a job of the delivery is still waiting for its next attempt (River's unique
	// jobs: ByArgs over the live states), in which case that attempt is the redelivery.
	opts := &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled}}}
	if _, err := s.jobs.InsertTx(ctx, tx, DeliverArgs{ReportID: reportID, ChannelID: channelID, Format: format, DeliveryID: &deliveryID}, opts); err != nil {
		return fmt.Errorf("queue report delivery: %w", err)
	}
	return nil
}

var contentTypes = map[string]string{FormatJSON: "application/json", FormatCSV: "text/csv", FormatPDF: "application/pdf",
	FormatOSCAL: "application/json", FormatOSCALPlan: "application/json"}

func (s *Service) deliverOne(ctx context.Context, a DeliverArgs) error {
	if s.deliver == nil {
		return nil
	}
	r, err := s.Get(ctx, a.ReportID)
	if err != nil {
		return err
	}
	file, err := s.ExportFile(ctx, a.ReportID, a.Format)
	if err != nil {
		return err
	}
	name := r.RequestedByName
	return s.deliver(ctx, a.ChannelID, Delivery{ReportID: r.ID, Kind: r.Kind, Title: r.Title, Schedule: name,
		Link:     fmt.Sprintf("/api/v1/reports/%s/export?format=%s", r.ID, a.Format),
		FileName: fmt.Sprintf("report-%s.%s", r.ID, a.Format), ContentType: contentTypes[a.Format], File: file})
}

// queueDeliveries queues, in tx, the deliveries of a completed scheduled report.
func (s *Service) queueDeliveries(ctx context.Context, tx pgx.Tx, r dbq.Report) error {
	if r.ScheduleID == nil {
		return nil
	}
	sc, err := s.q.WithTx(tx).ReportScheduleGet(ctx, *r.ScheduleID)
	if err != nil {
		return pg.IgnoreNotFound(err) // deleted since: nothing to deliver
	}
	for _, ch := range sc.ChannelIds {
		args := DeliverArgs{ReportID: r.ID, ChannelID: ch, Format: sc.Format}
		if s.deliveries != nil {
			id, err := s.deliveries.RecordReportDeliveryTx(ctx, tx, ch, r.ID, r.Title+" ("+sc.Name+")")
			switch {
			case err == nil:
				args.DeliveryID = &id
			case apperr.Is(err, apperr.CodeValidationFailed): // the channel was deleted since: nothing to send
				s.log.WarnContext(ctx, "scheduled report delivery to a deleted channel", "report_id", r.ID.String(), "channel_id", ch.String())
				continue
			default:
				return err
			}
		}
		if _, err := s.jobs.InsertTx(ctx, tx, args, nil); err != nil {
			return fmt.Errorf("queue report delivery: %w", err)
		}
	}
	return nil
}
