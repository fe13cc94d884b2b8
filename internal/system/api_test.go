package system_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/authz"
)

// waitReady polls GET /ready until it answers 200: River elects its leader (the worker
// heartbeat) a moment after the worker starts.
func waitReady(t *testing.T, env *apitest.Env) api.ReadinessResponse {
	t.Helper()
	var body api.ReadinessResponse
	require.Eventually(t, func() bool {
		res := env.Do(apitest.Request{Method: http.MethodGet, Path: "ready"})
		if res.Status != http.StatusOK {
			return false
		}
		res.Decode(t, &body)
		return true
	}, 30*time.Second, 50*time.Millisecond, "GET /ready never answered 200")
	return body
}

// notReady asks GET /ready and returns the names of the failing checks, asserting the
// 503 envelope's shape.
func notReady(t *testing.T, env *apitest.Env) []string {
	t.Helper()
	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "ready"})
	require.Equal(t, http.StatusServiceUnavailable, res.Status, "%s", res.Body)
	e := res.Err(t).Error
	require.Equal(t, "service.unavailable", e.Code)
	require.Equal(t, "not_ready", e.Detail["status"])
	checks, ok := e.Detail["checks"].([]any)
	require.True(t, ok, "detail.checks lists every check: %v", e.Detail)
	require.NotEmpty(t, checks)
	var failing []string
	for _, f := range e.Detail["failing"].([]any) {
		failing = append(failing, f.(string))
	}
	return failing
}

func TestReady200ListsEveryCheck(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	body := waitReady(t, env)
	require.Equal(t, api.Ready, body.Status)
	var names []string
	for _, c := range body.Checks {
		names = append(names, c.Name)
		require.Equal(t, api.Ok, c.Status)
		require.NotEmpty(t, c.Detail)
	}
	require.Equal(t, []string{"database", "migrations", "worker"}, names, "an external database has no managed_database check")
}

func TestReady503WithoutWorkerHeartbeat(t *testing.T) {
	t.Parallel()
	env := apitest.New(t, func(d *app.Deps) { d.Config.Worker.WithWorker = false })
	require.Equal(t, []string{"worker"}, notReady(t, env))
}

func TestReady503WithUnappliedMigration(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	waitReady(t, env)
	_, err := env.App.Pool.Exec(context.Background(),
		`DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`)
	require.NoError(t, err)
	require.Equal(t, []string{"migrations"}, notReady(t, env))
}

func TestReady503WithUnappliedRiverMigration(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	waitReady(t, env)
	_, err := env.App.Pool.Exec(context.Background(),
		`DELETE FROM river_migration WHERE version = (SELECT max(version) FROM river_migration)`)
	require.NoError(t, err)
	require.Equal(t, []string{"migrations"}, notReady(t, env))
}

func TestReady503WhenDatabaseIsDown(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	waitReady(t, env)
	env.StopBackground()
	env.App.Pool.Close()
	failing := notReady(t, env)
	require.Contains(t, failing, "database")
}

func TestReady503WhenManagedDatabaseIsNotRunning(t *testing.T) {
	t.Parallel()
	var stopped atomic.Bool
	env := apitest.New(t, func(d *app.Deps) { d.ManagedDatabaseRunning = func() bool { return !stopped.Load() } })
	body := waitReady(t, env)
	require.Equal(t, "managed_database", body.Checks[len(body.Checks)-1].Name)
	stopped.Store(true)
	require.Equal(t, []string{"managed_database"}, notReady(t, env))
}

func TestSystemStatus(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	waitReady(t, env)
	admin := env.Admin()
	res := env.Do(apitest.Request{Method: http.MethodGet, Path: "system/status", Token: admin.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var st api.SystemStatus
	res.Decode(t, &st)
	require.True(t, st.Ready)
	require.Len(t, st.Checks, 3)
	require.NotEmpty(t, st.Build.Openwatch)
	require.NotEmpty(t, st.Database.ServerVersion)
	require.False(t, st.Database.Managed, "the tests' database is external")
	require.Positive(t, st.Database.Pool.MaxConns)
	require.True(t, st.Workers.ThisProcessWorksJobs)
	require.True(t, st.Workers.LeaderAlive)
	require.NotNil(t, st.Workers.LastSeen)
	require.False(t, st.Metrics.Enabled, "no listener was started")
	require.NotContains(t, string(res.Body), "postgres://", "never the database address")

	viewer := env.Login("vera", env.CreateUser("vera", authz.RoleViewer))
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "system/status", Token: viewer.AccessToken})
	require.Equal(t, http.StatusOK, res.Status, "viewers hold system:read")
	res = env.Do(apitest.Request{Method: http.MethodGet, Path: "system/status"})
	require.Equal(t, http.StatusUnauthorized, res.Status)
}
