package pg_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
)

func TestConnect(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	pool, err := pg.Connect(ctx, pgtest.NewDSN(t), 3, nil)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.EqualValues(t, 3, pool.Config().MaxConns)
	require.Equal(t, 30*time.Second, pool.Config().HealthCheckPeriod)
	require.NotZero(t, pool.Config().ConnConfig.ConnectTimeout)

	_, err = pg.Connect(ctx, "host=127.0.0.1 port="+closedPort(t)+" user=x dbname=x sslmode=disable connect_timeout=2", 1, nil)
	require.True(t, apperr.Is(err, apperr.CodeUnavailable), "got %v", err)

	_, err = pg.Connect(ctx, "port=notanumber", 1, nil)
	require.Error(t, err)
	require.False(t, apperr.Is(err, apperr.CodeUnavailable))
}

func TestServerVersion(t *testing.T) {
	t.Parallel()
	pool := pgtest.NewPool(t)
	v, err := pg.ServerVersion(context.Background(), pool)
	require.NoError(t, err)
	require.GreaterOrEqual(t, v, pg.MinServerVersion)
	require.NoError(t, pg.CheckServerVersion(context.Background(), pool))

	require.NoError(t, pg.CheckVersionNum(130000))
	require.EqualError(t, pg.CheckVersionNum(120017), "PostgreSQL 12 is too old: OpenWatch needs PostgreSQL 13 or newer")
	require.EqualError(t, pg.CheckVersionNum(90624), "PostgreSQL 9.6 is too old: OpenWatch needs PostgreSQL 13 or newer")
}

func TestWithTx(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	_, err := pool.Exec(ctx, "CREATE TABLE tx_test (id int PRIMARY KEY)")
	require.NoError(t, err)
	count := func() int {
		var n int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM tx_test").Scan(&n))
		return n
	}

	t.Run("commit", func(t *testing.T) {
		err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO tx_test VALUES (1)")
			return err
		})
		require.NoError(t, err)
		require.Equal(t, 1, count())
	})
	t.Run("rollbackOnError", func(t *testing.T) {
		boom := errors.New("boom")
		err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO tx_test VALUES (2)")
			require.NoError(t, err)
			return fmt.Errorf("do thing: %w", boom)
		})
		require.ErrorIs(t, err, boom)
		require.Equal(t, 1, count())
	})
	t.Run("rollbackOnPanic", func(t *testing.T) {
		require.PanicsWithValue(t, "kaboom", func() {
			_ = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, "INSERT INTO tx_test VALUES (3)")
				require.NoError(t, err)
				panic("kaboom")
			})
		})
		require.Equal(t, 1, count())
		require.Zero(t, pool.Stat().AcquiredConns(), "the connection went back to the pool")
	})
	t.Run("translatesDriverErrors", func(t *testing.T) {
		err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO tx_test VALUES (1)")
			return err
		})
		require.True(t, apperr.Is(err, apperr.CodeConflict), "got %v", err)
	})
	t.Run("closedPool", func(t *testing.T) {
		p, err := pgxpool.New(ctx, pool.Config().ConnString())
		require.NoError(t, err)
		p.Close()
		err = pg.WithTx(ctx, p, func(pgx.Tx) error { return nil })
		require.True(t, apperr.Is(err, apperr.CodeUnavailable), "got %v", err)
	})
}

func TestTranslate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	_, err := pool.Exec(ctx, `
		CREATE TABLE owners (id int PRIMARY KEY, name text NOT NULL);
		CREATE UNIQUE INDEX owners_name_live_key ON owners (lower(name));
		CREATE TABLE pets (
			id int PRIMARY KEY,
			owner_id int NOT NULL REFERENCES owners (id),
			legs int NOT NULL,
			CONSTRAINT pets_legs_range CHECK (legs BETWEEN 0 AND 8)
		);
		INSERT INTO owners VALUES (1, 'ann');
		INSERT INTO pets VALUES (1, 1, 4);`)
	require.NoError(t, err)

	exec := func(sql string) error {
		_, err := pool.Exec(ctx, sql)
		return pg.Translate(err)
	}
	detail := func(err error) map[string]any { return apperr.As(err).Detail }

	t.Run("noRows404", func(t *testing.T) {
		var id int
		err := pg.Translate(pool.QueryRow(ctx, "SELECT id FROM owners WHERE id = 99").Scan(&id))
		require.True(t, apperr.Is(err, apperr.CodeNotFound), "got %v", err)
		require.Equal(t, "The resource does not exist.", apperr.As(err).HumanMessage())
		require.ErrorIs(t, err, pgx.ErrNoRows, "the cause is kept for the log")
	})
	t.Run("uniqueViolation409", func(t *testing.T) {
		err := exec("INSERT INTO owners VALUES (2, 'ANN')")
		require.True(t, apperr.Is(err, apperr.CodeConflict), "got %v", err)
		require.Equal(t, "A resource with this name already exists.", apperr.As(err).HumanMessage())
		require.Equal(t, "name", detail(err)["field"])
	})
	t.Run("primaryKeyViolation409", func(t *testing.T) {
		err := exec("INSERT INTO owners VALUES (1, 'bob')")
		require.True(t, apperr.Is(err, apperr.CodeConflict), "got %v", err)
		require.Equal(t, "The resource already exists.", apperr.As(err).HumanMessage())
	})
	t.Run("foreignKeyMissing400", func(t *testing.T) {
		err := exec("INSERT INTO pets VALUES (2, 42, 4)")
		require.True(t, apperr.Is(err, apperr.CodeValidationFailed), "got %v", err)
		require.Equal(t, "owner_id", detail(err)["field"])
		require.NotContains(t, apperr.As(err).HumanMessage(), "42")
	})
	t.Run("foreignKeyStillReferenced409", func(t *testing.T) {
		err := exec("DELETE FROM owners WHERE id = 1")
		require.True(t, apperr.Is(err, apperr.CodeConflict), "got %v", err)
	})
	t.Run("checkViolation400", func(t *testing.T) {
		err := exec("INSERT INTO pets VALUES (3, 1, 100)")
		require.True(t, apperr.Is(err, apperr.CodeValidationFailed), "got %v", err)
		require.Equal(t, "legs", detail(err)["field"])
	})
	t.Run("notNull400", func(t *testing.T) {
		err := exec("INSERT INTO owners (id) VALUES (5)")
		require.True(t, apperr.Is(err, apperr.CodeValidationFailed), "got %v", err)
		require.Equal(t, "name", detail(err)["field"])
	})
	t.Run("badValue400", func(t *testing.T) {
		err := exec("SELECT 'x'::int")
		require.True(t, apperr.Is(err, apperr.CodeValidationFailed), "got %v", err)
	})
	t.Run("closedPool503", func(t *testing.T) {
		p, err := pgxpool.New(ctx, pool.Config().ConnString())
		require.NoError(t, err)
		p.Close()
		_, err = p.Exec(ctx, "SELECT 1")
		err = pg.Translate(err)
		require.True(t, apperr.Is(err, apperr.CodeUnavailable), "got %v", err)
	})
	t.Run("connectionRefused503", func(t *testing.T) {
		_, err := pgx.Connect(ctx, "host=127.0.0.1 port="+closedPort(t)+" user=x sslmode=disable")
		require.True(t, apperr.Is(pg.Translate(err), apperr.CodeUnavailable), "got %v", err)
	})
	t.Run("connectDeadline503", func(t *testing.T) {
		ctx, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
		defer cancel()
		_, err := pgx.Connect(ctx, pool.Config().ConnString())
		require.True(t, apperr.Is(pg.Translate(err), apperr.CodeUnavailable), "got %v", err)
	})
	t.Run("passThrough", func(t *testing.T) {
		require.NoError(t, pg.Translate(nil))
		already := apperr.NotFound("No such host.")
		require.Same(t, already, pg.Translate(already))
		wrapped := fmt.Errorf("get host: %w", already)
		require.Equal(t, wrapped, pg.Translate(wrapped))
		other := errors.New("something else")
		require.Equal(t, other, pg.Translate(other))
		syntax := exec("SELEC 1")
		require.False(t, apperr.Is(syntax, apperr.CodeInternal) || apperr.Is(syntax, apperr.CodeValidationFailed))
		require.ErrorIs(t, pg.Translate(context.Canceled), context.Canceled)
	})
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := pgtest.NewPool(t)

	// A schema of its own makes an empty database for goose and River, which both use
	// unqualified table names.
	_, err := base.Exec(ctx, "CREATE SCHEMA fresh")
	require.NoError(t, err)
	cfg := base.Config().Copy()
	cfg.ConnConfig.RuntimeParams["search_path"] = "fresh"
	cfg.MaxConns = 1 // Migrate must not need a second pool connection for its lock.
	newPool := func() *pgxpool.Pool {
		p, err := pgxpool.NewWithConfig(ctx, cfg.Copy())
		require.NoError(t, err)
		t.Cleanup(p.Close)
		return p
	}
	pools := []*pgxpool.Pool{newPool(), newPool(), newPool()}

	var wg sync.WaitGroup
	errs := make([]error, len(pools))
	for i, p := range pools {
		wg.Go(func() { errs[i] = pg.Migrate(ctx, p) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}

	var tables int
	require.NoError(t, pools[0].QueryRow(ctx,
		`SELECT count(*) FROM pg_tables WHERE schemaname = 'fresh' AND tablename IN ('users', 'river_job', 'goose_db_version')`).Scan(&tables))
	require.Equal(t, 3, tables)

	require.NoError(t, pg.Migrate(ctx, pools[0]), "a second run changes nothing")

	var out bytes.Buffer
	require.NoError(t, pg.MigrationStatus(ctx, pools[0], &out))
	require.Contains(t, out.String(), "00001_foundation.sql")
	require.NotContains(t, out.String(), "pending")
	require.Regexp(t, `River migrations: version (\d+) \(latest (\d+)\)`, out.String())
	t.Log("\n" + out.String())
}

// TestJobKindsRenamed: jobs queued under a kind's old name run under its new one after the
// upgrade (00018_job_kinds.sql), and the downgrade gives them their old names back.
func TestJobKindsRenamed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	provider, closeProvider, err := pg.GooseProvider(pool)
	require.NoError(t, err)
	t.Cleanup(func() { _ = closeProvider() })
	_, err = provider.DownTo(ctx, 17)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `INSERT INTO river_job (args, kind, max_attempts, queue, state, priority)
		VALUES ('{}', 'intel_discover', 5, 'default', 'available', 1), ('{}', 'openwatch_ping', 5, 'default', 'available', 1)`)
	require.NoError(t, err)
	_, err = provider.Up(ctx)
	require.NoError(t, err)
	kinds := func() []string {
		rows, err := pool.Query(ctx, `SELECT kind FROM river_job ORDER BY kind`)
		require.NoError(t, err)
		out, err := pgx.CollectRows(rows, pgx.RowTo[string])
		require.NoError(t, err)
		return out
	}
	require.Equal(t, []string{"intel_system_info", "worker_ping"}, kinds())
	_, err = provider.DownTo(ctx, 17)
	require.NoError(t, err)
	require.Equal(t, []string{"intel_discover", "openwatch_ping"}, kinds())
}

func TestMigrationStatusPending(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := pgtest.NewPool(t)
	_, err := base.Exec(ctx, "CREATE SCHEMA empty")
	require.NoError(t, err)
	cfg := base.Config().Copy()
	cfg.ConnConfig.RuntimeParams["search_path"] = "empty"
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(p.Close)

	var out bytes.Buffer
	require.NoError(t, pg.MigrationStatus(ctx, p, &out))
	require.Regexp(t, `1\s+pending\s+00001_foundation.sql`, out.String())
	require.Contains(t, out.String(), "River migrations: version 0 (latest ")
}

func TestMigrationsHash(t *testing.T) {
	t.Parallel()
	a, err := pg.MigrationsHash()
	require.NoError(t, err)
	b, err := pg.MigrationsHash()
	require.NoError(t, err)
	require.Equal(t, a, b)
	require.Len(t, a, 64)
}

// closedPort returns a loopback TCP port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return fmt.Sprint(port)
}
