package pgtest

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

func TestNewPool(t *testing.T) {
	ctx := context.Background()

	began := time.Now()
	pool := NewPool(t)
	t.Logf("first database (server start when %s is unset, template, clone): %s", EnvDSN, time.Since(began))

	var users, riverJobs int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&users))
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM river_job").Scan(&riverJobs))
	require.Zero(t, users)
	_, err := pool.Exec(ctx, "INSERT INTO users (id, username, email, password_hash) VALUES (gen_random_uuid(), 'ann', 'ann@example.com', 'x')")
	require.NoError(t, err)

	var dropped string
	t.Run("clone", func(t *testing.T) {
		began := time.Now()
		other := NewPool(t)
		t.Logf("one more database (clone): %s", time.Since(began))
		require.NoError(t, other.QueryRow(ctx, "SELECT current_database()").Scan(&dropped))
		require.NoError(t, other.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&users))
		require.Zero(t, users, "every database starts from the template, not from another test's data")
	})
	var exists bool
	require.NoError(t, pool.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", dropped).Scan(&exists))
	require.False(t, exists, "the database of a finished test is dropped")
}

func TestNewDSN(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := NewDSN(t)
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	var n int
	require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM goose_db_version WHERE version_id > 0").Scan(&n))
	require.Positive(t, n)
	// conn stays open on purpose, like one a binary under test still holds: the database
	// is dropped anyway.
}

func TestParallelClones(t *testing.T) {
	t.Parallel()
	for range 8 {
		t.Run("clone", func(t *testing.T) {
			t.Parallel()
			pool := NewPool(t)
			require.NoError(t, pool.Ping(context.Background()))
		})
	}
}

func TestStartServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	began := time.Now()
	s, err := StartServer(ctx, nil)
	require.NoError(t, err)
	t.Logf("throwaway server (initdb + start + ready): %s", time.Since(began))
	t.Cleanup(func() { _ = s.Stop() })

	pool, err := pgxpool.New(ctx, s.DSN())
	require.NoError(t, err)
	var fsync, listen string
	require.NoError(t, pool.QueryRow(ctx, "SELECT current_setting('fsync'), current_setting('listen_addresses')").Scan(&fsync, &listen))
	require.Equal(t, "off", fsync)
	require.Equal(t, "127.0.0.1", listen)
	pool.Close()

	require.NoError(t, s.Stop())
	require.NoDirExists(t, s.dir)
	require.NoError(t, s.Stop(), "a second Stop does nothing")
}

func TestConfigFromDSN(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ dsn, url string }{
		"url": {
			"postgres://postgres@127.0.0.1:5555/postgres?sslmode=disable",
			"postgres://postgres:@127.0.0.1:5555/postgres?sslmode=disable",
		},
		"socket": {
			"host=/tmp/owpg1 port=5432 user=postgres dbname=postgres sslmode=disable",
			"postgres://postgres:@%2Ftmp%2Fowpg1:5432/postgres?sslmode=disable",
		},
		"ipv6AndPassword": {
			"host=::1 port=5432 user=admin password='p@ss:w/rd' dbname=postgres sslmode=disable",
			"postgres://admin:p%40ss%3Aw%2Frd@[::1]:5432/postgres?sslmode=disable",
		},
		"tls": {
			"postgres://u:p@db.internal:5432/main?sslmode=require",
			"postgres://u:p@db.internal:5432/main?sslmode=prefer",
		},
	} {
		t.Run(name, func(t *testing.T) {
			conf, err := configFromDSN(tc.dsn)
			require.NoError(t, err)
			require.Equal(t, tc.url, conf.URL())
			back, err := pgx.ParseConfig(conf.URL())
			require.NoError(t, err)
			orig, err := pgx.ParseConfig(tc.dsn)
			require.NoError(t, err)
			require.Equal(t, orig.Host, back.Host)
			require.Equal(t, orig.Port, back.Port)
			require.Equal(t, orig.User, back.User)
			require.Equal(t, orig.Password, back.Password)
		})
	}
	_, err := configFromDSN("port=x")
	require.Error(t, err)
}

func TestSweepStale(t *testing.T) {
	t.Parallel()
	dead, err := os.MkdirTemp("", tempPrefix)
	require.NoError(t, err)
	// A pid far above the kernel's pid_max belongs to no process.
	require.NoError(t, os.WriteFile(dead+"/"+ownerFile, []byte("999999999"), 0o600))
	live, err := os.MkdirTemp("", tempPrefix)
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(live) })
	require.NoError(t, os.WriteFile(live+"/"+ownerFile, []byte(strconv.Itoa(os.Getpid())), 0o600))
	unowned, err := os.MkdirTemp("", tempPrefix)
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(unowned) })

	sweepStale(slog.New(slog.DiscardHandler))
	require.NoDirExists(t, dead)
	require.DirExists(t, live)
	require.DirExists(t, unowned)
}

func TestHaltResume(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := StartServer(ctx, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Stop() })
	pool, err := pgxpool.New(ctx, s.DSN())
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	_, err = pool.Exec(ctx, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (7)")
	require.NoError(t, err)

	require.NoError(t, s.Halt(ctx))
	require.Error(t, pool.Ping(ctx), "the server is down")
	require.Contains(t, s.Log(), "received fast shutdown request")
	require.NoError(t, s.Resume(ctx))
	pool.Reset()
	var n int
	require.NoError(t, pool.QueryRow(ctx, "SELECT n FROM kept").Scan(&n), "same port, same data")
	require.Equal(t, 7, n)
}
