package intel_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/intel"
)

// TestStoreIsIdempotent stores collections directly: the first is a baseline, a change
// raises its events once, and storing the same result again (a job run again after a
// crash) writes no event twice. A failed category keeps its last good value.
func TestStoreIsIdempotent(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, noWorker)
	f := &fixture{t: t, env: env, admin: env.Admin()}
	id := f.bareHost("store", "192.0.2.10", 22)
	svc := env.App.Intel
	ctx := context.Background()
	base := map[string]any{
		intel.CatUsers:  map[string]intel.User{"root": {Shell: "/bin/bash"}},
		intel.CatKernel: intel.Kernel{Release: "6.1"},
	}
	_, evs, err := svc.StoreValues(ctx, id, base, errors.New("boom"))
	require.NoError(t, err)
	require.Empty(t, evs, "baseline")

	next := map[string]any{
		intel.CatUsers:  map[string]intel.User{"root": {Shell: "/bin/bash"}, "eve": {UID: 1001, Shell: "/bin/sh"}},
		intel.CatKernel: intel.Kernel{Release: "6.2"},
	}
	_, evs, err = svc.StoreValues(ctx, id, next, errors.New("boom"))
	require.NoError(t, err)
	require.Len(t, evs, 2)
	st, evs, err := svc.StoreValues(ctx, id, next, errors.New("boom"))
	require.NoError(t, err)
	require.Empty(t, evs, "the same result stored again raises nothing")
	require.Equal(t, 2, f.count(`SELECT count(*) FROM intelligence_events WHERE host_id = $1`, id))
	require.Equal(t, 2, f.count(`SELECT count(*) FROM events WHERE host_id = $1`, id))

	// The kernel command fails now: the last good value stays, marked not fresh.
	st, _, err = svc.StoreValues(ctx, id, map[string]any{intel.CatUsers: next[intel.CatUsers]}, errors.New("uname: not found"))
	require.NoError(t, err)
	for _, c := range st.Categories {
		switch c.Category {
		case intel.CatKernel:
			require.False(t, c.Fresh)
			require.Equal(t, "uname: not found", *c.Error)
			var k intel.Kernel
			require.NoError(t, json.Unmarshal(c.Value, &k))
			require.Equal(t, "6.2", k.Release)
		case intel.CatUsers:
			require.True(t, c.Fresh)
			require.Nil(t, c.Error)
		case intel.CatPackages:
			require.False(t, c.Fresh)
			require.Nil(t, c.Value, "never collected")
		}
	}
	// Back to normal with the same kernel: no event, fresh again.
	st, evs, err = svc.StoreValues(ctx, id, next, errors.New("boom"))
	require.NoError(t, err)
	require.Empty(t, evs)
	res := f.do(f.admin, http.MethodGet, "intelligence/state/"+id.String(), nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.Len(t, st.Categories, len(intel.Categories))
}

// TestScheduler runs scheduler ticks: due hosts are enqueued once, at most rate_limit per
// minute, maintenance hosts and maintenance_global are skipped, and discovery on first
// contact picks hosts liveness found reachable.
func TestScheduler(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, noWorker)
	f := &fixture{t: t, env: env, admin: env.Admin()}
	ctx := context.Background()
	svc := env.App.Intel
	a := f.bareHost("a", "192.0.2.21", 22)
	b := f.bareHost("b", "192.0.2.22", 22)
	m := f.bareHost("m", "192.0.2.23", 22)
	res := f.do(f.admin, http.MethodPost, "hosts/"+m.String()+"/maintenance", map[string]any{"enabled": true})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	jobs := func(kind string) int {
		return f.count(`SELECT count(*) FROM river_job WHERE kind = $1`, kind)
	}

	res = f.do(f.admin, http.MethodPut, "system/intelligence/config", map[string]any{"interval_sec": 300, "rate_limit": 1, "maintenance_global": false})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.NoError(t, svc.ScheduleTick(ctx))
	require.Equal(t, 0, jobs("intel_collect")+jobs("intel_system_info"), "hosts no probe has reached are not logged in to")

	reach := func(id uuid.UUID) {
		t.Helper()
		_, err := env.App.Pool.Exec(ctx, `UPDATE host_liveness SET reachability_status = 'reachable', monitoring_state = 'online' WHERE host_id = $1`, id)
		require.NoError(t, err)
	}
	reach(a)
	reach(m)
	require.NoError(t, svc.ScheduleTick(ctx))
	require.Equal(t, 1, jobs("intel_system_info"), "a was reached for the first time; m is in maintenance; b was never reached")
	require.Equal(t, 1, f.count(`SELECT count(*) FROM river_job WHERE kind = 'intel_system_info' AND args->>'host_id' = $1`, a.String()))
	require.Equal(t, 1, jobs("intel_collect"), "rate_limit 1 starts one collection per minute")

	reach(b)
	res = f.do(f.admin, http.MethodPut, "system/intelligence/config", map[string]any{"interval_sec": 300, "rate_limit": 10, "maintenance_global": false})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.NoError(t, svc.ScheduleTick(ctx))
	require.Equal(t, 2, jobs("intel_collect"), "a and b once each; m is in maintenance")
	require.Equal(t, 1, f.count(`SELECT count(*) FROM river_job WHERE kind = 'intel_collect' AND args->>'host_id' = $1`, b.String()))
	require.Equal(t, 2, jobs("intel_system_info"), "b was reached for the first time")
	require.NoError(t, svc.ScheduleTick(ctx))
	require.Equal(t, 2, jobs("intel_collect"), "queued jobs are not queued again")

	_, err := env.App.Pool.Exec(ctx, `DELETE FROM river_job`)
	require.NoError(t, err)
	res = f.do(f.admin, http.MethodPut, "system/intelligence/config", map[string]any{"interval_sec": 300, "rate_limit": 10, "maintenance_global": true})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res = f.do(f.admin, http.MethodPut, "system/discovery/config", map[string]any{"interval_sec": 3600, "rate_limit": 10, "detect_on_first_contact": true, "maintenance_global": true})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.NoError(t, svc.ScheduleTick(ctx))
	require.Equal(t, 0, jobs("intel_collect")+jobs("intel_system_info"), "maintenance_global pauses both")
}
