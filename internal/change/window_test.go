package change_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/app"
)

// TestJobWaitsForItsWindow starts a job on two hosts: one inside an open window is
// changed at once; the other, with no window, waits (waiting_window, no next opening) until
// a window is added, then waits for that window's opening (next_window_at) and is changed
// once it opens.
func TestJobWaitsForItsWindow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(d *app.Deps) { d.ChangeWindowRecheck = time.Second })
	open, openSrv := f.target("in-window")
	later, laterSrv := f.target("later")
	now := time.Now().UTC()
	window := func(host uuid.UUID, start time.Time, minutes int) {
		res := f.do(f.admin, http.MethodPost, "hosts/"+host.String()+"/maintenance-windows", map[string]any{
			"name": "w", "time_zone": "UTC", "start_time": start.Format("15:04"), "duration_minutes": minutes,
			"recurrence": "once", "date": start.Format("2006-01-02")})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	}
	window(open, now.Add(-time.Minute), 60)

	res := f.do(f.admin, http.MethodPost, "jobs", map[string]any{"host_ids": []uuid.UUID{open, later},
		"patch": map[string]any{"mode": "all"}, "waves": map[string]any{"canary": 2}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var j api.ChangeJob
	res.Decode(t, &j)
	require.False(t, j.IgnoreWindows)

	f.waitJob(j.Id, func(api.ChangeJob) bool {
		hs := f.hosts(j.Id)
		return hs["in-window"].Status == api.ChangeHostStatusSucceeded && hs["later"].Status == api.ChangeHostStatusWaitingWindow
	})
	require.True(t, exists(t, openSrv, "/etc/owtest-marker"))
	require.False(t, exists(t, laterSrv, "/etc/owtest-marker"), "a host outside any window is not changed")
	require.Nil(t, f.hosts(j.Id)["later"].NextWindowAt, "the host has no window yet")

	// A window opening at the next minute: the host waits for it, then is changed.
	start := time.Now().UTC().Truncate(time.Minute).Add(time.Minute)
	window(later, start, 30)
	f.waitJob(j.Id, func(api.ChangeJob) bool {
		h := f.hosts(j.Id)["later"]
		return h.NextWindowAt != nil || h.Status == api.ChangeHostStatusSucceeded
	})
	if h := f.hosts(j.Id)["later"]; h.Status == api.ChangeHostStatusWaitingWindow {
		require.True(t, h.NextWindowAt.Equal(start), "next opening %v, want %v", h.NextWindowAt, start)
	}
	j = f.waitJob(j.Id, status(api.ChangeJobStatusCompleted))
	h := f.hosts(j.Id)["later"]
	require.Equal(t, api.ChangeHostStatusSucceeded, h.Status)
	require.False(t, h.StartedAt.Before(start), "changed at %v, before its window opened at %v", h.StartedAt, start)
	require.True(t, exists(t, laterSrv, "/etc/owtest-marker"))
}
