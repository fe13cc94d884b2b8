package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openwatch/openwatch/internal/config"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/pg/cluster"
)

// Database is an open connection pool, and the managed cluster behind it when there is one.
type Database struct {
	Pool    *pgxpool.Pool
	cluster *cluster.Cluster
}

// OpenDatabase connects to [database] dsn, or, when it is empty, starts (or attaches to)
// the managed local PostgreSQL cluster under the data directory. It refuses servers older
// than PostgreSQL 13.
func OpenDatabase(ctx context.Context, cfg config.Config, logger *slog.Logger) (*Database, error) {
	d := &Database{}
	dsn := cfg.Database.DSN
	if cfg.ManagedDatabase() {
		c, err := cluster.Start(ctx, cluster.Options{DataDir: cfg.Server.DataDir, Logger: logger})
		if err != nil {
			return nil, fmt.Errorf("start managed database: %w", err)
		}
		d.cluster = c
		dsn = c.DSN()
	}
	pool, err := pg.Connect(ctx, dsn, cfg.PoolSize(), logger)
	if err != nil {
		d.Close(ctx)
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	d.Pool = pool
	if err := pg.CheckServerVersion(ctx, pool); err != nil {
		d.Close(ctx)
		return nil, err
	}
	return d, nil
}

// OpenMigratedDatabase is OpenDatabase followed by pg.Migrate: the database of a command
// that reads or writes the schema.
func OpenMigratedDatabase(ctx context.Context, cfg config.Config, logger *slog.Logger) (*Database, error) {
	d, err := OpenDatabase(ctx, cfg, logger)
	if err != nil {
		return nil, err
	}
	return d.migrated(ctx)
}

// migrated brings the schema up to date and returns d, or closes d when that fails.
func (d *Database) migrated(ctx context.Context) (*Database, error) {
	if err := pg.Migrate(ctx, d.Pool); err != nil {
		d.Close(ctx)
		return nil, fmt.Errorf("migrate database: %w", err)
	}
	return d, nil
}

// Close closes the pool and leaves the managed cluster: the last process using it stops it,
// whichever started it, giving it up to 30 seconds for a clean shutdown.
func (d *Database) Close(ctx context.Context) {
	if d.Pool != nil {
		d.Pool.Close()
	}
	if d.cluster != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = d.cluster.Stop(ctx)
	}
}

// running returns whether the managed cluster's server runs, or nil for an external
// database (the readiness check of the managed database).
func (d *Database) running() func() bool {
	if d.cluster == nil {
		return nil
	}
	return d.cluster.Running
}

// ManagedLogPath returns the managed cluster's log file, or "" when the database is not
// managed by this process.
func (d *Database) ManagedLogPath() string {
	if d.cluster == nil {
		return ""
	}
	return d.cluster.LogPath()
}
