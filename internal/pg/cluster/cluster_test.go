package cluster_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/logging/logtest"
	"github.com/openwatch/openwatch/internal/pg/cluster"
	"github.com/openwatch/openwatch/internal/pg/internal/pgproc"
)

func testLogger(t *testing.T) (*slog.Logger, *logtest.Buffer) {
	t.Helper()
	buf := &logtest.Buffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// reachableDataDir returns a data dir whose parents PostgreSQL's user can enter, unlike
// t.TempDir() whose parent is private to the test's user.
func reachableDataDir(t *testing.T) string {
	t.Helper()
	base, err := os.MkdirTemp("", "owc")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	dataDir := filepath.Join(base, "data")
	require.NoError(t, os.Mkdir(dataDir, 0o711))
	// Our own directories: traversable, not listable. (Start makes a missing data dir
	// 0700, which sends the cluster of a root process to the fallback location.)
	require.NoError(t, os.Chmod(base, 0o711))
	return dataDir
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func stopOnCleanup(t *testing.T, c *cluster.Cluster) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Stop(ctx)
	})
}

func TestStartAttachStopRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dataDir := reachableDataDir(t)
	logger, logs := testLogger(t)

	began := time.Now()
	owner, err := cluster.Start(ctx, cluster.Options{DataDir: dataDir, Logger: logger})
	require.NoError(t, err, "log:\n%s", logs)
	stopOnCleanup(t, owner)
	t.Logf("first start (initdb + start): %s", time.Since(began))
	require.False(t, owner.Attached())
	require.Equal(t, filepath.Join(dataDir, "pg"), owner.Dir())
	loc, err := os.ReadFile(filepath.Join(dataDir, cluster.LocationFile))
	require.NoError(t, err)
	require.Equal(t, "pg\n", string(loc))
	require.FileExists(t, filepath.Join(owner.Dir(), "postgres.log"))
	require.Contains(t, owner.DSN(), "user=openwatch dbname=openwatch")

	conn := connect(t, owner.DSN())
	var user, db, listen, fsync, perms string
	require.NoError(t, conn.QueryRow(ctx, `SELECT current_user, current_database(),
		current_setting('listen_addresses'), current_setting('fsync'), current_setting('unix_socket_permissions')`).
		Scan(&user, &db, &listen, &fsync, &perms))
	require.Equal(t, []string{"openwatch", "openwatch", "", "on", "0700"}, []string{user, db, listen, fsync, perms})
	socketDir := conn.Config().Host
	fi, err := os.Stat(socketDir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "socket dir %s", socketDir)
	_, err = conn.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
	require.NoError(t, err)

	began = time.Now()
	attached, err := cluster.Start(ctx, cluster.Options{DataDir: dataDir, Logger: logger})
	require.NoError(t, err)
	t.Logf("attach: %s", time.Since(began))
	require.True(t, attached.Attached())
	require.Equal(t, owner.DSN(), attached.DSN())
	require.Equal(t, owner.Dir(), attached.Dir())
	require.NoError(t, attached.Stop(ctx), "stopping an attached cluster does nothing")
	require.NoError(t, connect(t, attached.DSN()).Ping(ctx))

	require.NoError(t, conn.Close(ctx))
	require.NoError(t, owner.Stop(ctx))
	require.NoFileExists(t, filepath.Join(owner.Dir(), "data", "postmaster.pid"))
	_, err = pgx.Connect(ctx, owner.DSN())
	require.Error(t, err, "the server is down")

	began = time.Now()
	again, err := cluster.Start(ctx, cluster.Options{DataDir: dataDir, Logger: logger})
	require.NoError(t, err)
	stopOnCleanup(t, again)
	t.Logf("restart: %s", time.Since(began))
	require.False(t, again.Attached())
	var v string
	require.NoError(t, connect(t, again.DSN()).QueryRow(ctx, "SELECT v FROM kept").Scan(&v))
	require.Equal(t, "still here", v)
	require.NoError(t, again.Stop(ctx))
	require.NoError(t, again.Stop(ctx), "a second Stop does nothing")
}

func TestUnreachableDataDirFallsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// t.TempDir's parent is private to the test's user (mode 0700).
	dataDir := filepath.Join(t.TempDir(), "data")
	logger, logs := testLogger(t)

	c, err := cluster.Start(ctx, cluster.Options{DataDir: dataDir, Logger: logger})
	require.NoError(t, err, "log:\n%s", logs)
	stopOnCleanup(t, c)
	if os.Geteuid() != 0 {
		// PostgreSQL runs as the test's own user, who reaches every directory it made.
		require.Equal(t, filepath.Join(dataDir, "pg"), c.Dir())
		return
	}
	t.Cleanup(func() {
		_ = os.RemoveAll(c.Dir())
		_ = os.Remove(cluster.FallbackBase) // only when no other cluster is left there
	})
	require.True(t, strings.HasPrefix(c.Dir(), cluster.FallbackBase+"/"), c.Dir())
	require.Len(t, filepath.Base(c.Dir()), 12)
	require.Contains(t, logs.String(), "embedded postgres cluster placed outside the data dir")
	require.Contains(t, logs.String(), "dir="+c.Dir())
	require.Contains(t, logs.String(), "cannot enter "+dataDir)
	loc, err := os.ReadFile(filepath.Join(dataDir, cluster.LocationFile))
	require.NoError(t, err)
	require.Equal(t, c.Dir()+"\n", string(loc))
	require.NoError(t, connect(t, c.DSN()).Ping(ctx))
	require.NoError(t, c.Stop(ctx))

	// Later runs find the same cluster through pg.location.
	again, err := cluster.Start(ctx, cluster.Options{DataDir: dataDir, Logger: logger})
	require.NoError(t, err)
	stopOnCleanup(t, again)
	require.Equal(t, c.Dir(), again.Dir())
	require.NoError(t, again.Stop(ctx))
}

func TestStartWithoutBinaries(t *testing.T) {
	t.Parallel()
	_, err := cluster.Start(context.Background(), cluster.Options{DataDir: t.TempDir(), BinDir: t.TempDir()})
	require.ErrorContains(t, err, "PostgreSQL server binaries not found: install postgresql (apt-get install postgresql) or set [database] dsn")
}

// TestMain-free helper: when run with helperEnv set, this test binary starts the cluster of
// the data dir in that variable, prints its DSN, and waits to be killed.
const helperEnv = "OPENWATCH_CLUSTER_TEST_HELPER_DATADIR"

func TestHelperOwner(t *testing.T) {
	dataDir := os.Getenv(helperEnv)
	if dataDir == "" {
		return // not running as the helper process
	}
	c, err := cluster.Start(context.Background(), cluster.Options{DataDir: dataDir})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Println("DSN", c.DSN())
	select {}
}

func TestServerOutlivesKilledOwnerProcess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dataDir := reachableDataDir(t)

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperOwner$", "-test.v=false")
	cmd.Env = append(os.Environ(), helperEnv+"="+dataDir)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	dsn, ok := strings.CutPrefix(strings.TrimSpace(line), "DSN ")
	require.True(t, ok, "helper said %q", line)
	_, err = connect(t, dsn).Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
	require.NoError(t, err)

	// Another process attaches to the helper's server.
	attached, err := cluster.Start(ctx, cluster.Options{DataDir: dataDir})
	require.NoError(t, err)
	stopOnCleanup(t, attached)
	require.True(t, attached.Attached())
	require.Equal(t, dsn, attached.DSN())
	pool := openPool(t, attached.DSN())
	pid := postmasterPID(t, attached)

	// The process that started the server dies without a chance to stop it: the server
	// stays up for the process still using it.
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	require.Equal(t, "still here", queryKept(t, pool))
	require.Equal(t, pid, postmasterPID(t, attached), "the server was not restarted")

	// The last process using the server stops it.
	pool.Close()
	require.NoError(t, attached.Stop(ctx))
	// On a loaded runner the orphaned postmaster may still be finishing its exit when Stop
	// returns; it removes its pid file on the way out.
	require.Eventually(t, func() bool {
		_, err := os.Stat(filepath.Join(attached.Dir(), "data", "postmaster.pid"))
		return errors.Is(err, fs.ErrNotExist)
	}, 15*time.Second, 50*time.Millisecond, "postmaster.pid still exists after Stop")
	// An orphan's exit is reaped by init in its own time: a zombie counts as stopped.
	require.False(t, pgproc.IsPostgres(pid), "postgres (pid %d) is still running", pid)
}
