package intel_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/pg/pgtest"
	"github.com/openwatch/openwatch/internal/worker/workertest"
)

// TestDiscoveryJobSurvivesWorkerCrash is issue 5's "kill a worker in the middle of a
// discovery job" check: a separate `openwatch worker` process takes a discovery job whose
// SSH batch stalls (an in-process SSH server holds it), is killed with SIGKILL, and a
// second worker with a short rescue_after finishes the job; the host then has exactly one
// system-info row and one discovery event, and the job ran twice.
func TestDiscoveryJobSurvivesWorkerCrash(t *testing.T) {
	t.Parallel()
	bin := workertest.BuildBinary(t)
	dsn := pgtest.NewDSN(t)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	count := func(q string, args ...any) int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, q, args...).Scan(&n))
		return n
	}

	ssh := startStallServer(t, "/etc/os-release")
	serve := workertest.StartServeProcess(t, bin, dsn, "OPENWATCH_WORKER_WITH_WORKER=false")
	a := workertest.NewAPI(t, serve)
	host := a.Call(http.MethodPost, "hosts", map[string]any{"hostname": "stalling", "ip_address": "127.0.0.1", "port": ssh.Port}, http.StatusCreated)
	hostID := host["id"].(string)
	a.Call(http.MethodPost, "credentials", map[string]any{"scope": "host", "scope_id": hostID, "name": "root",
		"username": ssh.User, "auth_method": "password", "password": ssh.Password}, http.StatusCreated)

	w1 := workertest.StartWorkerProcess(t, bin, dsn)
	sweep := a.Call(http.MethodPost, "system/discovery/sweep", nil, http.StatusOK)
	require.Equal(t, float64(1), sweep["enqueued"])
	select {
	case <-ssh.Started:
	case <-time.After(workertest.JobTimeout):
		t.Fatalf("the worker never ran the discovery batch\n%s", w1.Output())
	}
	w1.Kill()
	var jobID int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT id FROM river_job WHERE kind = 'intel_system_info'`).Scan(&jobID))
	require.Equal(t, 0, count(`SELECT count(*) FROM host_system_info`), "the killed run wrote nothing")

	workertest.StartWorkerProcess(t, bin, dsn, "OPENWATCH_WORKER_RESCUE_AFTER=4s")
	job := workertest.WaitJob(t, workertest.NewInserter(t, pool), jobID, rivertype.JobStateCompleted)
	require.GreaterOrEqual(t, job.Attempt, 2, "the job ran again after the crash")
	require.Equal(t, 1, count(`SELECT count(*) FROM river_job WHERE kind = 'intel_system_info'`))
	require.Equal(t, 1, count(`SELECT count(*) FROM host_system_info WHERE host_id = $1`, hostID))
	require.Equal(t, 1, count(`SELECT count(*) FROM events WHERE topic = 'discovery' AND host_id = $1`, hostID))
	require.Equal(t, 1, count(`SELECT count(*) FROM hosts WHERE id = $1 AND os_family IS NOT NULL AND os_discovered_at IS NOT NULL`, hostID))
	info := a.Call(http.MethodGet, "hosts/"+hostID+"/system-info", nil, http.StatusOK)
	require.NotEmpty(t, info["kernel_release"])
}
