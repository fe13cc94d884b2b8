package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/backup"
	"github.com/openwatch/openwatch/internal/config"
	"github.com/openwatch/openwatch/internal/pg"
)

// runBackup writes a backup archive: `openwatch backup [--output DIR|FILE]`.
func runBackup(ctx context.Context, e env, args []string) error {
	var output, dataDir, binDir string
	var gz bool
	cfg, log, err := setup("backup", e, args, func(fs *flag.FlagSet) {
		fs.StringVar(&output, "output", ".", "archive `file`, or a directory that gets openwatch-backup-<UTC time>.tar[.gz] (created 0700 when missing; a trailing slash marks a directory)")
		fs.BoolVar(&gz, "gzip", false, "gzip the archive (implied by an output file ending in .gz or .tgz); the dump inside is compressed already")
		fs.StringVar(&dataDir, "data-dir", "", "the data `directory` (same as --server-data-dir)")
		fs.StringVar(&binDir, "pg-bin-dir", "", "`directory` holding pg_dump (default: beside the managed cluster's server programs, or on PATH for an external database)")
	})
	if err != nil {
		return err
	}
	if dataDir != "" {
		cfg.Server.DataDir = dataDir
	}
	db, err := app.OpenDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	res, err := backup.Create(ctx, backup.CreateOptions{Pool: db.Pool, Managed: cfg.ManagedDatabase(), BinDir: binDir,
		Files: backup.KeyFiles(cfg), Output: output, Gzip: gz})
	if err != nil {
		return err
	}
	m := res.Manifest
	fmt.Fprintf(e.stdout, "wrote %s (mode 0600; it holds the secrets key: keep it as safe as the server)\n", res.Path)
	fmt.Fprintf(e.stdout, "database %s (PostgreSQL %s) at %s, audit head seq %d\n", m.Database.Name, m.Database.ServerVersion,
		m.SchemaVersion, m.Database.AuditHeadSeq)
	for _, f := range m.Files {
		fmt.Fprintf(e.stdout, "  %-26s %10d bytes  sha256 %s\n", f.Name, f.Size, f.SHA256)
	}
	return nil
}

// runRestore restores a backup archive: `openwatch restore --input ARCHIVE`.
func runRestore(ctx context.Context, e env, args []string) error {
	var input, dataDir, binDir string
	var force, verifyOnly bool
	cfg, log, err := setup("restore", e, args, func(fs *flag.FlagSet) {
		fs.StringVar(&input, "input", "", "the backup archive `file` (required)")
		fs.StringVar(&dataDir, "data-dir", "", "the data `directory` to restore into (same as --server-data-dir); with no database.dsn its managed cluster is created when missing")
		fs.StringVar(&binDir, "pg-bin-dir", "", "`directory` holding pg_restore (default: beside the managed cluster's server programs, or on PATH for an external database)")
		fs.BoolVar(&force, "force", false, "restore over a database that holds tables (everything in it is dropped first) and over key files with other content")
		fs.BoolVar(&verifyOnly, "verify-only", false, "check the archive's checksums and schema version, then stop without changing anything")
	})
	if err != nil {
		return err
	}
	if input == "" {
		fmt.Fprintln(e.stderr, "openwatch restore: --input is required")
		return errUsage
	}
	if dataDir != "" {
		cfg.Server.DataDir = dataDir
	}
	known, err := pg.KnownSchemaVersion()
	if err != nil {
		return err
	}
	// The whole archive is checked before anything is created, the data dir included.
	m, err := backup.Verify(input, known)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "verified %s: OpenWatch %s backup of %s, taken %s, %d files\n", input, m.OpenWatchVersion,
		m.SchemaVersion, m.CreatedAt.Format("2006-01-02 15:04:05Z07:00"), len(m.Files))
	if verifyOnly {
		return nil
	}
	// Like serve: the data dir is 0711 so the managed database's user may pass through.
	if err := os.MkdirAll(cfg.Server.DataDir, 0o711); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	db, err := app.OpenDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close(context.WithoutCancel(ctx))
	res, err := backup.Restore(ctx, backup.RestoreOptions{Archive: input, Pool: db.Pool, Managed: cfg.ManagedDatabase(),
		BinDir: binDir, Files: backup.KeyFiles(cfg), Force: force, Known: known})
	if errors.Is(err, backup.ErrNotEmpty) || errors.Is(err, backup.ErrInUse) {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "restored the database (%s)\n", m.SchemaVersion)
	for _, p := range res.Written {
		fmt.Fprintf(e.stdout, "restored %s (mode 0600)\n", p)
	}
	if len(res.Skipped) > 0 {
		fmt.Fprintf(e.stdout, "not restored (the configuration has no file for them): %s\n", strings.Join(res.Skipped, ", "))
	}
	if known.NewerThan(m.SchemaVersion) {
		if err := pg.Migrate(ctx, db.Pool); err != nil {
			return fmt.Errorf("migrate the restored database from %s: %w", m.SchemaVersion, err)
		}
		fmt.Fprintf(e.stdout, "migrated the database from %s to %s\n", m.SchemaVersion, known)
	}
	fmt.Fprintln(e.stdout, "restore complete: start openwatch serve")
	return nil
}

// backupBeforeMigrate writes a backup into output before migrations run (migrate
// --backup-before, which package upgrades call); a database without a schema yet (a first
// install) has nothing to back up.
func backupBeforeMigrate(ctx context.Context, e env, cfg config.Config, db *app.Database, output string) error {
	v, err := pg.CurrentSchemaVersion(ctx, db.Pool)
	if err != nil {
		return err
	}
	if v.Schema == 0 {
		fmt.Fprintln(e.stdout, "no schema yet: nothing to back up before migrating")
		return nil
	}
	res, err := backup.Create(ctx, backup.CreateOptions{Pool: db.Pool, Managed: cfg.ManagedDatabase(), Files: backup.KeyFiles(cfg), Output: output})
	if err != nil {
		return fmt.Errorf("backup before migrating (nothing was migrated): %w", err)
	}
	fmt.Fprintf(e.stdout, "wrote %s (mode 0600) before migrating from %s\n", res.Path, res.Manifest.SchemaVersion)
	return nil
}
