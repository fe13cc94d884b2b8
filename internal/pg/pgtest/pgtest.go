// Package pgtest gives tests real PostgreSQL databases: each call of NewPool or NewDSN
// returns a fresh database cloned from a template that pg.Migrate (goose and River) has
// migrated, and drops it when the test ends (a failed test's database is kept for
// inspection; its name is in the test log).
//
// The server is OPENWATCH_TEST_DSN, a superuser DSN of an existing server, when that is set
// (scripts/withpg sets it, so `make test` shares one server between all packages).
// Otherwise the first call in a test binary starts a throwaway server (StartServer) that
// lives as long as the test binary: there is no TestMain hook here to stop it, so it gets
// SIGQUIT from the kernel when the test binary exits (Pdeathsig), and the next
// StartServer removes its leftover directory. Tests never skip for lack of PostgreSQL: they
// fail, saying how to install it.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver pgtestdb uses
	"github.com/peterldowns/pgtestdb"

	"github.com/openwatch/openwatch/internal/pg"
)

// EnvDSN names the environment variable holding a superuser DSN of the server to use.
const EnvDSN = "OPENWATCH_TEST_DSN"

// poolMaxConns bounds each test pool, so parallel tests stay within max_connections.
const poolMaxConns = 4

// The server started for this test binary when EnvDSN is not set.
var (
	serverOnce sync.Once
	server     *Server
	errServer  error
)

// NewPool returns a pool on a fresh, migrated database that is dropped when t ends.
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return openPool(t, poolMaxConns, nil)
}

// openPool opens a pool of at most maxConns connections on a fresh, migrated database,
// tracing its statements with tracer when it is not nil.
func openPool(t testing.TB, maxConns int32, tracer pgx.QueryTracer) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(NewDSN(t))
	if err != nil {
		t.Fatalf("pgtest: parse test database dsn: %v", err)
	}
	cfg.MaxConns = maxConns
	cfg.AfterConnect = pg.AfterConnect
	if tracer != nil {
		cfg.ConnConfig.Tracer = tracer
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgtest: open pool on test database: %v", err)
	}
	// Cleanups run last-in first-out: the pool closes before pgtestdb drops the database.
	t.Cleanup(pool.Close)
	return pool
}

// NewDSN returns the URL of a fresh, migrated database that is dropped when t ends, for
// code that opens its own pool (for example a test that runs the openwatch binary).
// Connections still open when t ends are terminated.
func NewDSN(t testing.TB) string {
	t.Helper()
	conf, err := baseConfig()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return pgtestdb.Custom(t, conf, migrator{}).URL()
}

// baseConfig describes the server to create test databases on.
func baseConfig() (pgtestdb.Config, error) {
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		serverOnce.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			server, errServer = StartServer(ctx, slog.New(slog.DiscardHandler))
		})
		if errServer != nil {
			return pgtestdb.Config{}, errServer
		}
		dsn = server.DSN()
	}
	return configFromDSN(dsn)
}

// configFromDSN turns a DSN (URL or keyword/value) into pgtestdb's connection settings.
func configFromDSN(dsn string) (pgtestdb.Config, error) {
	cc, err := pgx.ParseConfig(dsn)
	if err != nil {
		return pgtestdb.Config{}, fmt.Errorf("parse %s: %w", EnvDSN, err)
	}
	host := cc.Host
	switch {
	case strings.HasPrefix(host, "/"):
		host = url.PathEscape(host) // a unix socket directory, as libpq URLs allow
	case strings.Contains(host, ":"):
		host = "[" + host + "]"
	}
	sslmode := "disable"
	if cc.TLSConfig != nil {
		sslmode = "prefer"
	}
	password := ""
	if cc.Password != "" {
		password = strings.TrimPrefix(url.UserPassword("u", cc.Password).String(), "u:")
	}
	return pgtestdb.Config{
		DriverName: "pgx",
		Host:       host,
		Port:       strconv.Itoa(int(cc.Port)),
		User:       url.User(cc.User).String(),
		Password:   password,
		Database:   url.PathEscape(cc.Database),
		Options:    "sslmode=" + sslmode,
		// A binary under test may still hold connections while its test ends.
		ForceTerminateConnections: true,
	}, nil
}

// migrator builds the template database with pg.Migrate; its hash covers every goose and
// River migration, so a changed migration gets a new template.
type migrator struct{}

func (migrator) Hash() (string, error) { return pg.MigrationsHash() }

func (migrator) Migrate(ctx context.Context, _ *sql.DB, conf pgtestdb.Config) error {
	pool, err := pgxpool.New(ctx, conf.URL())
	if err != nil {
		return fmt.Errorf("open pool on template: %w", err)
	}
	defer pool.Close()
	return pg.Migrate(ctx, pool)
}
