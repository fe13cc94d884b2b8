package window

import (
	"fmt"
	"strings"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apperr"
)

var weeksOfMonth = map[api.WeekOfMonth]int{"first": 1, "second": 2, "third": 3, "fourth": 4, "last": LastWeek}

func weekOfMonthName(n int) string {
	for k, v := range weeksOfMonth {
		if v == n {
			return string(k)
		}
	}
	return ""
}

func weekday(w api.Weekday) (time.Weekday, error) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(d.String(), string(w)) {
			return d, nil
		}
	}
	return 0, fmt.Errorf("unknown weekday %q", w)
}

func weekdayName(d time.Weekday) api.Weekday { return api.Weekday(strings.ToLower(d.String())) }

// parseStart reads HH:MM as minutes after midnight. Errors: validation_failed naming
// start_time.
func parseStart(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, apperr.Invalid("start_time", fmt.Sprintf("%q is not a local time HH:MM.", s))
	}
	return t.Hour()*60 + t.Minute(), nil
}

func formatStart(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

func dateOf(d *openapi_types.Date) *Date {
	if d == nil {
		return nil
	}
	v := DateOf(d.Time)
	return &v
}

func weekdays(in []api.Weekday, field string) ([]time.Weekday, error) {
	out := make([]time.Weekday, 0, len(in))
	for _, w := range in {
		d, err := weekday(w)
		if err != nil {
			return nil, apperr.Invalid(field, err.Error())
		}
		out = append(out, d)
	}
	return out, nil
}

func optWeekday(w *api.Weekday) (*time.Weekday, error) {
	if w == nil {
		return nil, nil
	}
	d, err := weekday(*w)
	if err != nil {
		return nil, apperr.Invalid("day_of_week", err.Error())
	}
	return &d, nil
}

func optNth(w *api.WeekOfMonth) (*int, error) {
	if w == nil {
		return nil, nil
	}
	n, ok := weeksOfMonth[*w]
	if !ok {
		return nil, apperr.Invalid("week_of_month", "week_of_month must be first, second, third, fourth or last.")
	}
	return &n, nil
}

func fromCreate(b api.MaintenanceWindowCreate) (Spec, error) {
	start, err := parseStart(b.StartTime)
	if err != nil {
		return Spec{}, err
	}
	sp := Spec{Name: b.Name, TimeZone: b.TimeZone, StartMinute: start, DurationMinutes: b.DurationMinutes,
		Recurrence: Recurrence(b.Recurrence), Date: dateOf(b.Date), Enabled: b.Enabled == nil || *b.Enabled}
	if b.DaysOfWeek != nil {
		if sp.Weekdays, err = weekdays(*b.DaysOfWeek, "days_of_week"); err != nil {
			return Spec{}, err
		}
	}
	if sp.Weekday, err = optWeekday(b.DayOfWeek); err != nil {
		return Spec{}, err
	}
	if sp.Nth, err = optNth(b.WeekOfMonth); err != nil {
		return Spec{}, err
	}
	return sp, nil
}

func fromUpdate(b api.MaintenanceWindowUpdate) (Patch, error) {
	p := Patch{Name: b.Name, TimeZone: b.TimeZone, DurationMinutes: b.DurationMinutes, Date: dateOf(b.Date), Enabled: b.Enabled}
	if b.StartTime != nil {
		m, err := parseStart(*b.StartTime)
		if err != nil {
			return Patch{}, err
		}
		p.StartMinute = &m
	}
	if b.Recurrence != nil {
		r := Recurrence(*b.Recurrence)
		p.Recurrence = &r
	}
	var err error
	if b.DaysOfWeek != nil {
		ds, err := weekdays(*b.DaysOfWeek, "days_of_week")
		if err != nil {
			return Patch{}, err
		}
		p.Weekdays = &ds
	}
	if p.Weekday, err = optWeekday(b.DayOfWeek); err != nil {
		return Patch{}, err
	}
	if p.Nth, err = optNth(b.WeekOfMonth); err != nil {
		return Patch{}, err
	}
	return p, nil
}

func toAPIWindow(r dbq.MaintenanceWindow) api.MaintenanceWindow {
	sp := SpecOf(r)
	out := api.MaintenanceWindow{Id: r.ID, HostId: r.HostID, GroupId: r.GroupID, Name: r.Name, TimeZone: r.TimeZone,
		StartTime: formatStart(sp.StartMinute), DurationMinutes: sp.DurationMinutes,
		Recurrence: api.MaintenanceRecurrence(sp.Recurrence), DaysOfWeek: []api.Weekday{}, Enabled: r.Enabled,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if sp.Date != nil {
		out.Date = &openapi_types.Date{Time: time.Date(sp.Date.Year, sp.Date.Month, sp.Date.Day, 0, 0, 0, 0, time.UTC)}
	}
	for _, d := range sp.Weekdays {
		out.DaysOfWeek = append(out.DaysOfWeek, weekdayName(d))
	}
	if sp.Nth != nil {
		n := weekOfMonthName(*sp.Nth)
		out.WeekOfMonth = &n
	}
	if sp.Weekday != nil {
		d := string(weekdayName(*sp.Weekday))
		out.DayOfWeek = &d
	}
	return out
}

func toAPIWindows(rs []dbq.MaintenanceWindow) api.MaintenanceWindowList {
	out := api.MaintenanceWindowList{Windows: make([]api.MaintenanceWindow, len(rs))}
	for i, r := range rs {
		out.Windows[i] = toAPIWindow(r)
	}
	return out
}

func toAPIPreview(ss []Scheduled, open bool) api.MaintenancePreview {
	out := api.MaintenancePreview{OpenNow: open, Openings: make([]api.MaintenanceOpening, len(ss))}
	for i, s := range ss {
		out.Openings[i] = api.MaintenanceOpening{WindowId: s.Window.ID, WindowName: s.Window.Name, TimeZone: s.Window.TimeZone,
			Date:  openapi_types.Date{Time: time.Date(s.Date.Year, s.Date.Month, s.Date.Day, 0, 0, 0, 0, time.UTC)},
			Start: s.Start.UTC(), End: s.End.UTC(),
			LocalStart: s.Start.In(s.Location).Format(time.RFC3339), LocalEnd: s.End.In(s.Location).Format(time.RFC3339)}
	}
	return out
}
