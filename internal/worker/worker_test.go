package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/logging"
	"github.com/openwatch/openwatch/internal/logging/logtest"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
	"github.com/openwatch/openwatch/internal/reqinfo"
	"github.com/openwatch/openwatch/internal/worker"
)

// waitFor bounds every wait for a job; it is a deadline for a hung test, not a timing
// assertion.
const waitFor = 60 * time.Second

// recordArgs is a test job kind: its worker reports each run on a channel.
type recordArgs struct {
	Name string `json:"name"`
	// FailFirst makes the first attempt fail.
	FailFirst bool `json:"fail_first,omitempty"`
}

func (recordArgs) Kind() string { return "worker_test_record" }

type run struct {
	name, correlationID string
	attempt             int
}

type recordWorker struct {
	river.WorkerDefaults[recordArgs]
	log  *slog.Logger
	runs chan run
}

func (w *recordWorker) Work(ctx context.Context, job *river.Job[recordArgs]) error {
	w.log.InfoContext(ctx, "record job ran", slog.String("name", job.Args.Name))
	w.runs <- run{name: job.Args.Name, correlationID: reqinfo.CorrelationID(ctx), attempt: job.Attempt}
	if job.Args.FailFirst && job.Attempt == 1 {
		return errors.New("first attempt fails on purpose")
	}
	return nil
}

// env is one test's job registry on a fresh database.
type env struct {
	pool *pgxpool.Pool
	reg  *worker.Registry
	runs chan run
	logs *logtest.Buffer
}

// newEnv builds a registry with the record worker; work says whether it works jobs.
func newEnv(t *testing.T, pool *pgxpool.Pool, work bool) *env {
	t.Helper()
	logs := &logtest.Buffer{}
	log, err := logging.New(logs, "debug", "json")
	require.NoError(t, err)
	e := &env{pool: pool, reg: worker.NewRegistry(), runs: make(chan run, 100), logs: logs}
	river.AddWorker(e.reg.Workers, &recordWorker{log: log, runs: e.runs})
	_, err = worker.NewClient(worker.Options{Pool: pool, Logger: log, Work: work, Concurrency: 4, RescueAfter: time.Minute}, e.reg)
	require.NoError(t, err)
	require.Equal(t, work, e.reg.Working())
	ctx := context.Background()
	require.NoError(t, e.reg.Start(ctx))
	t.Cleanup(func() { require.NoError(t, e.reg.Stop(ctx)) })
	return e
}

// next returns the next run of the record worker.
func (e *env) next(t *testing.T) run {
	t.Helper()
	select {
	case r := <-e.runs:
		return r
	case <-time.After(waitFor):
		t.Fatalf("no job ran within %s", waitFor)
		return run{}
	}
}

func withCorrelation(id string) context.Context {
	return reqinfo.With(context.Background(), &reqinfo.Info{CorrelationID: id, ClientAddr: "127.0.0.1"})
}

func TestJobsFollowTheirTransaction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pgtest.NewPool(t), true)
	ctx := withCorrelation("tx-test")

	errRollback := errors.New("roll back")
	err := pg.WithTx(ctx, e.pool, func(tx pgx.Tx) error {
		_, err := e.reg.Client.InsertTx(ctx, tx, recordArgs{Name: "rolled-back"}, nil)
		require.NoError(t, err)
		return errRollback
	})
	require.ErrorIs(t, err, errRollback)
	require.NoError(t, pg.WithTx(ctx, e.pool, func(tx pgx.Tx) error {
		_, err := e.reg.Client.InsertTx(ctx, tx, recordArgs{Name: "committed"}, nil)
		return err
	}))

	require.Equal(t, "committed", e.next(t).name)
	var n int
	require.NoError(t, e.pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE args->>'name' = 'rolled-back'`).Scan(&n))
	require.Zero(t, n, "a job inserted in a rolled-back transaction must not exist")
	select {
	case r := <-e.runs:
		t.Fatalf("unexpected run of %q", r.name)
	default:
	}
}

func TestCorrelationIDTravelsWithTheJob(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pgtest.NewPool(t), true)
	ctx := withCorrelation("req-01HZX")

	res, err := e.reg.Client.Insert(ctx, recordArgs{Name: "traced"}, nil)
	require.NoError(t, err)
	var md map[string]any
	require.NoError(t, json.Unmarshal(res.Job.Metadata, &md))
	require.Equal(t, "req-01HZX", md[worker.MetadataCorrelationID])
	require.Equal(t, "req-01HZX", worker.CorrelationIDOf(res.Job))

	r := e.next(t)
	require.Equal(t, "req-01HZX", r.correlationID, "the job's context carries the request's id")
	require.Eventually(t, func() bool {
		for line := range strings.SplitSeq(e.logs.String(), "\n") {
			if strings.Contains(line, `"msg":"record job ran"`) {
				return strings.Contains(line, `"correlation_id":"req-01HZX"`)
			}
		}
		return false
	}, waitFor, 10*time.Millisecond, "the job's log line carries the request's id:\n%s", e.logs.String())
}

func TestJobWithoutRequestGetsItsOwnCorrelationID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pgtest.NewPool(t), true)
	res, err := e.reg.Client.Insert(context.Background(), recordArgs{Name: "background"}, nil)
	require.NoError(t, err)
	id := worker.CorrelationIDOf(res.Job)
	require.True(t, reqinfo.ValidCorrelationID(id), "generated id %q", id)
	require.Equal(t, id, e.next(t).correlationID)
}

func TestExplicitMetadataKeepsItsCorrelationID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pgtest.NewPool(t), false)
	res, err := e.reg.Client.Insert(withCorrelation("from-ctx"), recordArgs{Name: "x"},
		&river.InsertOpts{Metadata: []byte(`{"correlation_id":"explicit","other":1}`)})
	require.NoError(t, err)
	require.Equal(t, "explicit", worker.CorrelationIDOf(res.Job))
}

func TestFailedJobIsRetried(t *testing.T) {
	t.Parallel()
	e := newEnv(t, pgtest.NewPool(t), true)
	ctx := withCorrelation("retry-test")
	res, err := e.reg.Client.Insert(ctx, recordArgs{Name: "flaky", FailFirst: true}, &river.InsertOpts{MaxAttempts: 3})
	require.NoError(t, err)

	first, second := e.next(t), e.next(t)
	require.Equal(t, 1, first.attempt)
	require.Equal(t, 2, second.attempt)
	require.Equal(t, "retry-test", second.correlationID, "a retry keeps the id")
	require.Eventually(t, func() bool {
		job, err := e.reg.Client.JobGet(ctx, res.Job.ID)
		require.NoError(t, err)
		return job.State == "completed" && len(job.Errors) == 1
	}, waitFor, 20*time.Millisecond)
	require.Contains(t, e.logs.String(), `"msg":"job failed"`)
	require.Contains(t, e.logs.String(), `"correlation_id":"retry-test"`)
}

func TestInsertOnlyClient(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	e := newEnv(t, pool, false)
	ctx := context.Background()

	_, err := e.reg.Client.Insert(ctx, recordArgs{Name: "waits"}, nil)
	require.NoError(t, err)
	_, err = e.reg.Client.Insert(ctx, unknownArgs{}, nil)
	var unknown *river.UnknownJobKindError
	require.ErrorAs(t, err, &unknown, "a kind nobody registered is refused at insert time")

	st, err := worker.ReadStatus(ctx, pool, e.reg.Working())
	require.NoError(t, err)
	require.False(t, st.Working)
	require.False(t, st.LeaderAlive)
	require.Nil(t, st.LastSeen)
	require.Equal(t, map[string]int64{"worker_test_record": 1}, st.Depth)

	// A process that works jobs picks it up: the insert-only process needs none of its own.
	w := newEnv(t, pool, true)
	require.Equal(t, "waits", w.next(t).name)
}

type unknownArgs struct{}

func (unknownArgs) Kind() string { return "worker_test_unknown" }

func TestStatusOfAWorkingProcess(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	ctx := context.Background()
	inserter := newEnv(t, pool, false)
	for range 3 {
		_, err := inserter.reg.Client.Insert(ctx, worker.PingArgs{Note: "n"}, nil)
		require.NoError(t, err)
	}
	depth, err := worker.QueueDepth(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, map[string]int64{"worker_ping": 3}, depth)

	before := time.Now()
	w := newEnv(t, pool, true)
	require.Eventually(t, func() bool {
		st, err := worker.ReadStatus(ctx, pool, w.reg.Working())
		require.NoError(t, err)
		return st.LeaderAlive && len(st.Depth) == 0
	}, waitFor, 20*time.Millisecond, "the worker becomes leader and works the pings")
	st, err := worker.ReadStatus(ctx, pool, w.reg.Working())
	require.NoError(t, err)
	require.True(t, st.Working)
	require.NotEmpty(t, st.LeaderID)
	require.NotNil(t, st.LastSeen)
	require.WithinRange(t, *st.LastSeen, before.Add(-time.Second), time.Now().Add(time.Second))

	var out worker.PingOutput
	var raw []byte
	require.NoError(t, pool.QueryRow(ctx, `SELECT metadata->'output' FROM river_job WHERE kind = 'worker_ping' LIMIT 1`).Scan(&raw))
	require.NoError(t, json.Unmarshal(raw, &out))
	require.Equal(t, "n", out.Note)
	require.NotZero(t, out.PID)
}

func TestPeriodicJobsRunOnTheLeader(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	logs := &logtest.Buffer{}
	log, err := logging.New(logs, "debug", "json")
	require.NoError(t, err)
	runs := make(chan run, 100)
	reg := worker.NewRegistry()
	river.AddWorker(reg.Workers, &recordWorker{log: log, runs: runs})
	_, err = worker.NewClient(worker.Options{Pool: pool, Logger: log, Work: true, Concurrency: 2, RescueAfter: time.Minute}, reg)
	require.NoError(t, err)
	// Registered after NewClient, as app.New does for the domains.
	reg.AddPeriodic(river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return recordArgs{Name: "periodic"}, nil },
		&river.PeriodicJobOpts{ID: "worker_test_periodic", RunOnStart: true}))
	reg.AddQueue("worker_test_queue", 1)
	ctx := context.Background()
	require.NoError(t, reg.Start(ctx))
	t.Cleanup(func() { require.NoError(t, reg.Stop(ctx)) })
	require.NoError(t, reg.Start(ctx), "a second Start (serve, then RunBackground) is a no-op")

	select {
	case r := <-runs:
		require.Equal(t, "periodic", r.name)
		require.True(t, reqinfo.ValidCorrelationID(r.correlationID), "periodic jobs get an id of their own: %q", r.correlationID)
	case <-time.After(waitFor):
		t.Fatal("the periodic job did not run")
	}
	_, err = reg.Client.Insert(ctx, recordArgs{Name: "other-queue"}, &river.InsertOpts{Queue: "worker_test_queue"})
	require.NoError(t, err)
	select {
	case r := <-runs:
		require.Equal(t, "other-queue", r.name)
	case <-time.After(waitFor):
		t.Fatal("the job of the extra queue did not run")
	}
}

func TestNewClientRejectsBadOptions(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	_, err := worker.NewClient(worker.Options{Pool: pool, Work: true, Concurrency: 0, RescueAfter: time.Minute}, worker.NewRegistry())
	require.ErrorContains(t, err, "concurrency")
	_, err = worker.NewClient(worker.Options{Work: true}, worker.NewRegistry())
	require.ErrorContains(t, err, "no database pool")
}
