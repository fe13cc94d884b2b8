package window

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func utc(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v.UTC()
}

func hm(h, m int) int { return h*60 + m }

func daily(loc *time.Location, start int, d time.Duration) Window {
	return Window{Location: loc, StartMinute: start, Duration: d, Recurrence: RecurrenceDaily, Enabled: true}
}

// TestNextAcrossDSTAndMidnight pins the first opening of a daily window found after a given
// instant, in several zones, on the nights clocks change and across midnight.
func TestNextAcrossDSTAndMidnight(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		zone       string
		start      int
		dur        time.Duration
		after      string
		wantDate   string
		wantStart  string
		wantEnd    string
		wantLocalS string
	}{
		// Europe/Berlin springs forward 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z).
		{"berlin spring 01:30 for 2h is elapsed time", "Europe/Berlin", hm(1, 30), 2 * time.Hour,
			"2026-03-28T12:00:00Z", "2026-03-29", "2026-03-29T00:30:00Z", "2026-03-29T02:30:00Z", "2026-03-29T01:30:00+01:00"},
		{"berlin spring 02:30 does not exist: starts at the change", "Europe/Berlin", hm(2, 30), time.Hour,
			"2026-03-28T12:00:00Z", "2026-03-29", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z", "2026-03-29T03:00:00+02:00"},
		{"berlin spring 23:00 crossing midnight into the gap", "Europe/Berlin", hm(23, 0), 4 * time.Hour,
			"2026-03-28T12:00:00Z", "2026-03-28", "2026-03-28T22:00:00Z", "2026-03-29T02:00:00Z", "2026-03-28T23:00:00+01:00"},
		// Europe/Berlin falls back 2026-10-25 03:00 CEST -> 02:00 CET (01:00Z).
		{"berlin fall 02:30 twice: the first", "Europe/Berlin", hm(2, 30), time.Hour,
			"2026-10-24T12:00:00Z", "2026-10-25", "2026-10-25T00:30:00Z", "2026-10-25T01:30:00Z", "2026-10-25T02:30:00+02:00"},
		{"berlin fall 23:00 for 4h ends at 02:00 CET", "Europe/Berlin", hm(23, 0), 4 * time.Hour,
			"2026-10-24T12:00:00Z", "2026-10-24", "2026-10-24T21:00:00Z", "2026-10-25T01:00:00Z", "2026-10-24T23:00:00+02:00"},
		{"berlin 01:30-03:30 on fall night is 2h elapsed", "Europe/Berlin", hm(1, 30), 2 * time.Hour,
			"2026-10-24T12:00:00Z", "2026-10-25", "2026-10-24T23:30:00Z", "2026-10-25T01:30:00Z", "2026-10-25T01:30:00+02:00"},
		// America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z); 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z).
		{"new york spring 02:30 starts 03:00 EDT", "America/New_York", hm(2, 30), 90 * time.Minute,
			"2026-03-07T12:00:00Z", "2026-03-08", "2026-03-08T07:00:00Z", "2026-03-08T08:30:00Z", "2026-03-08T03:00:00-04:00"},
		{"new york fall 01:30 is the EDT one", "America/New_York", hm(1, 30), time.Hour,
			"2026-10-31T12:00:00Z", "2026-11-01", "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z", "2026-11-01T01:30:00-04:00"},
		{"new york 22:00 for 5h over the fall night", "America/New_York", hm(22, 0), 5 * time.Hour,
			"2026-10-31T12:00:00Z", "2026-10-31", "2026-11-01T02:00:00Z", "2026-11-01T07:00:00Z", "2026-10-31T22:00:00-04:00"},
		// Australia/Lord_Howe: +10:30, +11:00 in summer; the clock moves 30 minutes at 02:00.
		{"lord howe spring 02:15 starts 02:30", "Australia/Lord_Howe", hm(2, 15), time.Hour,
			"2026-10-03T00:00:00Z", "2026-10-04", "2026-10-03T15:30:00Z", "2026-10-03T16:30:00Z", "2026-10-04T02:30:00+11:00"},
		{"lord howe fall 01:45 is the +11 one", "Australia/Lord_Howe", hm(1, 45), 30 * time.Minute,
			"2026-04-04T00:00:00Z", "2026-04-05", "2026-04-04T14:45:00Z", "2026-04-04T15:15:00Z", "2026-04-05T01:45:00+11:00"},
		// Asia/Kolkata has no DST and a half-hour offset.
		{"kolkata 23:30 crossing midnight", "Asia/Kolkata", hm(23, 30), 2 * time.Hour,
			"2026-03-29T12:00:00Z", "2026-03-29", "2026-03-29T18:00:00Z", "2026-03-29T20:00:00Z", "2026-03-29T23:30:00+05:30"},
		{"utc midnight start", "UTC", 0, 30 * time.Minute,
			"2026-03-29T00:00:00Z", "2026-03-29", "2026-03-29T00:00:00Z", "2026-03-29T00:30:00Z", "2026-03-29T00:00:00Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			loc := zone(t, tc.zone)
			got := Next(daily(loc, tc.start, tc.dur), utc(t, tc.after), 1)
			require.Len(t, got, 1)
			require.Equal(t, tc.wantDate, got[0].Date.String())
			require.Equal(t, utc(t, tc.wantStart), got[0].Start)
			require.Equal(t, utc(t, tc.wantEnd), got[0].End)
			require.Equal(t, tc.wantLocalS, got[0].Start.In(loc).Format(time.RFC3339))
		})
	}
}

func dates(os []Opening) []string {
	out := make([]string, len(os))
	for i, o := range os {
		out[i] = o.Date.String()
	}
	return out
}

func TestNextRecurrences(t *testing.T) {
	t.Parallel()
	berlin := zone(t, "Europe/Berlin")
	base := Window{Location: berlin, StartMinute: hm(22, 0), Duration: 3 * time.Hour, Enabled: true}
	after := utc(t, "2026-01-01T00:00:00Z")

	secondTue := base
	secondTue.Recurrence, secondTue.Nth, secondTue.Weekday = RecurrenceMonthlyNthWeekday, 2, time.Tuesday
	require.Equal(t, []string{"2026-01-13", "2026-02-10", "2026-03-10", "2026-04-14"}, dates(Next(secondTue, after, 4)))

	lastFri := base
	lastFri.Recurrence, lastFri.Nth, lastFri.Weekday = RecurrenceMonthlyNthWeekday, LastWeek, time.Friday
	require.Equal(t, []string{"2026-01-30", "2026-02-27", "2026-03-27", "2026-04-24", "2026-05-29"}, dates(Next(lastFri, after, 5)))

	fourthSun := base
	fourthSun.Recurrence, fourthSun.Nth, fourthSun.Weekday = RecurrenceMonthlyNthWeekday, 4, time.Sunday
	require.Equal(t, []string{"2026-01-25", "2026-02-22", "2026-03-22"}, dates(Next(fourthSun, after, 3)))

	weekly := base
	weekly.Recurrence, weekly.Weekdays = RecurrenceWeekly, []time.Weekday{time.Monday, time.Wednesday}
	require.Equal(t, []string{"2026-01-05", "2026-01-07", "2026-01-12"}, dates(Next(weekly, after, 3)))

	once := base
	once.Recurrence, once.Date = RecurrenceOnce, Date{2026, time.March, 29}
	got := Next(once, after, 5)
	require.Equal(t, []string{"2026-03-29"}, dates(got))
	require.Equal(t, utc(t, "2026-03-29T20:00:00Z"), got[0].Start)
	require.Empty(t, Next(once, utc(t, "2026-03-30T00:00:00Z"), 5), "a one-off window that has ended has no openings")
	require.Len(t, Next(once, utc(t, "2026-03-29T22:59:59Z"), 5), 1, "in progress")

	disabled := weekly
	disabled.Enabled = false
	require.Empty(t, Next(disabled, after, 3))
	_, open := Open(disabled, utc(t, "2026-01-05T21:30:00Z"))
	require.False(t, open)
}

// TestNextIncludesOpeningInProgress checks that a window crossing midnight that is open at
// the instant asked is listed first.
func TestNextIncludesOpeningInProgress(t *testing.T) {
	t.Parallel()
	w := daily(zone(t, "America/New_York"), hm(23, 0), 3*time.Hour)
	got := Next(w, utc(t, "2026-06-02T05:00:00Z"), 2) // 01:00 EDT on 06-02
	require.Equal(t, []string{"2026-06-01", "2026-06-02"}, dates(got))
	require.Equal(t, utc(t, "2026-06-02T03:00:00Z"), got[0].Start)
}

func TestOpenAtBoundaries(t *testing.T) {
	t.Parallel()
	berlin := zone(t, "Europe/Berlin")
	// Sundays 23:00 CET for 4h, the week clocks spring forward: Sun 2026-03-22 22:00Z to 02:00Z.
	w := Window{Location: berlin, StartMinute: hm(23, 0), Duration: 4 * time.Hour, Recurrence: RecurrenceWeekly,
		Weekdays: []time.Weekday{time.Sunday}, Enabled: true}
	cases := []struct {
		at   string
		open bool
	}{
		{"2026-03-22T21:59:59Z", false},
		{"2026-03-22T22:00:00Z", true}, // start is inside
		{"2026-03-22T23:30:00Z", true}, // past local midnight
		{"2026-03-23T01:59:59Z", true},
		{"2026-03-23T02:00:00Z", false}, // end is outside
		// 2026-03-29 23:00 CEST = 21:00Z (after the change that morning).
		{"2026-03-29T20:59:59Z", false},
		{"2026-03-29T21:00:00Z", true},
		{"2026-03-30T00:59:59Z", true},
		{"2026-03-30T01:00:00Z", false},
	}
	for _, tc := range cases {
		o, open := Open(w, utc(t, tc.at))
		require.Equal(t, tc.open, open, tc.at)
		if open {
			require.True(t, o.Contains(utc(t, tc.at)))
		}
	}

	// The spring-forward gap: 02:30 for 1h on 2026-03-29 opens at 01:00Z.
	gap := daily(berlin, hm(2, 30), time.Hour)
	_, open := Open(gap, utc(t, "2026-03-29T00:59:59Z"))
	require.False(t, open)
	o, open := Open(gap, utc(t, "2026-03-29T01:00:00Z"))
	require.True(t, open)
	require.Equal(t, "2026-03-29", o.Date.String())

	// Lord Howe half-hour fall back: 01:45 (+11) for 30 min is 14:45Z-15:15Z; the second
	// 01:45 (+10:30, 15:15Z) is not a new opening.
	lh := daily(zone(t, "Australia/Lord_Howe"), hm(1, 45), 30*time.Minute)
	_, open = Open(lh, utc(t, "2026-04-04T15:14:59Z"))
	require.True(t, open)
	_, open = Open(lh, utc(t, "2026-04-04T15:15:00Z"))
	require.False(t, open)
}

func TestOpenOverlappingLongWindow(t *testing.T) {
	t.Parallel()
	// A daily window of 30h overlaps itself; Open returns the latest-started opening.
	w := daily(time.UTC, hm(6, 0), 30*time.Hour)
	o, open := Open(w, utc(t, "2026-05-02T07:00:00Z"))
	require.True(t, open)
	require.Equal(t, "2026-05-02", o.Date.String())
}

func TestMerge(t *testing.T) {
	t.Parallel()
	a := daily(time.UTC, hm(1, 0), time.Hour)
	b := daily(zone(t, "Asia/Kolkata"), hm(1, 0), time.Hour) // 19:30Z the day before
	got := Merge([]Window{a, b}, utc(t, "2026-05-01T00:00:00Z"), 3)
	require.Len(t, got, 3)
	require.Equal(t, []int{0, 1, 0}, []int{got[0].Index, got[1].Index, got[2].Index})
	require.Equal(t, utc(t, "2026-05-01T19:30:00Z"), got[1].Start)
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := daily(time.UTC, 0, time.Hour)
	cases := map[string]func(w *Window){
		"time_zone":        func(w *Window) { w.Location = nil },
		"start_time":       func(w *Window) { w.StartMinute = 24 * 60 },
		"duration_minutes": func(w *Window) { w.Duration = 8 * 24 * time.Hour },
		"date":             func(w *Window) { w.Recurrence = RecurrenceOnce },
		"days_of_week":     func(w *Window) { w.Recurrence = RecurrenceWeekly },
		"week_of_month":    func(w *Window) { w.Recurrence, w.Nth = RecurrenceMonthlyNthWeekday, 5 },
		"recurrence":       func(w *Window) { w.Recurrence = "hourly" },
	}
	for field, mutate := range cases {
		w := ok
		mutate(&w)
		got, _, valid := w.Validate()
		require.False(t, valid, field)
		require.Equal(t, field, got)
	}
	_, _, valid := ok.Validate()
	require.True(t, valid)
}
