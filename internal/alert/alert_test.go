package alert_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/alert"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/pg"
)

type fixture struct {
	t     *testing.T
	env   *apitest.Env
	admin apitest.Session
}

func setup(t *testing.T) *fixture {
	t.Helper()
	env := apitest.New(t)
	return &fixture{t: t, env: env, admin: env.Admin()}
}

// raise raises key in its own transaction.
func (f *fixture) raise(key string, host *uuid.UUID) alert.Raised {
	f.t.Helper()
	var out alert.Raised
	err := pg.WithTx(context.Background(), f.env.App.Pool, func(tx pgx.Tx) error {
		var err error
		out, err = alert.RaiseTx(context.Background(), tx, alert.Raise{DedupKey: key, AlertType: "test", Severity: "medium",
			HostID: host, Title: "Test " + key, Tags: map[string]any{"n": 1}})
		return err
	})
	require.NoError(f.t, err)
	return out
}

func (f *fixture) autoResolve(key string) int {
	f.t.Helper()
	var n int
	err := pg.WithTx(context.Background(), f.env.App.Pool, func(tx pgx.Tx) error {
		rows, err := alert.AutoResolveTx(context.Background(), tx, f.env.App.Audit, key, time.Time{})
		n = len(rows)
		return err
	})
	require.NoError(f.t, err)
	return n
}

func (f *fixture) act(s apitest.Session, id uuid.UUID, action string, body any) *apitest.Response {
	f.t.Helper()
	return f.env.Do(apitest.Request{Method: http.MethodPost, Path: "alerts/" + id.String() + ":" + action, Token: s.AccessToken, JSON: body})
}

func (f *fixture) get(id uuid.UUID) api.Alert {
	f.t.Helper()
	res := f.env.Do(apitest.Request{Method: http.MethodGet, Path: "alerts/" + id.String(), Token: f.admin.AccessToken})
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var a api.Alert
	res.Decode(f.t, &a)
	return a
}

func (f *fixture) audited(id uuid.UUID, action string) int {
	f.t.Helper()
	var n int
	require.NoError(f.t, f.env.App.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM audit_events WHERE resource_type = 'alert' AND resource_id = $1 AND action = $2`, id.String(), action).Scan(&n))
	return n
}

// setState puts an active alert into state through the API's one legal move there.
func (f *fixture) setState(id uuid.UUID, state string) {
	f.t.Helper()
	action := map[string]string{alert.StateAcknowledged: "acknowledge", alert.StateSilenced: "silence",
		alert.StateResolved: "resolve", alert.StateDismissed: "dismiss"}[state]
	if action == "" {
		return
	}
	res := f.act(f.admin, id, action, map[string]any{"until": time.Now().Add(time.Hour)})
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
}

// TestStateMachine tries every action from every state: the legal moves answer 200 with
// the new state, its *_by/*_at set and an audit event; the illegal ones 409 naming the
// current state.
func TestStateMachine(t *testing.T) {
	t.Parallel()
	f := setup(t)
	states := []string{alert.StateActive, alert.StateAcknowledged, alert.StateSilenced, alert.StateResolved, alert.StateDismissed}
	actions := map[string]string{"acknowledge": alert.StateAcknowledged, "silence": alert.StateSilenced,
		"resolve": alert.StateResolved, "dismiss": alert.StateDismissed}
	legal := map[string][]string{
		alert.StateActive:       {"acknowledge", "silence", "resolve", "dismiss"},
		alert.StateAcknowledged: {"silence", "resolve", "dismiss"},
		alert.StateSilenced:     {"resolve", "dismiss"},
	}
	n := 0
	for _, from := range states {
		for action, to := range actions {
			n++
			key := "sm-" + from + "-" + action
			a := f.raise(key, nil).Alert
			f.setState(a.ID, from)
			res := f.act(f.admin, a.ID, action, map[string]any{"reason": "because", "until": time.Now().Add(time.Hour)})
			want := false
			for _, l := range legal[from] {
				want = want || l == action
			}
			require.Equal(t, want, alert.Allowed(alert.Action(action), from), "%s from %s", action, from)
			if !want {
				require.Equal(t, http.StatusConflict, res.Status, "%s from %s: %s", action, from, res.Body)
				require.Equal(t, from, res.Err(t).Error.Detail["state"])
				continue
			}
			require.Equal(t, http.StatusOK, res.Status, "%s from %s: %s", action, from, res.Body)
			var got api.Alert
			res.Decode(t, &got)
			require.Equal(t, to, string(got.State))
			switch to {
			case alert.StateAcknowledged:
				require.NotNil(t, got.AcknowledgedBy)
				require.NotNil(t, got.AcknowledgedAt)
			case alert.StateSilenced:
				require.NotNil(t, got.SilencedBy)
				require.NotNil(t, got.SilencedUntil)
			case alert.StateResolved:
				require.NotNil(t, got.ResolvedBy)
				require.NotNil(t, got.ResolvedAt)
			case alert.StateDismissed:
				require.NotNil(t, got.DismissedBy)
				require.NotNil(t, got.DismissedAt)
			}
			require.Equal(t, 1, f.audited(a.ID, "alert."+to), "%s from %s", action, from)
		}
	}
	require.Equal(t, 20, n)
}

// TestDedupAndRecurrence: raising a live key counts an occurrence on the same alert; once
// the alert is resolved the key opens a new one.
func TestDedupAndRecurrence(t *testing.T) {
	t.Parallel()
	f := setup(t)
	first := f.raise("dedup", nil)
	require.True(t, first.New)
	f.setState(first.Alert.ID, alert.StateAcknowledged)
	again := f.raise("dedup", nil)
	require.False(t, again.New)
	require.Equal(t, first.Alert.ID, again.Alert.ID)
	require.EqualValues(t, 2, again.Alert.OccurrenceCount)
	require.Equal(t, alert.StateAcknowledged, again.Alert.State, "a recurrence keeps the state")
	got := f.get(first.Alert.ID)
	require.EqualValues(t, 2, (*got.Tags)["occurrence_count"])
	require.Equal(t, false, (*got.Tags)["suppressed"])

	f.setState(first.Alert.ID, alert.StateResolved)
	third := f.raise("dedup", nil)
	require.True(t, third.New)
	require.NotEqual(t, first.Alert.ID, third.Alert.ID)
	require.EqualValues(t, 1, third.Alert.OccurrenceCount)
}

// TestAutoResolve: the condition clearing resolves the live alert of its key (as the
// system, audited), and nothing when none is live.
func TestAutoResolve(t *testing.T) {
	t.Parallel()
	f := setup(t)
	a := f.raise("auto", nil).Alert
	f.setState(a.ID, alert.StateSilenced)
	require.Equal(t, 1, f.autoResolve("auto"))
	got := f.get(a.ID)
	require.Equal(t, api.AlertState(alert.StateResolved), got.State)
	require.NotNil(t, got.ResolvedAt)
	require.Nil(t, got.ResolvedBy, "resolved by the system")
	require.Nil(t, got.SilencedUntil)
	require.Equal(t, 1, f.audited(a.ID, "alert.resolved"))
	require.Equal(t, 0, f.autoResolve("auto"))
	require.Equal(t, 0, f.autoResolve("never-raised"))
}

// TestSilenceExpiry: the periodic job's pass returns alerts whose silence ran out to
// active and leaves the others silenced.
func TestSilenceExpiry(t *testing.T) {
	t.Parallel()
	f := setup(t)
	short := f.raise("short", nil).Alert
	long := f.raise("long", nil).Alert
	res := f.act(f.admin, short.ID, "silence", map[string]any{"until": time.Now().Add(time.Minute)})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = f.act(f.admin, long.ID, "silence", map[string]any{"until": time.Now().Add(3 * time.Hour)})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)

	later := func() time.Time { return time.Now().Add(time.Hour) }
	svc := alert.NewService(f.env.App.Pool, f.env.App.Audit, alert.Options{Now: later})
	n, err := svc.ExpireSilences(context.Background())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got := f.get(short.ID)
	require.Equal(t, api.AlertState(alert.StateActive), got.State)
	require.Nil(t, got.SilencedUntil)
	require.Equal(t, 1, f.audited(short.ID, "alert.unsilenced"))
	require.Equal(t, api.AlertState(alert.StateSilenced), f.get(long.ID).State)
	// Active again, it can be acknowledged.
	require.Equal(t, http.StatusOK, f.act(f.admin, short.ID, "acknowledge", nil).Status)
}

// TestListFiltersAndBadInput pages and filters the list, and refuses bad input with a 400
// naming the field.
func TestListFiltersAndBadInput(t *testing.T) {
	t.Parallel()
	f := setup(t)
	for _, k := range []string{"l1", "l2", "l3"} {
		f.raise(k, nil)
	}
	ack := f.raise("l4", nil).Alert
	f.setState(ack.ID, alert.StateAcknowledged)

	list := func(q string) api.AlertsPage {
		t.Helper()
		res := f.env.Do(apitest.Request{Method: http.MethodGet, Path: "alerts" + q, Token: f.admin.AccessToken})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
		var p api.AlertsPage
		res.Decode(t, &p)
		return p
	}
	p := list("?limit=2")
	require.Len(t, p.Items, 2)
	require.Equal(t, ack.ID, p.Items[0].Id, "newest first")
	require.NotNil(t, p.NextCursor)
	p2 := list("?limit=2&cursor=" + *p.NextCursor)
	require.Len(t, p2.Items, 2)
	require.Nil(t, p2.NextCursor)
	require.Len(t, list("?state=acknowledged").Items, 1)
	require.Len(t, list("?state=active").Items, 3)
	require.Len(t, list("?severity=medium").Items, 4)
	require.Len(t, list("?severity=critical").Items, 0)
	require.Len(t, list("?host_id="+uuid.NewString()).Items, 0)
	require.Len(t, list("?until=2000-01-01T00:00:00Z").Items, 0)
	require.Len(t, list("?since=2000-01-01T00:00:00Z").Items, 4)

	for _, tc := range []struct{ q, field string }{
		{"?state=open", "state"}, {"?severity=urgent", "severity"}, {"?limit=0", "limit"},
		{"?limit=201", "limit"}, {"?since=yesterday", "since"}, {"?host_id=nope", "host_id"},
		{"?cursor=bogus", "cursor"},
	} {
		res := f.env.Do(apitest.Request{Method: http.MethodGet, Path: "alerts" + tc.q, Token: f.admin.AccessToken})
		require.Equal(t, http.StatusBadRequest, res.Status, "%s: %s", tc.q, res.Body)
		require.Equal(t, tc.field, res.Err(t).Error.Detail["field"], "%s: %s", tc.q, res.Body)
	}

	a := f.raise("silence-input", nil).Alert
	for _, body := range []map[string]any{{}, {"until": time.Now().Add(-time.Minute)}, {"until": nil}} {
		res := f.act(f.admin, a.ID, "silence", body)
		require.Equal(t, http.StatusBadRequest, res.Status, "%v: %s", body, res.Body)
		require.Equal(t, "until", res.Err(t).Error.Detail["field"], "%s", res.Body)
	}
	res := f.act(f.admin, a.ID, "acknowledge", map[string]any{"reason": string(make([]byte, 300))})
	require.Equal(t, http.StatusBadRequest, res.Status)
	res = f.env.Do(apitest.Request{Method: http.MethodGet, Path: "alerts/" + uuid.NewString(), Token: f.admin.AccessToken})
	require.Equal(t, http.StatusNotFound, res.Status)
	res = f.act(f.admin, uuid.New(), "resolve", nil)
	require.Equal(t, http.StatusNotFound, res.Status)
}

// TestRolesByOperation: viewers and auditors read; security admins and admins act.
func TestRolesByOperation(t *testing.T) {
	t.Parallel()
	f := setup(t)
	sessions := map[string]apitest.Session{authz.RoleAdmin: f.admin}
	for _, r := range []string{authz.RoleViewer, authz.RoleAuditor, authz.RoleSecurityAdmin} {
		sessions[r] = f.env.Login("u-"+r, f.env.CreateUser("u-"+r, r))
	}
	acts := map[string]bool{authz.RoleAdmin: true, authz.RoleSecurityAdmin: true}
	for role, s := range sessions {
		res := f.env.Do(apitest.Request{Method: http.MethodGet, Path: "alerts", Token: s.AccessToken})
		require.Equal(t, http.StatusOK, res.Status, role)
		for action, perm := range map[string]string{"acknowledge": authz.PermAlertAck, "silence": authz.PermAlertWrite,
			"resolve": authz.PermAlertResolve, "dismiss": authz.PermAlertWrite} {
			a := f.raise("roles-"+role+"-"+action, nil).Alert
			res := f.act(s, a.ID, action, map[string]any{"until": time.Now().Add(time.Hour)})
			if acts[role] {
				require.Equal(t, http.StatusOK, res.Status, "%s %s: %s", role, action, res.Body)
				continue
			}
			require.Equal(t, http.StatusForbidden, res.Status, "%s %s", role, action)
			require.Equal(t, perm, res.Err(t).Error.Detail["required_permission"])
		}
	}
}

// TestMaintenanceSuppresses: an alert of a host in maintenance is recorded, marked
// suppressed for the notifiers; out of maintenance a recurrence is not.
func TestMaintenanceSuppresses(t *testing.T) {
	t.Parallel()
	f := setup(t)
	res := f.env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts", Token: f.admin.AccessToken,
		JSON: map[string]any{"hostname": "maint-host", "ip_address": "127.0.0.1", "port": 1}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(t, &h)
	maintenance := func(on bool) {
		res := f.env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts/" + h.Id.String() + "/maintenance",
			Token: f.admin.AccessToken, JSON: map[string]any{"enabled": on}})
		require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	}
	hostID := h.Id
	maintenance(true)
	a := f.raise("maint", &hostID).Alert
	require.True(t, a.Suppressed)
	require.Equal(t, true, (*f.get(a.ID).Tags)["suppressed"])
	maintenance(false)
	require.False(t, f.raise("maint", &hostID).Alert.Suppressed)
	res = f.env.Do(apitest.Request{Method: http.MethodGet, Path: "alerts?host_id=" + hostID.String(), Token: f.admin.AccessToken})
	var p api.AlertsPage
	res.Decode(t, &p)
	require.Len(t, p.Items, 1)
}
