package window_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/window"
)

type fixture struct {
	t     *testing.T
	env   *apitest.Env
	admin apitest.Session
	host  uuid.UUID
	group uuid.UUID
}

// now is the fixed clock of the service-level previews: Saturday 2026-03-28 12:00 UTC, the
// day before Europe/Berlin springs forward. (The API runs on the real clock: sessions need it.)
var now = time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC)

func setup(t *testing.T) *fixture {
	t.Helper()
	env := apitest.New(t)
	f := &fixture{t: t, env: env, admin: env.Admin()}
	res := f.do(f.admin, http.MethodPost, "groups", map[string]any{"name": "mw-group"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var g struct{ ID uuid.UUID }
	res.Decode(t, &g)
	f.group = g.ID
	res = f.do(f.admin, http.MethodPost, "hosts", map[string]any{"hostname": "mw-target", "ip_address": "127.0.0.1",
		"group_id": f.group})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var h struct{ ID uuid.UUID }
	res.Decode(t, &h)
	f.host = h.ID
	return f
}

func (f *fixture) do(s apitest.Session, method, path string, body any) *apitest.Response {
	f.t.Helper()
	return f.env.Do(apitest.Request{Method: method, Path: path, Token: s.AccessToken, JSON: body})
}

func (f *fixture) audited(action string, id uuid.UUID) int {
	var n int
	require.NoError(f.t, f.env.App.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM audit_events WHERE resource_type = 'maintenance_window' AND resource_id = $1 AND action = $2`,
		id.String(), action).Scan(&n))
	return n
}

func TestWindowLifecycle(t *testing.T) {
	t.Parallel()
	f := setup(t)
	hostPath := "hosts/" + f.host.String() + "/maintenance-windows"

	// A Berlin window at 02:30 on the night clocks spring forward: it opens at 03:00 CEST.
	res := f.do(f.admin, http.MethodPost, hostPath, map[string]any{"name": "nightly", "time_zone": "Europe/Berlin",
		"start_time": "02:30", "duration_minutes": 60, "recurrence": "daily"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var w api.MaintenanceWindow
	res.Decode(t, &w)
	require.Equal(t, "02:30", w.StartTime)
	require.True(t, w.Enabled)
	require.Equal(t, f.host, *w.HostId)
	require.Nil(t, w.GroupId)
	require.Equal(t, 1, f.audited("maintenance_window.created", w.Id))

	// On the fixed clock, its next opening is the spring-forward night: 03:00 CEST.
	ss, open, err := windowService(f).Preview(context.Background(), w.Id, 2)
	require.NoError(t, err)
	require.False(t, open)
	require.Len(t, ss, 2)
	require.Equal(t, "2026-03-29", ss[0].Date.String())
	require.Equal(t, time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), ss[0].Start)
	require.Equal(t, time.Date(2026, 3, 30, 0, 30, 0, 0, time.UTC), ss[1].Start)

	// Through the API, on the real clock: local wall times carry the zone's offset.
	res = f.do(f.admin, http.MethodGet, "maintenance-windows/"+w.Id.String()+":preview?count=2", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var p api.MaintenancePreview
	res.Decode(t, &p)
	require.Len(t, p.Openings, 2)
	require.Equal(t, "nightly", p.Openings[0].WindowName)
	require.Equal(t, time.Hour, p.Openings[0].End.Sub(p.Openings[0].Start))
	require.Regexp(t, `T0[23]:[03]0:00\+0[12]:00$`, p.Openings[0].LocalStart)

	// A group window, every day of the week from midnight for 24h (UTC): always open.
	groupPath := "groups/" + f.group.String() + "/maintenance-windows"
	all := []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}
	res = f.do(f.admin, http.MethodPost, groupPath, map[string]any{"name": "always", "time_zone": "UTC",
		"start_time": "00:00", "duration_minutes": 1440, "recurrence": "weekly", "days_of_week": all})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var gw api.MaintenanceWindow
	res.Decode(t, &gw)
	require.Len(t, gw.DaysOfWeek, 7)

	res = f.do(f.admin, http.MethodGet, groupPath, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var gl api.MaintenanceWindowList
	res.Decode(t, &gl)
	require.Len(t, gl.Windows, 1)

	// The host's preview merges both; the group's opening in progress comes first.
	res = f.do(f.admin, http.MethodGet, hostPath+":preview?count=6", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &p)
	require.True(t, p.OpenNow)
	require.Len(t, p.Openings, 6)
	require.Equal(t, gw.Id, p.Openings[0].WindowId)
	seen := map[uuid.UUID]bool{}
	for i, o := range p.Openings {
		seen[o.WindowId] = true
		if i > 0 {
			require.False(t, o.Start.Before(p.Openings[i-1].Start), "earliest first")
		}
	}
	require.True(t, seen[w.Id], "the host's own window is merged in")

	// Monthly: the last Friday; changing recurrence drops the weekly days.
	res = f.do(f.admin, http.MethodPatch, "maintenance-windows/"+gw.Id.String(), map[string]any{
		"recurrence": "monthly_nth_weekday", "week_of_month": "last", "day_of_week": "friday"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &gw)
	require.Empty(t, gw.DaysOfWeek)
	require.Equal(t, "last", *gw.WeekOfMonth)
	require.Equal(t, 1, f.audited("maintenance_window.updated", gw.Id))
	ss, _, err = windowService(f).Preview(context.Background(), gw.Id, 2)
	require.NoError(t, err)
	require.Equal(t, "2026-04-24", ss[0].Date.String())
	require.Equal(t, "2026-05-29", ss[1].Date.String())

	// Disabled: no openings.
	res = f.do(f.admin, http.MethodPatch, "maintenance-windows/"+gw.Id.String(), map[string]any{"enabled": false})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = f.do(f.admin, http.MethodGet, "maintenance-windows/"+gw.Id.String()+":preview", nil)
	res.Decode(t, &p)
	require.Empty(t, p.Openings)

	res = f.do(f.admin, http.MethodDelete, "maintenance-windows/"+w.Id.String(), nil)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	require.Equal(t, 1, f.audited("maintenance_window.deleted", w.Id))
	res = f.do(f.admin, http.MethodGet, "maintenance-windows/"+w.Id.String(), nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
	res = f.do(f.admin, http.MethodGet, hostPath, nil)
	var hl api.MaintenanceWindowList
	res.Decode(t, &hl)
	require.Empty(t, hl.Windows)
}

func TestWindowBadInput400(t *testing.T) {
	t.Parallel()
	f := setup(t)
	hostPath := "hosts/" + f.host.String() + "/maintenance-windows"
	good := func() map[string]any {
		return map[string]any{"name": "w", "time_zone": "UTC", "start_time": "01:00", "duration_minutes": 60, "recurrence": "daily"}
	}
	cases := []struct {
		field string
		set   func(b map[string]any)
	}{
		{"time_zone", func(b map[string]any) { b["time_zone"] = "Mars/Olympus_Mons" }},
		{"time_zone", func(b map[string]any) { b["time_zone"] = "Local" }},
		{"start_time", func(b map[string]any) { b["start_time"] = "24:00" }},
		{"duration_minutes", func(b map[string]any) { b["duration_minutes"] = 0 }},
		{"recurrence", func(b map[string]any) { b["recurrence"] = "hourly" }},
		{"date", func(b map[string]any) { b["recurrence"] = "once" }},
		{"days_of_week", func(b map[string]any) { b["recurrence"] = "weekly" }},
		{"week_of_month", func(b map[string]any) { b["recurrence"] = "monthly_nth_weekday"; b["day_of_week"] = "monday" }},
		{"day_of_week", func(b map[string]any) { b["recurrence"] = "monthly_nth_weekday"; b["week_of_month"] = "first" }},
		{"name", func(b map[string]any) { b["name"] = "   " }},
	}
	for _, tc := range cases {
		b := good()
		tc.set(b)
		res := f.do(f.admin, http.MethodPost, hostPath, b)
		require.Equal(t, http.StatusBadRequest, res.Status, "%v: %s", b, res.Body)
		require.Contains(t, string(res.Body), tc.field, "%v: %s", b, res.Body)
	}
	res := f.do(f.admin, http.MethodGet, hostPath+":preview?count=0", nil)
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)

	res = f.do(f.admin, http.MethodPost, "hosts/"+uuid.NewString()+"/maintenance-windows", good())
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
	res = f.do(f.admin, http.MethodPost, "groups/"+uuid.NewString()+"/maintenance-windows", good())
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)

	// PATCH checks the merged window: a weekly window without days is refused.
	res = f.do(f.admin, http.MethodPost, hostPath, good())
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var w api.MaintenanceWindow
	res.Decode(t, &w)
	res = f.do(f.admin, http.MethodPatch, "maintenance-windows/"+w.Id.String(), map[string]any{"recurrence": "weekly"})
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	require.Equal(t, "days_of_week", res.Err(t).Error.Detail["field"])
	res = f.do(f.admin, http.MethodPatch, "maintenance-windows/"+w.Id.String(), map[string]any{"time_zone": "Nowhere/Else"})
	require.Equal(t, http.StatusBadRequest, res.Status, "%s", res.Body)
	require.Equal(t, "time_zone", res.Err(t).Error.Detail["field"])
}

func TestOpenForHost(t *testing.T) {
	t.Parallel()
	f := setup(t)
	res := f.do(f.admin, http.MethodPost, "groups/"+f.group.String()+"/maintenance-windows", map[string]any{"name": "late",
		"time_zone": "America/New_York", "start_time": "23:00", "duration_minutes": 180, "recurrence": "daily"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	svc := windowService(f)
	ctx := context.Background()
	tx, err := f.env.App.Pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	// 2026-03-29 01:00 EDT = 05:00Z: inside the opening of 03-28 (23:00 EDT = 03:00Z).
	s, open, err := svc.OpenForHostTx(ctx, tx, f.host, time.Date(2026, 3, 29, 5, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.True(t, open)
	require.Equal(t, "2026-03-28", s.Date.String())
	_, open, err = svc.OpenForHostTx(ctx, tx, f.host, time.Date(2026, 3, 29, 6, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.False(t, open, "the end is outside")
}

// TestWindowCapAndDeletedHost: a host has at most MaxWindowsPerOwner windows, even when
// they are created concurrently, so its list is answered whole; a deleted host's windows
// are gone with it.
func TestWindowCapAndDeletedHost(t *testing.T) {
	t.Parallel()
	f := setup(t)
	hostPath := "hosts/" + f.host.String() + "/maintenance-windows"
	body := func(i int) map[string]any {
		return map[string]any{"name": fmt.Sprintf("w%d", i), "time_zone": "UTC", "start_time": "01:00",
			"duration_minutes": 60, "recurrence": "daily"}
	}
	extra := 8
	statuses := make([]int, window.MaxWindowsPerOwner+extra)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = f.env.Do(apitest.Request{Method: http.MethodPost, Path: hostPath, Token: f.admin.AccessToken, JSON: body(i)}).Status
		}()
	}
	wg.Wait()
	created, refused := 0, 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			created++
		case http.StatusConflict:
			refused++
		default:
			t.Fatalf("unexpected status %d", s)
		}
	}
	require.Equal(t, window.MaxWindowsPerOwner, created)
	require.Equal(t, extra, refused)
	res := f.do(f.admin, http.MethodPost, hostPath, body(999))
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
	require.Contains(t, res.Err(t).Error.HumanMessage, "at most 50")
	res = f.do(f.admin, http.MethodGet, hostPath, nil)
	var hl api.MaintenanceWindowList
	res.Decode(t, &hl)
	require.Len(t, hl.Windows, window.MaxWindowsPerOwner)

	// The group has room of its own.
	res = f.do(f.admin, http.MethodPost, "groups/"+f.group.String()+"/maintenance-windows", body(0))
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)

	// Deleting the host takes its windows out of reach.
	id := hl.Windows[0].Id
	require.Equal(t, http.StatusOK, f.do(f.admin, http.MethodGet, "maintenance-windows/"+id.String(), nil).Status)
	res = f.do(f.admin, http.MethodDelete, "hosts/"+f.host.String(), nil)
	require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
	for _, m := range []string{http.MethodGet, http.MethodDelete} {
		res = f.do(f.admin, m, "maintenance-windows/"+id.String(), nil)
		require.Equal(t, http.StatusNotFound, res.Status, "%s %s", m, res.Body)
	}
	res = f.do(f.admin, http.MethodPatch, "maintenance-windows/"+id.String(), map[string]any{"enabled": false})
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
	res = f.do(f.admin, http.MethodGet, "maintenance-windows/"+id.String()+":preview", nil)
	require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
}
