package change_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/change"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// TestWorkerDiedMidChange: a host left running by a worker that died after applying (its
// prior state stored, one action applied) is left alone by any other job for the host, and
// restored by its own job's retry; a duplicate job for a finished host does nothing.
func TestWorkerDiedMidChange(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	host, srv := f.target("crashed")
	res := f.do(f.admin, http.MethodPost, "jobs", map[string]any{"host_ids": []uuid.UUID{host}, "patch": map[string]any{"mode": "all"}})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var j api.ChangeJob
	res.Decode(t, &j)
	f.waitJob(j.Id, func(api.ChangeJob) bool { return f.hosts(j.Id)["crashed"].Status == api.ChangeHostStatusWaitingWindow })

	// What a worker that died right after Apply leaves behind.
	a := fileAction("/etc/owtest-marker", "half-done\n")
	actions, err := json.Marshal([]change.Action{a})
	require.NoError(t, err)
	prior, err := json.Marshal([]string{"absent\n"})
	require.NoError(t, err)
	c := srv.Dial(t, sshtest.UserRoot)
	_, err = c.Run(context.Background(), "echo half-done > /etc/owtest-marker")
	require.NoError(t, err)
	require.True(t, exists(t, srv, "/etc/owtest-marker"))
	ctx := context.Background()
	_, err = f.env.App.Pool.Exec(ctx, `UPDATE change_job_hosts SET status = 'running', phase = 'apply', actions = $3, prior = $4,
		applied = 1 WHERE job_id = $1 AND host_id = $2`, j.Id, host, actions, prior)
	require.NoError(t, err)
	// insert queues a host job; with claim, as the job that was changing the host (its retry).
	insert := func(claim bool) int64 {
		tx, err := f.env.App.Pool.Begin(ctx)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback(ctx) }()
		r, err := f.env.App.Jobs.InsertTx(ctx, tx, change.HostArgs{JobID: j.Id, HostID: host, Op: "apply"}, nil)
		require.NoError(t, err)
		if claim {
			_, err = tx.Exec(ctx, `UPDATE change_job_hosts SET river_job_id = $3 WHERE job_id = $1 AND host_id = $2`, j.Id, host, r.Job.ID)
			require.NoError(t, err)
		}
		require.NoError(t, tx.Commit(ctx))
		return r.Job.ID
	}
	completed := func(id int64) {
		require.Eventually(t, func() bool {
			var state string
			err := f.env.App.Pool.QueryRow(ctx, `SELECT state FROM river_job WHERE id = $1`, id).Scan(&state)
			return err == nil && state == "completed"
		}, 30*time.Second, 50*time.Millisecond)
	}
	// Another job for a host being changed leaves it alone.
	completed(insert(false))
	require.Equal(t, api.ChangeHostStatusRunning, f.hosts(j.Id)["crashed"].Status)
	require.True(t, exists(t, srv, "/etc/owtest-marker"))
	insert(true)
	j = f.waitJob(j.Id, status(api.ChangeJobStatusHalted, api.ChangeJobStatusFailed, api.ChangeJobStatusCompleted))
	h := f.hosts(j.Id)["crashed"]
	require.Equal(t, api.ChangeHostStatusRolledBack, h.Status, "%v", h.Error)
	require.Contains(t, *h.Error, "worker stopped")
	require.False(t, exists(t, srv, "/etc/owtest-marker"), "the half-done change was restored")

	// A duplicate job of a finished host does nothing.
	_, err = c.Run(ctx, "echo untouched > /etc/owtest-marker")
	require.NoError(t, err)
	completed(insert(false))
	require.True(t, exists(t, srv, "/etc/owtest-marker"), "a finished host is not restored again")
}
