package cluster_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/pg/cluster"
	"github.com/openwatch/openwatch/internal/pg/internal/pgproc"
)

// recoverWithin bounds how long a test waits for a server that was killed to come back;
// it only turns a hang into a failure and measures nothing.
const recoverWithin = 60 * time.Second

func openPool(t *testing.T, dsn string) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, pool.Ping(ctx))
	return pool
}

// postmasterPID returns the pid in the cluster's postmaster.pid.
func postmasterPID(t *testing.T, c *cluster.Cluster) int {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(c.Dir(), "data", "postmaster.pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.SplitN(string(raw), "\n", 2)[0])
	require.NoError(t, err)
	return pid
}

// queryKept reads the row the test stored in table kept, retrying while the server is
// away, and fails when it does not come back within recoverWithin.
func queryKept(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	deadline := time.Now().Add(recoverWithin)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var v string
		err := pool.QueryRow(ctx, "SELECT v FROM kept").Scan(&v)
		cancel()
		if err == nil {
			return v
		}
		if time.Now().After(deadline) {
			require.NoError(t, err, "the database did not come back")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitRestarted waits until a postmaster other than old runs the cluster, and fails when
// none does within recoverWithin.
func waitRestarted(t *testing.T, c *cluster.Cluster, old int) {
	t.Helper()
	deadline := time.Now().Add(recoverWithin)
	for {
		pf, err := pgproc.ReadPidFile(filepath.Join(c.Dir(), "data"))
		if err == nil && pf.PID != old && pgproc.IsPostgres(pf.PID) {
			return
		}
		require.False(t, time.Now().After(deadline), "postgres was not started again (pid file: %+v, %v)", pf, err)
		time.Sleep(50 * time.Millisecond)
	}
}

func TestStopLeavesServerToOtherUsers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dataDir := reachableDataDir(t)
	logger, logs := testLogger(t)

	owner, err := cluster.Start(ctx, cluster.Options{DataDir: dataDir, Logger: logger})
	require.NoError(t, err, "log:\n%s", logs)
	stopOnCleanup(t, owner)
	require.False(t, owner.Attached())
	other, err := cluster.Start(ctx, cluster.Options{DataDir: dataDir, Logger: logger})
	require.NoError(t, err)
	stopOnCleanup(t, other)
	require.True(t, other.Attached())
	pool := openPool(t, other.DSN())
	_, err = pool.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
	require.NoError(t, err)
	pid := postmasterPID(t, owner)

	// The process that started the server stops; the other still uses it, so it stays up.
	require.NoError(t, owner.Stop(ctx))
	var v string
	require.NoError(t, pool.QueryRow(ctx, "SELECT v FROM kept").Scan(&v))
	require.Equal(t, "still here", v)
	require.Equal(t, pid, postmasterPID(t, other), "the server was not restarted")

	// The last user stops it.
	pool.Close()
	require.NoError(t, other.Stop(ctx))
	require.NoFileExists(t, filepath.Join(other.Dir(), "data", "postmaster.pid"))
}

func TestRestartsKilledServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dataDir := reachableDataDir(t)
	logger, logs := testLogger(t)

	owner, err := cluster.Start(ctx, cluster.Options{DataDir: dataDir, Logger: logger})
	require.NoError(t, err, "log:\n%s", logs)
	stopOnCleanup(t, owner)
	other, err := cluster.Start(ctx, cluster.Options{DataDir: dataDir, Logger: logger})
	require.NoError(t, err)
	stopOnCleanup(t, other)
	ownerPool, otherPool := openPool(t, owner.DSN()), openPool(t, other.DSN())
	_, err = ownerPool.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
	require.NoError(t, err)

	for round := range 2 {
		// An OOM kill or a crash: the postmaster is gone without a shutdown.
		pid := postmasterPID(t, owner)
		require.True(t, owner.Running(), "round %d", round)
		require.True(t, other.Running(), "round %d", round)
		require.NoError(t, syscall.Kill(pid, syscall.SIGKILL))
		waitRestarted(t, owner, pid)
		require.Eventually(t, owner.Running, 30*time.Second, 10*time.Millisecond, "the readiness check sees the new server")
		require.Equal(t, "still here", queryKept(t, ownerPool), "round %d, log:\n%s", round, logs)
		require.Equal(t, "still here", queryKept(t, otherPool), "round %d", round)
	}
	require.Contains(t, logs.String(), "embedded postgres is gone")

	ownerPool.Close()
	otherPool.Close()
	require.NoError(t, owner.Stop(ctx))
	require.NoError(t, other.Stop(ctx))
	require.NoFileExists(t, filepath.Join(owner.Dir(), "data", "postmaster.pid"))
	require.False(t, owner.Running(), "stopped: the managed database check fails")
}

func TestStopRacesStart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dataDir := reachableDataDir(t)
	logger, logs := testLogger(t)

	current, err := cluster.Start(ctx, cluster.Options{DataDir: dataDir, Logger: logger})
	require.NoError(t, err, "log:\n%s", logs)
	_, err = connect(t, current.DSN()).Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
	require.NoError(t, err)

	// A quick restart: the next process starts while the previous one is stopping. The
	// delays only vary the interleaving; every one must end with a working database.
	for _, delay := range []time.Duration{0, 10 * time.Millisecond, 50 * time.Millisecond,
		100 * time.Millisecond, 250 * time.Millisecond, time.Second} {
		var (
			next     *cluster.Cluster
			startErr error
			wg       sync.WaitGroup
		)
		wg.Go(func() {
			next, startErr = cluster.Start(ctx, cluster.Options{DataDir: dataDir, Logger: logger})
		})
		time.Sleep(delay)
		stopErr := current.Stop(ctx)
		wg.Wait()
		require.NoError(t, startErr, "delay %s", delay)
		stopOnCleanup(t, next)
		require.NoError(t, stopErr, "delay %s", delay)
		var v string
		conn := connect(t, next.DSN())
		require.NoError(t, conn.QueryRow(ctx, "SELECT v FROM kept").Scan(&v), "delay %s, log:\n%s", delay, logs)
		require.Equal(t, "still here", v)
		require.NoError(t, conn.Close(ctx))
		current = next
	}
	require.NoError(t, current.Stop(ctx))
}
