package pg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/openwatch/openwatch/db"
)

// migrateLockKey is the pg_advisory_lock key that serialises Migrate across processes:
// the first 8 bytes of sha256("openwatch.migrate"), so it won't collide with River's or
// goose's own keys.
const migrateLockKey int64 = 0x3b1f6c0e9a52d471

// Migrate brings the database schema up to date: River's job-queue migrations first, then
// OpenWatch's goose migrations (embedded from db/migrations), so product migrations may
// refer to River's tables. It refuses a server older than PostgreSQL 13. Concurrent calls,
// from this process or others, take turns on an advisory lock held on a connection of its
// own, so a pool of any size works.
func Migrate(ctx context.Context, pool *pgxpool.Pool) (err error) {
	if err := CheckServerVersion(ctx, pool); err != nil {
		return err
	}
	unlock, err := advisoryLock(ctx, pool, migrateLockKey)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, unlock()) }()

	rm, err := riverMigrator(riverpgxv5.New(pool))
	if err != nil {
		return err
	}
	if _, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("apply river migrations: %w", Translate(err))
	}

	provider, closeProvider, err := gooseProvider(pool)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeProvider()) }()
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("apply schema migrations: %w", Translate(err))
	}
	return nil
}

// MigrationStatus writes the state of every OpenWatch schema migration (version, when it
// was applied or "pending", file name) and River's migration version to w; it backs
// `openwatch migrate --status`. It creates goose's version table if it does not exist yet,
// and changes nothing else.
func MigrationStatus(ctx context.Context, pool *pgxpool.Pool, w io.Writer) (err error) {
	provider, closeProvider, err := gooseProvider(pool)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeProvider()) }()
	statuses, err := provider.Status(ctx)
	if err != nil {
		return fmt.Errorf("read schema migration status: %w", Translate(err))
	}

	rm, err := riverMigrator(riverpgxv5.New(pool))
	if err != nil {
		return err
	}
	applied, err := rm.ExistingVersions(ctx)
	if err != nil {
		return fmt.Errorf("read river migration status: %w", Translate(err))
	}
	all := rm.AllVersions()

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Schema migrations:")
	fmt.Fprintln(tw, "  VERSION\tAPPLIED AT\tNAME")
	for _, s := range statuses {
		appliedAt := "pending"
		if s.State == goose.StateApplied {
			appliedAt = s.AppliedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "  %d\t%s\t%s\n", s.Source.Version, appliedAt, path.Base(s.Source.Path))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write migration status: %w", err)
	}
	current := 0
	if len(applied) > 0 {
		current = applied[len(applied)-1].Version
	}
	latest := 0
	if len(all) > 0 {
		latest = all[len(all)-1].Version
	}
	if _, err := fmt.Fprintf(w, "River migrations: version %d (latest %d)\n", current, latest); err != nil {
		return fmt.Errorf("write migration status: %w", err)
	}
	return nil
}

// MigrationsHash returns a hex SHA-256 over every migration Migrate applies: the names
// and contents of the embedded goose files and River's migrations compiled into this
// binary. Test helpers key their migrated template databases on it.
func MigrationsHash() (string, error) {
	h := sha256.New()
	sub, err := migrationFiles()
	if err != nil {
		return "", err
	}
	// fs.WalkDir visits files in lexical order, so the hash is stable.
	err = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		content, err := fs.ReadFile(sub, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "goose %s %d\n", name, len(content))
		h.Write(content)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash schema migrations: %w", err)
	}
	rm, err := riverMigrator(riverpgxv5.New(nil))
	if err != nil {
		return "", err
	}
	for _, m := range rm.AllVersions() {
		fmt.Fprintf(h, "river %d %s %d\n", m.Version, m.Name, len(m.SQLUp))
		h.Write([]byte(m.SQLUp))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// migrationFiles returns the embedded goose migrations, rooted at the migrations directory.
func migrationFiles() (fs.FS, error) {
	sub, err := fs.Sub(db.Migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("open embedded migrations: %w", err)
	}
	return sub, nil
}

func riverMigrator(driver *riverpgxv5.Driver) (*rivermigrate.Migrator[pgx.Tx], error) {
	rm, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, fmt.Errorf("create river migrator: %w", err)
	}
	return rm, nil
}

// gooseProvider returns a goose provider on pool and a function that releases it (the
// pool itself stays open).
func gooseProvider(pool *pgxpool.Pool) (*goose.Provider, func() error, error) {
	sub, err := migrationFiles()
	if err != nil {
		return nil, nil, err
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("create goose provider: %w", err), sqlDB.Close())
	}
	return provider, provider.Close, nil
}

// advisoryLock takes the session-level advisory lock key on a connection of its own,
// waiting for other holders, and returns the function that releases it.
func advisoryLock(ctx context.Context, pool *pgxpool.Pool, key int64) (func() error, error) {
	conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("connect for migration lock: %w", Translate(err))
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return nil, errors.Join(fmt.Errorf("take migration lock: %w", Translate(err)), conn.Close(context.WithoutCancel(ctx)))
	}
	return func() error {
		// Closing the session releases the lock; unlocking first just says so explicitly.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
		_, unlockErr := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", key)
		if unlockErr != nil {
			unlockErr = fmt.Errorf("release migration lock: %w", unlockErr)
		}
		return errors.Join(unlockErr, conn.Close(ctx))
	}, nil
}

// MigrationState compares the schema in the database with the migrations this binary
// ships: OpenWatch's (goose) and River's.
type MigrationState struct {
	SchemaVersion, SchemaLatest int64
	RiverVersion, RiverLatest   int
}

// Current reports whether both are at the newest version this binary knows.
func (s MigrationState) Current() bool {
	return s.SchemaVersion == s.SchemaLatest && s.RiverVersion == s.RiverLatest
}

// ReadMigrationState reads the applied versions (two small queries; nothing is created)
// for the readiness check.
func ReadMigrationState(ctx context.Context, pool *pgxpool.Pool) (MigrationState, error) {
	var st MigrationState
	sub, err := migrationFiles()
	if err != nil {
		return st, err
	}
	entries, err := fs.ReadDir(sub, ".")
	if err != nil {
		return st, fmt.Errorf("list schema migrations: %w", err)
	}
	for _, e := range entries {
		if v, ok := migrationVersion(e.Name()); ok {
			st.SchemaLatest = max(st.SchemaLatest, v)
		}
	}
	err = pool.QueryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&st.SchemaVersion)
	if err != nil && !isUndefinedTable(err) {
		return st, fmt.Errorf("read schema version: %w", Translate(err))
	}
	rm, err := riverMigrator(riverpgxv5.New(pool))
	if err != nil {
		return st, err
	}
	if all := rm.AllVersions(); len(all) > 0 {
		st.RiverLatest = all[len(all)-1].Version
	}
	applied, err := rm.ExistingVersions(ctx)
	if err != nil {
		return st, fmt.Errorf("read river migration version: %w", Translate(err))
	}
	if len(applied) > 0 {
		st.RiverVersion = applied[len(applied)-1].Version
	}
	return st, nil
}

// migrationVersion reads the version number a goose file name starts with.
func migrationVersion(name string) (int64, bool) {
	if path.Ext(name) != ".sql" {
		return 0, false
	}
	digits, _, _ := strings.Cut(name, "_")
	v, err := strconv.ParseInt(digits, 10, 64)
	return v, err == nil
}
