package main

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/db"
	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/pg/cluster"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
)

// TestBackupAndRestoreCommands backs up an external database, restores it into a fresh
// data dir's managed cluster, backs that up while another process uses the cluster, and
// checks the refusals of restore.
func TestBackupAndRestoreCommands(t *testing.T) {
	src := map[string]string{"OPENWATCH_DATABASE_DSN": pgtest.NewDSN(t), "OPENWATCH_SERVER_DATA_DIR": t.TempDir()}
	r := runWith(t, api.SpecJSON, "", src, "create-admin", "--username", "first", "--email", "f@example.com", "--password", "first-password-1")
	require.Equal(t, 0, r.code, r.stderr)

	// Package upgrades back up before migrating; a first install has nothing to back up.
	fresh := map[string]string{"OPENWATCH_DATABASE_DSN": emptyDSN(t), "OPENWATCH_SERVER_DATA_DIR": t.TempDir()}
	r = runWith(t, api.SpecJSON, "", fresh, "migrate", "--backup-before", filepath.Join(t.TempDir(), "pre")+"/")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "nothing to back up")
	pre := filepath.Join(t.TempDir(), "pre") + "/"
	r = runWith(t, api.SpecJSON, "", src, "migrate", "--backup-before", pre)
	require.Equal(t, 0, r.code, r.stderr)
	require.Regexp(t, `wrote \S+/pre/openwatch-backup-\d{8}T\d{6}Z\.tar \(mode 0600\) before migrating`, r.stdout)

	out := filepath.Join(t.TempDir(), "backups") + "/"
	r = runWith(t, api.SpecJSON, "", src, "backup", "--output", out)
	require.Equal(t, 0, r.code, r.stderr)
	m := regexp.MustCompile(`wrote (\S+) \(mode 0600`).FindStringSubmatch(r.stdout)
	require.NotNil(t, m, r.stdout)
	archive := m[1]
	require.Regexp(t, `/backups/openwatch-backup-\d{8}T\d{6}Z\.tar$`, archive)
	fi, err := os.Stat(archive)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	require.Contains(t, r.stdout, "keys/secrets.key")

	r = runWith(t, api.SpecJSON, "", src, "restore", "--input", archive, "--verify-only")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "verified")

	// A fresh data dir: restore creates its managed cluster.
	base, err := os.MkdirTemp("", "owbk")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	require.NoError(t, os.Chmod(base, 0o711))
	dataDir := filepath.Join(base, "data")
	dst := map[string]string{}
	r = runWith(t, api.SpecJSON, "", dst, "restore", "--input", archive, "--data-dir", dataDir)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "restore complete")
	require.FileExists(t, filepath.Join(dataDir, "keys", "secrets.key"))

	// Another process keeps the cluster running, as serve would.
	c, err := cluster.Start(context.Background(), cluster.Options{DataDir: dataDir})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Stop(ctx)
	})
	// The restored secrets key opens the restored audit key: a new admin is audited.
	dst["OPENWATCH_SERVER_DATA_DIR"] = dataDir
	r = runWith(t, api.SpecJSON, "", dst, "create-admin", "--username", "second", "--email", "s@example.com", "--password", "second-password-1")
	require.Equal(t, 0, r.code, r.stderr)

	r = runWith(t, api.SpecJSON, "", dst, "backup", "--output", filepath.Join(t.TempDir(), "managed.tar.gz"))
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "managed.tar.gz")

	// Restoring over the database now in use is refused without --force.
	r = runWith(t, api.SpecJSON, "", dst, "restore", "--input", archive)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "pass --force")
	require.Contains(t, r.stderr, "nothing was changed")

	r = runWith(t, api.SpecJSON, "", dst, "restore")
	require.Equal(t, 2, r.code)
	bad := filepath.Join(t.TempDir(), "bad.tar")
	require.NoError(t, os.WriteFile(bad, []byte("not an archive"), 0o600))
	r = runWith(t, api.SpecJSON, "", dst, "restore", "--input", bad)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "damaged")
}

// emptyDSN returns the DSN of a database without any table, as on a first install.
func emptyDSN(t *testing.T) string {
	t.Helper()
	dsn := pgtest.NewDSN(t)
	pool, err := pgxpool.New(context.Background(), dsn)
	require.NoError(t, err)
	defer pool.Close()
	_, err = pool.Exec(context.Background(), "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
	require.NoError(t, err)
	return dsn
}

// TestRestoreMigratesAnOlderBackupForward restores a backup taken one migration behind
// this binary into an empty external database: the schema ends current.
func TestRestoreMigratesAnOlderBackupForward(t *testing.T) {
	ctx := context.Background()
	src := map[string]string{"OPENWATCH_DATABASE_DSN": pgtest.NewDSN(t), "OPENWATCH_SERVER_DATA_DIR": t.TempDir()}
	r := runWith(t, api.SpecJSON, "", src, "create-admin", "--username", "first", "--email", "f@example.com", "--password", "first-password-1")
	require.Equal(t, 0, r.code, r.stderr)
	pool, err := pgxpool.New(ctx, src["OPENWATCH_DATABASE_DSN"])
	require.NoError(t, err)
	defer pool.Close()
	sub, err := fs.Sub(db.Migrations, "migrations")
	require.NoError(t, err)
	sqlDB := stdlib.OpenDBFromPool(pool)
	defer sqlDB.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, sqlDB, sub, goose.WithDisableGlobalRegistry(true))
	require.NoError(t, err)
	_, err = provider.Down(ctx)
	require.NoError(t, err)
	older, err := pg.CurrentSchemaVersion(ctx, pool)
	require.NoError(t, err)
	known, err := pg.KnownSchemaVersion()
	require.NoError(t, err)
	require.Equal(t, known.Schema-1, older.Schema)

	archive := filepath.Join(t.TempDir(), "older.tar")
	r = runWith(t, api.SpecJSON, "", src, "backup", "--output", archive)
	require.Equal(t, 0, r.code, r.stderr)

	dst := map[string]string{"OPENWATCH_DATABASE_DSN": emptyDSN(t), "OPENWATCH_SERVER_DATA_DIR": t.TempDir()}
	r = runWith(t, api.SpecJSON, "", dst, "restore", "--input", archive)
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "migrated the database from "+older.String()+" to "+known.String())
	restored, err := pgxpool.New(ctx, dst["OPENWATCH_DATABASE_DSN"])
	require.NoError(t, err)
	defer restored.Close()
	now, err := pg.CurrentSchemaVersion(ctx, restored)
	require.NoError(t, err)
	require.Equal(t, known, now)
	var admins int
	require.NoError(t, restored.QueryRow(ctx, "SELECT count(*) FROM users WHERE username = 'first'").Scan(&admins))
	require.Equal(t, 1, admins)
}
