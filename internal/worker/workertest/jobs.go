package workertest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/worker"
	"github.com/openwatch/openwatch/internal/worker/testjobs"
)

// JobTimeout bounds WaitJob; it is a deadline for hung tests, not a timing assertion. It
// leaves room for a rescue: River's leader lease (15 s) plus its rescuer interval (30 s)
// plus the retry back-off and scheduler.
const JobTimeout = 3 * time.Minute

// NewInserter returns an insert-only job client on pool that knows every built-in and test
// job kind, for tests that insert jobs for openwatch processes to work.
func NewInserter(t testing.TB, pool *pgxpool.Pool) *worker.Client {
	t.Helper()
	reg := worker.NewRegistry()
	testjobs.Register(reg.Workers)
	c, err := worker.NewClient(worker.Options{Pool: pool}, reg)
	require.NoError(t, err)
	return c
}

// WaitJob polls job id until it reaches state (or a final state other than state, which
// fails the test) and returns it.
func WaitJob(t testing.TB, c *worker.Client, id int64, state rivertype.JobState) *rivertype.JobRow {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(JobTimeout)
	for {
		job, err := c.JobGet(ctx, id)
		require.NoError(t, err)
		switch {
		case job.State == state:
			return job
		case job.FinalizedAt != nil:
			t.Fatalf("job %d (%s) ended %s, want %s; errors: %v", id, job.Kind, job.State, state, job.Errors)
		case time.Now().After(deadline):
			t.Fatalf("job %d (%s) still %s after %s, want %s", id, job.Kind, job.State, JobTimeout, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Insert inserts one job with an insert-only client and returns its id.
func Insert(t testing.TB, ctx context.Context, c *worker.Client, args river.JobArgs) int64 {
	t.Helper()
	res, err := c.Insert(ctx, args, nil)
	require.NoError(t, err)
	return res.Job.ID
}
