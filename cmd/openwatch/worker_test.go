package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
	"github.com/openwatch/openwatch/internal/reqinfo"
	"github.com/openwatch/openwatch/internal/worker"
	"github.com/openwatch/openwatch/internal/worker/testjobs"
	"github.com/openwatch/openwatch/internal/worker/workertest"
)

// testDB is a fresh database: its DSN for processes and a pool for the test.
func testDB(t *testing.T) (string, *pgxpool.Pool) {
	t.Helper()
	dsn := pgtest.NewDSN(t)
	pool, err := pgxpool.New(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	return dsn, pool
}

func correlated(id string) context.Context {
	return reqinfo.With(context.Background(), &reqinfo.Info{CorrelationID: id})
}

// output decodes the output a job recorded.
func output[T any](t *testing.T, job *rivertype.JobRow) T {
	t.Helper()
	var md struct {
		Output T `json:"output"`
	}
	require.NoError(t, json.Unmarshal(job.Metadata, &md), "metadata: %s", job.Metadata)
	return md.Output
}

func TestWorkerProcessWorksJobsAndStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	bin := workertest.BuildBinary(t)
	dsn, pool := testDB(t)
	w := workertest.StartWorkerProcess(t, bin, dsn)
	jobs := workertest.NewInserter(t, pool)

	id := workertest.Insert(t, correlated("cli-ping"), jobs, worker.PingArgs{Note: "hello"})
	out := output[worker.PingOutput](t, workertest.WaitJob(t, jobs, id, rivertype.JobStateCompleted))
	require.Equal(t, w.PID, out.PID, "the worker process ran the job")
	require.Equal(t, "cli-ping", out.CorrelationID)
	require.Equal(t, "hello", out.Note)

	require.Empty(t, listeningSockets(t, w.PID), "a worker listens on no port")
	_, served := w.FindLog("openwatch serving")
	require.False(t, served)

	require.NoError(t, w.Stop(), "exit status 0 after SIGTERM:\n%s", w.Output())
	_, stopped := w.FindLog("worker stopped")
	require.True(t, stopped, w.Output())
}

func TestKilledWorkersJobIsFinishedByAnotherWorker(t *testing.T) {
	t.Parallel()
	bin := workertest.BuildBinary(t)
	dsn, pool := testDB(t)
	rescue := "OPENWATCH_WORKER_RESCUE_AFTER=2s"
	first := workertest.StartWorkerProcess(t, bin, dsn, rescue)
	jobs := workertest.NewInserter(t, pool)

	marker := filepath.Join(t.TempDir(), "started")
	id := workertest.Insert(t, correlated("rescue-me"), jobs, testjobs.BlockArgs{Marker: marker})
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(marker)
		return err == nil && string(b) == strconv.Itoa(first.PID)
	}, workertest.StartTimeout, 10*time.Millisecond, "the first worker starts the job")
	first.Kill()
	job, err := jobs.JobGet(context.Background(), id)
	require.NoError(t, err)
	require.Equal(t, rivertype.JobStateRunning, job.State, "the killed process left the job running")

	second := workertest.StartWorkerProcess(t, bin, dsn, rescue)
	job = workertest.WaitJob(t, jobs, id, rivertype.JobStateCompleted)
	out := output[testjobs.BlockOutput](t, job)
	require.Equal(t, second.PID, out.PID, "the second worker finished the job")
	require.Equal(t, 2, out.Attempt)
	require.Equal(t, "rescue-me", out.CorrelationID)
	require.Len(t, job.Errors, 1)
	require.Contains(t, job.Errors[0].Error, "Stuck job rescued")
	require.NoError(t, second.Stop())
}

func TestServeWorksJobsUnlessToldNotTo(t *testing.T) {
	t.Parallel()
	bin := workertest.BuildBinary(t)
	dsn, pool := testDB(t)
	jobs := workertest.NewInserter(t, pool)

	// Without workers serve still answers; a job waits for a worker process.
	plain := workertest.StartServeProcess(t, bin, dsn, "OPENWATCH_WORKER_WITH_WORKER=false")
	resp, err := plain.Client().Get(plain.URL + "/api/v1/health")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotEmpty(t, plain.AdminPassword())
	id := workertest.Insert(t, context.Background(), jobs, worker.PingArgs{Note: "for a worker"})
	w := workertest.StartWorkerProcess(t, bin, dsn)
	out := output[worker.PingOutput](t, workertest.WaitJob(t, jobs, id, rivertype.JobStateCompleted))
	require.Equal(t, w.PID, out.PID, "serve --with-worker=false works no job")
	require.NoError(t, w.Stop())

	// By default serve works jobs itself (its own workers; the flag form of the setting).
	require.NoError(t, plain.Stop())
	both := workertest.StartServeProcess(t, bin, dsn)
	require.Empty(t, both.AdminPassword(), "the admin exists already")
	id = workertest.Insert(t, context.Background(), jobs, worker.PingArgs{Note: "for serve"})
	out = output[worker.PingOutput](t, workertest.WaitJob(t, jobs, id, rivertype.JobStateCompleted))
	require.Equal(t, both.PID, out.PID)
	require.NoError(t, both.Stop())
}

func TestWorkerNeedsADatabase(t *testing.T) {
	t.Parallel()
	r := runWith(t, api.SpecJSON, "", map[string]string{"OPENWATCH_SERVER_DATA_DIR": t.TempDir()}, "worker")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "worker needs database.dsn or a running managed database")
}

func TestServeWithWorkerFlag(t *testing.T) {
	t.Parallel()
	r := runWith(t, api.SpecJSON, "", nil, "serve", "--with-worker=maybe")
	require.NotEqual(t, 0, r.code)
	require.Contains(t, r.stderr, `"maybe" is not true or false`)
	r = runWith(t, api.SpecJSON, "", nil, "serve", "--help")
	require.Equal(t, 0, r.code)
	require.Contains(t, r.stderr, "-with-worker")
	require.Contains(t, r.stderr, "OPENWATCH_WORKER_WITH_WORKER")
}

// listeningSockets returns the TCP ports pid listens on (from /proc).
func listeningSockets(t *testing.T, pid int) []string {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	require.NoError(t, err)
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	var ports []string
	for _, table := range []string{"tcp", "tcp6"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
			f := strings.Fields(sc.Text())
			if len(f) > 9 && f[3] == "0A" && inodes[f[9]] {
				ports = append(ports, f[1])
			}
		}
		f.Close()
	}
	return ports
}
