// Package window holds maintenance windows: the recurring or one-off spans of local time in
// which OpenWatch may change a host. A window belongs to a host or to a group (and then
// applies to every host of the group); a host's effective schedule is its own windows merged
// with its group's.
//
// A window is a local start time and a duration in an IANA time zone, opening on the local
// dates its recurrence names: once (one date), daily, weekly (days of the week) or monthly on
// the nth weekday (first..fourth, or last). Openings are computed in the zone's wall clock,
// and these rules settle the nights clocks change:
//
//   - A start time that occurs twice (the repeated hour when clocks fall back) means its
//     first occurrence.
//   - A start time that does not exist (skipped when clocks spring forward) starts at the
//     first instant after the gap, the moment of the change.
//   - The duration is elapsed time: a 01:30 window of 2 hours lasts 2 hours on every night,
//     so its local end time moves by the size of a clock change that falls inside it.
//   - An opening belongs to the local date its start stands for, so a window may cross
//     midnight; an opening is [start, end): its start is inside, its end is not.
//
// Next and Open are pure functions of the schedule and an instant, for the change machinery
// (a job waits until Open reports its host inside a window). A disabled window has no
// openings.
package window
