package window

import (
	"fmt"
	"slices"
	"time"
)

// Recurrence says on which local dates a window opens.
type Recurrence string

// The recurrences a window may have.
const (
	// RecurrenceOnce opens on one local date (Window.Date).
	RecurrenceOnce Recurrence = "once"
	// RecurrenceDaily opens every local date.
	RecurrenceDaily Recurrence = "daily"
	// RecurrenceWeekly opens on the local dates whose weekday is in Window.Weekdays.
	RecurrenceWeekly Recurrence = "weekly"
	// RecurrenceMonthlyNthWeekday opens once a month, on the Window.Nth Window.Weekday of
	// the month (Nth 1..4, or LastWeek for the last one).
	RecurrenceMonthlyNthWeekday Recurrence = "monthly_nth_weekday"
)

// LastWeek is the Nth of a monthly window that opens on the last given weekday of the month.
const LastWeek = -1

// MaxDuration bounds a window's length; a weekly weekend window fits, openings of one
// window never run into each other by more than that.
const MaxDuration = 7 * 24 * time.Hour

// Date is a calendar date without a zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate reads a date written YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("parse date: %w", err)
	}
	return DateOf(t), nil
}

// DateOf returns the date of t's wall clock in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// String writes the date as YYYY-MM-DD.
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// addDays returns the date n days later (earlier when n < 0).
func (d Date) addDays(n int) Date {
	return DateOf(time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC))
}

func (d Date) weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

func (d Date) before(o Date) bool {
	if d.Year != o.Year {
		return d.Year < o.Year
	}
	if d.Month != o.Month {
		return d.Month < o.Month
	}
	return d.Day < o.Day
}

// Window is the schedule of a maintenance window, in the wall clock of Location.
type Window struct {
	Location *time.Location
	// StartMinute is the local start time as minutes after midnight (0..1439).
	StartMinute int
	// Duration is elapsed time from the opening's start; it may run past midnight.
	Duration   time.Duration
	Recurrence Recurrence
	Date       Date           // RecurrenceOnce
	Weekdays   []time.Weekday // RecurrenceWeekly
	Nth        int            // RecurrenceMonthlyNthWeekday: 1..4 or LastWeek
	Weekday    time.Weekday   // RecurrenceMonthlyNthWeekday
	Enabled    bool
}

// Opening is one occurrence of a window: [Start, End) as instants, and the local date the
// opening belongs to (the date whose wall-clock start time it stands for).
type Opening struct {
	Date  Date
	Start time.Time
	End   time.Time
}

// Contains reports whether at lies in [Start, End).
func (o Opening) Contains(at time.Time) bool {
	return !at.Before(o.Start) && at.Before(o.End)
}

// Validate reports the first thing wrong with w as the name of the field and a message.
func (w Window) Validate() (field, msg string, ok bool) {
	switch {
	case w.Location == nil:
		return "time_zone", "must be an IANA time zone", false
	case w.StartMinute < 0 || w.StartMinute >= 24*60:
		return "start_time", "must be a local time HH:MM", false
	case w.Duration < time.Minute || w.Duration > MaxDuration:
		return "duration_minutes", "must be between 1 minute and 7 days", false
	}
	switch w.Recurrence {
	case RecurrenceOnce:
		if w.Date == (Date{}) {
			return "date", "is required for a one-off window", false
		}
	case RecurrenceDaily:
	case RecurrenceWeekly:
		if len(w.Weekdays) == 0 {
			return "days_of_week", "must name at least one day for a weekly window", false
		}
	case RecurrenceMonthlyNthWeekday:
		if w.Nth != LastWeek && (w.Nth < 1 || w.Nth > 4) {
			return "week_of_month", "must be first, second, third, fourth or last", false
		}
	default:
		return "recurrence", "must be once, daily, weekly or monthly_nth_weekday", false
	}
	return "", "", true
}

// matches reports whether the window opens on local date d.
func (w Window) matches(d Date) bool {
	switch w.Recurrence {
	case RecurrenceOnce:
		return d == w.Date
	case RecurrenceDaily:
		return true
	case RecurrenceWeekly:
		return slices.Contains(w.Weekdays, d.weekday())
	case RecurrenceMonthlyNthWeekday:
		if d.weekday() != w.Weekday {
			return false
		}
		if w.Nth == LastWeek {
			return d.addDays(7).Month != d.Month
		}
		return (d.Day-1)/7+1 == w.Nth
	}
	return false
}

// opening returns the window's opening on local date d (which must match).
func (w Window) opening(d Date) Opening {
	start := ResolveLocal(d, w.StartMinute, w.Location)
	return Opening{Date: d, Start: start, End: start.Add(w.Duration)}
}

// ResolveLocal returns the instant the wall-clock time minute-of-day on date d stands for in
// loc. A wall time that occurs twice (the repeated hour when clocks fall back) is its first
// occurrence; a wall time that does not exist (skipped when clocks spring forward) is the
// first instant after the gap, that is the moment of the change.
func ResolveLocal(d Date, minute int, loc *time.Location) time.Time {
	naive := time.Date(d.Year, d.Month, d.Day, minute/60, minute%60, 0, 0, time.UTC)
	// Offsets in force around the instant: any transition that matters lies within the
	// 14 hours either side that zone offsets span.
	var offsets []int
	for _, probe := range []time.Duration{-15 * time.Hour, 0, 15 * time.Hour} {
		_, off := naive.Add(probe).In(loc).Zone()
		if !slices.Contains(offsets, off) {
			offsets = append(offsets, off)
		}
	}
	var best time.Time
	for _, off := range offsets {
		t := naive.Add(-time.Duration(off) * time.Second)
		if _, got := t.In(loc).Zone(); got != off {
			continue
		}
		if best.IsZero() || t.Before(best) {
			best = t
		}
	}
	if !best.IsZero() {
		return best.UTC()
	}
	// In a gap: the latest candidate instant lies just after the change; its zone began at
	// the change.
	low := slices.Min(offsets)
	start, _ := naive.Add(-time.Duration(low) * time.Second).In(loc).ZoneBounds()
	return start.UTC()
}

// Next returns up to n openings of w that have not ended by after (End > after), earliest
// first; an opening in progress at after comes first. A disabled window has none.
func Next(w Window, after time.Time, n int) []Opening {
	if !w.Enabled || n <= 0 || w.Location == nil {
		return nil
	}
	// Openings that started up to Duration (plus a day of zone slack) ago may still run.
	back := int(w.Duration/(24*time.Hour)) + 2
	d := DateOf(after.In(w.Location)).addDays(-back)
	var out []Opening
	if w.Recurrence == RecurrenceOnce {
		if d.before(w.Date) || d == w.Date {
			if o := w.opening(w.Date); o.End.After(after) {
				out = append(out, o)
			}
		}
		return out
	}
	for i := 0; len(out) < n && i < 40*n+400; i, d = i+1, d.addDays(1) {
		if !w.matches(d) {
			continue
		}
		if o := w.opening(d); o.End.After(after) {
			out = append(out, o)
		}
	}
	return out
}

// Open reports whether at lies inside an opening of w, and which: the opening that started
// last, when openings overlap. Start is inside, End is outside.
func Open(w Window, at time.Time) (Opening, bool) {
	var found Opening
	ok := false
	for _, o := range Next(w, at, 16) {
		if o.Start.After(at) {
			break
		}
		if o.Contains(at) {
			found, ok = o, true
		}
	}
	return found, ok
}

// Merge returns the n earliest openings across windows that have not ended by after, each
// with the index of its window.
func Merge(ws []Window, after time.Time, n int) []Indexed {
	var all []Indexed
	for i, w := range ws {
		for _, o := range Next(w, after, n) {
			all = append(all, Indexed{Opening: o, Index: i})
		}
	}
	slices.SortStableFunc(all, func(a, b Indexed) int { return a.Start.Compare(b.Start) })
	if len(all) > n {
		all = all[:n]
	}
	return all
}

// Indexed is an opening with the index of its window in the slice given to Merge.
type Indexed struct {
	Opening
	Index int
}
