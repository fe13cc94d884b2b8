package window

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/audit"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/events"
	"github.com/openwatch/openwatch/internal/pg"
)

// Event types published on the live stream (topic jobs) when a window changes.
const (
	EventCreated = "maintenance_window.created"
	EventUpdated = "maintenance_window.updated"
	EventDeleted = "maintenance_window.deleted"
)

// DefaultPreviewCount is how many openings a preview lists when the caller names no count.
const DefaultPreviewCount = 10

// Service stores maintenance windows and answers when they open.
type Service struct {
	pool  *pgxpool.Pool
	q     *dbq.Queries
	audit *audit.Writer
	now   func() time.Time
}

// NewService returns the window service; nowFunc is the clock (time.Now when nil).
func NewService(pool *pgxpool.Pool, aw *audit.Writer, nowFunc func() time.Time) *Service {
	if nowFunc == nil {
		nowFunc = time.Now
	}
	return &Service{pool: pool, q: dbq.New(pool), audit: aw, now: nowFunc}
}

// Spec is a window's editable fields. Fields of recurrences other than Recurrence are
// ignored and not stored.
type Spec struct {
	Name            string
	TimeZone        string
	StartMinute     int
	DurationMinutes int
	Recurrence      Recurrence
	Date            *Date
	Weekdays        []time.Weekday
	Nth             *int
	Weekday         *time.Weekday
	Enabled         bool
}

// Patch changes some of a window's fields; nil fields stay as they are.
type Patch struct {
	Name            *string
	TimeZone        *string
	StartMinute     *int
	DurationMinutes *int
	Recurrence      *Recurrence
	Date            *Date
	Weekdays        *[]time.Weekday
	Nth             *int
	Weekday         *time.Weekday
	Enabled         *bool
}

// LoadZone returns the IANA time zone name, refusing the empty name and "Local" (which
// would mean the server's own zone). Errors: validation_failed naming time_zone.
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, apperr.Invalid("time_zone", fmt.Sprintf("%q is not an IANA time zone such as Europe/Berlin.", name))
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, apperr.Invalid("time_zone", fmt.Sprintf("%q is not an IANA time zone such as Europe/Berlin.", name))
	}
	return loc, nil
}

// schedule checks sp and returns the Window it describes, with the fields of other
// recurrences dropped from sp. Errors: validation_failed naming the field.
func schedule(sp *Spec) (Window, error) {
	sp.Name = strings.TrimSpace(sp.Name)
	if sp.Name == "" {
		return Window{}, apperr.Invalid("name", "A window needs a name.")
	}
	loc, err := LoadZone(sp.TimeZone)
	if err != nil {
		return Window{}, err
	}
	w := Window{Location: loc, StartMinute: sp.StartMinute, Duration: time.Duration(sp.DurationMinutes) * time.Minute,
		Recurrence: sp.Recurrence, Enabled: sp.Enabled}
	switch sp.Recurrence {
	case RecurrenceOnce:
		sp.Weekdays, sp.Nth, sp.Weekday = nil, nil, nil
		if sp.Date != nil {
			w.Date = *sp.Date
		}
	case RecurrenceWeekly:
		sp.Date, sp.Nth, sp.Weekday = nil, nil, nil
		w.Weekdays = sp.Weekdays
	case RecurrenceMonthlyNthWeekday:
		sp.Date, sp.Weekdays = nil, nil
		if sp.Nth == nil {
			return Window{}, apperr.Invalid("week_of_month", "A monthly window needs week_of_month (first..fourth or last).")
		}
		if sp.Weekday == nil {
			return Window{}, apperr.Invalid("day_of_week", "A monthly window needs day_of_week.")
		}
		w.Nth, w.Weekday = *sp.Nth, *sp.Weekday
	default:
		sp.Date, sp.Weekdays, sp.Nth, sp.Weekday = nil, nil, nil, nil
	}
	if field, msg, ok := w.Validate(); !ok {
		return Window{}, apperr.Invalid(field, fmt.Sprintf("%s %s.", field, msg))
	}
	return w, nil
}

// FromRow returns the schedule a stored window describes.
func FromRow(r dbq.MaintenanceWindow) (Window, error) {
	loc, err := time.LoadLocation(r.TimeZone)
	if err != nil {
		return Window{}, fmt.Errorf("load zone of window %s: %w", r.ID, err)
	}
	sp := SpecOf(r)
	w := Window{Location: loc, StartMinute: sp.StartMinute, Duration: time.Duration(sp.DurationMinutes) * time.Minute,
		Recurrence: sp.Recurrence, Weekdays: sp.Weekdays, Enabled: sp.Enabled}
	if sp.Date != nil {
		w.Date = *sp.Date
	}
	if sp.Nth != nil && sp.Weekday != nil {
		w.Nth, w.Weekday = *sp.Nth, *sp.Weekday
	}
	return w, nil
}

// SpecOf returns the editable fields of a stored window.
func SpecOf(r dbq.MaintenanceWindow) Spec {
	sp := Spec{Name: r.Name, TimeZone: r.TimeZone, StartMinute: int(r.StartMinute), DurationMinutes: int(r.DurationMinutes),
		Recurrence: Recurrence(r.Recurrence), Enabled: r.Enabled}
	if r.OnceDate.Valid {
		d := DateOf(r.OnceDate.Time)
		sp.Date = &d
	}
	for _, d := range r.DaysOfWeek {
		sp.Weekdays = append(sp.Weekdays, time.Weekday(d))
	}
	if r.WeekOfMonth != nil {
		n := int(*r.WeekOfMonth)
		sp.Nth = &n
	}
	if r.DayOfWeek != nil {
		wd := time.Weekday(*r.DayOfWeek)
		sp.Weekday = &wd
	}
	return sp
}

// columns returns sp as the stored column values.
func columns(sp Spec) (onceDate pgtype.Date, days []int16, nth, weekday *int16) {
	if sp.Date != nil {
		onceDate = pgtype.Date{Time: time.Date(sp.Date.Year, sp.Date.Month, sp.Date.Day, 0, 0, 0, 0, time.UTC), Valid: true}
	}
	days = []int16{}
	for _, d := range sp.Weekdays {
		if !containsDay(days, int16(d)) {
			days = append(days, int16(d))
		}
	}
	if sp.Nth != nil {
		n := int16(*sp.Nth)
		nth = &n
	}
	if sp.Weekday != nil {
		d := int16(*sp.Weekday)
		weekday = &d
	}
	return onceDate, days, nth, weekday
}

func containsDay(days []int16, d int16) bool {
	for _, x := range days {
		if x == d {
			return true
		}
	}
	return false
}

// Owner names what a window belongs to: exactly one of HostID and GroupID.
type Owner struct {
	HostID  *uuid.UUID
	GroupID *uuid.UUID
}

// Create adds a window to a live host or a group, audited and published in one
// transaction. Guarded by host:write. Errors: validation_failed naming the field,
// resource.not_found for a host or group that does not exist.
func (s *Service) Create(ctx context.Context, actor *authz.Principal, owner Owner, sp Spec) (dbq.MaintenanceWindow, error) {
	if _, err := schedule(&sp); err != nil {
		return dbq.MaintenanceWindow{}, err
	}
	var out dbq.MaintenanceWindow
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		if err := ownerExists(ctx, q, owner); err != nil {
			return err
		}
		if err := checkRoom(ctx, q, owner); err != nil {
			return err
		}
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("new window id: %w", err)
		}
		onceDate, days, nth, weekday := columns(sp)
		out, err = q.MaintenanceWindowInsert(ctx, dbq.MaintenanceWindowInsertParams{ID: id, HostID: owner.HostID,
			GroupID: owner.GroupID, Name: sp.Name, TimeZone: sp.TimeZone, StartMinute: int32(sp.StartMinute),
			DurationMinutes: int32(sp.DurationMinutes), Recurrence: string(sp.Recurrence), OnceDate: onceDate,
			DaysOfWeek: days, WeekOfMonth: nth, DayOfWeek: weekday, Enabled: sp.Enabled, CreatedBy: actor.Actor().String()})
		if err != nil {
			return fmt.Errorf("insert window: %w", err)
		}
		return s.record(ctx, tx, actor, audit.ActionMaintenanceWindowCreated, EventCreated, out, nil)
	})
	return out, pg.Translate(err)
}

// MaxWindowsPerOwner caps the windows of one host or group, so their lists stay short
// enough to answer whole.
const MaxWindowsPerOwner = 50

// checkRoom refuses a window beyond MaxWindowsPerOwner, holding the owner's lock until the
// transaction ends.
func checkRoom(ctx context.Context, q *dbq.Queries, owner Owner) error {
	key := owner.HostID
	if key == nil {
		key = owner.GroupID
	}
	if err := q.MaintenanceWindowLockOwner(ctx, *key); err != nil {
		return err
	}
	n, err := q.MaintenanceWindowCountForOwner(ctx, dbq.MaintenanceWindowCountForOwnerParams{HostID: owner.HostID, GroupID: owner.GroupID})
	if err != nil {
		return err
	}
	if n >= MaxWindowsPerOwner {
		return apperr.Conflict(fmt.Sprintf("A host or group has at most %d maintenance windows: delete or edit one instead.", MaxWindowsPerOwner))
	}
	return nil
}

func ownerExists(ctx context.Context, q *dbq.Queries, owner Owner) error {
	if owner.HostID != nil {
		ok, err := q.ScanHostExists(ctx, *owner.HostID)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.NotFound("The host does not exist.")
		}
		return nil
	}
	ok, err := q.MaintenanceWindowGroupExists(ctx, *owner.GroupID)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.NotFound("The host group does not exist.")
	}
	return nil
}

// record writes the audit event and the live-stream event of a change to w.
func (s *Service) record(ctx context.Context, tx pgx.Tx, actor *authz.Principal, action audit.Action, typ string, w dbq.MaintenanceWindow, before *Spec) error {
	detail := describe(w)
	if before != nil {
		detail["before"] = before
	}
	if err := s.audit.Append(ctx, tx, audit.For(ctx, actor, action, "maintenance_window", w.ID.String(), detail)); err != nil {
		return err
	}
	_, err := events.Publish(ctx, tx, events.Event{Topic: events.TopicJobs, Type: typ, HostID: w.HostID,
		Permission: authz.PermHostRead, Data: map[string]any{"window_id": w.ID, "host_id": w.HostID, "group_id": w.GroupID}})
	return err
}

func describe(w dbq.MaintenanceWindow) map[string]any {
	d := map[string]any{"name": w.Name, "time_zone": w.TimeZone, "start_minute": w.StartMinute,
		"duration_minutes": w.DurationMinutes, "recurrence": w.Recurrence, "enabled": w.Enabled}
	if w.HostID != nil {
		d["host_id"] = w.HostID.String()
	}
	if w.GroupID != nil {
		d["group_id"] = w.GroupID.String()
	}
	return d
}

// ListForHost returns a live host's own windows. Guarded by host:read. Errors:
// resource.not_found.
func (s *Service) ListForHost(ctx context.Context, hostID uuid.UUID) ([]dbq.MaintenanceWindow, error) {
	if err := ownerExists(ctx, s.q, Owner{HostID: &hostID}); err != nil {
		return nil, pg.Translate(err)
	}
	rows, err := s.q.MaintenanceWindowListForHost(ctx, &hostID)
	return rows, pg.Translate(err)
}

// ListForGroup returns a group's windows. Guarded by host:read. Errors: resource.not_found.
func (s *Service) ListForGroup(ctx context.Context, groupID uuid.UUID) ([]dbq.MaintenanceWindow, error) {
	if err := ownerExists(ctx, s.q, Owner{GroupID: &groupID}); err != nil {
		return nil, pg.Translate(err)
	}
	rows, err := s.q.MaintenanceWindowListForGroup(ctx, &groupID)
	return rows, pg.Translate(err)
}

// Get returns one window. Guarded by host:read. Errors: resource.not_found.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (dbq.MaintenanceWindow, error) {
	w, err := s.q.MaintenanceWindowGet(ctx, id)
	if err != nil {
		return dbq.MaintenanceWindow{}, notFound(pg.Translate(err))
	}
	return w, nil
}

func notFound(err error) error {
	if apperr.Is(err, apperr.CodeNotFound) {
		return apperr.NotFound("There is no such maintenance window.")
	}
	return err
}

// Update applies p to a window and checks the result as a whole, audited (with the fields
// before) and published in one transaction. Guarded by host:write. Errors:
// validation_failed naming the field, resource.not_found.
func (s *Service) Update(ctx context.Context, actor *authz.Principal, id uuid.UUID, p Patch) (dbq.MaintenanceWindow, error) {
	var out dbq.MaintenanceWindow
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		cur, err := q.MaintenanceWindowGetForUpdate(ctx, id)
		if err != nil {
			return notFound(pg.Translate(err))
		}
		before := SpecOf(cur)
		sp := apply(before, p)
		if _, err := schedule(&sp); err != nil {
			return err
		}
		onceDate, days, nth, weekday := columns(sp)
		out, err = q.MaintenanceWindowUpdate(ctx, dbq.MaintenanceWindowUpdateParams{ID: id, Name: sp.Name,
			TimeZone: sp.TimeZone, StartMinute: int32(sp.StartMinute), DurationMinutes: int32(sp.DurationMinutes),
			Recurrence: string(sp.Recurrence), OnceDate: onceDate, DaysOfWeek: days, WeekOfMonth: nth,
			DayOfWeek: weekday, Enabled: sp.Enabled})
		if err != nil {
			return fmt.Errorf("update window: %w", err)
		}
		return s.record(ctx, tx, actor, audit.ActionMaintenanceWindowUpdated, EventUpdated, out, &before)
	})
	return out, pg.Translate(err)
}

func apply(sp Spec, p Patch) Spec {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&sp.Name, p.Name)
	set(&sp.TimeZone, p.TimeZone)
	if p.StartMinute != nil {
		sp.StartMinute = *p.StartMinute
	}
	if p.DurationMinutes != nil {
		sp.DurationMinutes = *p.DurationMinutes
	}
	if p.Recurrence != nil {
		sp.Recurrence = *p.Recurrence
	}
	if p.Date != nil {
		sp.Date = p.Date
	}
	if p.Weekdays != nil {
		sp.Weekdays = *p.Weekdays
	}
	if p.Nth != nil {
		sp.Nth = p.Nth
	}
	if p.Weekday != nil {
		sp.Weekday = p.Weekday
	}
	if p.Enabled != nil {
		sp.Enabled = *p.Enabled
	}
	return sp
}

// Delete removes a window, audited and published in one transaction. Guarded by
// host:write. Errors: resource.not_found.
func (s *Service) Delete(ctx context.Context, actor *authz.Principal, id uuid.UUID) error {
	return pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		q := dbq.New(tx)
		cur, err := q.MaintenanceWindowGetForUpdate(ctx, id)
		if err != nil {
			return notFound(pg.Translate(err))
		}
		if _, err := q.MaintenanceWindowDelete(ctx, id); err != nil {
			return fmt.Errorf("delete window: %w", err)
		}
		return s.record(ctx, tx, actor, audit.ActionMaintenanceWindowDeleted, EventDeleted, cur, nil)
	})
}

// Scheduled is an opening of a stored window.
type Scheduled struct {
	Opening
	Window   dbq.MaintenanceWindow
	Location *time.Location
}

// Preview returns the next n openings of one window from now, and whether it is open now.
// Guarded by host:read. Errors: resource.not_found.
func (s *Service) Preview(ctx context.Context, id uuid.UUID, n int) ([]Scheduled, bool, error) {
	w, err := s.Get(ctx, id)
	if err != nil {
		return nil, false, err
	}
	return s.merge([]dbq.MaintenanceWindow{w}, s.now(), n)
}

// PreviewHost returns the next n openings of every window that applies to a live host (its
// own and its group's), merged earliest first, and whether one is open now. Guarded by
// host:read. Errors: resource.not_found.
func (s *Service) PreviewHost(ctx context.Context, hostID uuid.UUID, n int) ([]Scheduled, bool, error) {
	rows, err := s.effective(ctx, s.q, hostID)
	if err != nil {
		return nil, false, err
	}
	return s.merge(rows, s.now(), n)
}

// OpenForHostTx reports whether a live host is inside one of its windows (its own or its
// group's) at at, and which opening; for the change machinery, inside its transaction.
// A host with no enabled window is never inside one. Errors: resource.not_found.
func (s *Service) OpenForHostTx(ctx context.Context, tx pgx.Tx, hostID uuid.UUID, at time.Time) (Scheduled, bool, error) {
	rows, err := s.effective(ctx, dbq.New(tx), hostID)
	if err != nil {
		return Scheduled{}, false, err
	}
	for _, r := range rows {
		w, err := FromRow(r)
		if err != nil {
			return Scheduled{}, false, err
		}
		if o, ok := Open(w, at); ok {
			return Scheduled{Opening: o, Window: r, Location: w.Location}, true, nil
		}
	}
	return Scheduled{}, false, nil
}

func (s *Service) effective(ctx context.Context, q *dbq.Queries, hostID uuid.UUID) ([]dbq.MaintenanceWindow, error) {
	if err := ownerExists(ctx, q, Owner{HostID: &hostID}); err != nil {
		return nil, pg.Translate(err)
	}
	rows, err := q.MaintenanceWindowListEffective(ctx, &hostID)
	return rows, pg.Translate(err)
}

func (s *Service) merge(rows []dbq.MaintenanceWindow, now time.Time, n int) ([]Scheduled, bool, error) {
	ws := make([]Window, len(rows))
	for i, r := range rows {
		w, err := FromRow(r)
		if err != nil {
			return nil, false, err
		}
		ws[i] = w
	}
	open := false
	for _, w := range ws {
		if _, ok := Open(w, now); ok {
			open = true
			break
		}
	}
	merged := Merge(ws, now, n)
	out := make([]Scheduled, len(merged))
	for i, m := range merged {
		out[i] = Scheduled{Opening: m.Opening, Window: rows[m.Index], Location: ws[m.Index].Location}
	}
	return out, open, nil
}
