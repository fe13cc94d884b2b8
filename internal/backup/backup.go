package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openwatch/openwatch/internal/buildinfo"
	"github.com/openwatch/openwatch/internal/pg"
)

// CreateOptions are the inputs of Create.
type CreateOptions struct {
	// Pool is the database to back up; its connection string is given to pg_dump.
	Pool *pgxpool.Pool
	// Managed is true when Pool is the managed cluster: pg_dump is then the one beside the
	// cluster's server programs, else the one on $PATH.
	Managed bool
	// BinDir, when set, holds pg_dump (and wins over the choice above).
	BinDir string
	// Files are the key files to include (KeyFiles).
	Files []KeyFile
	// Output is a file name, or a directory (existing, or ending in a slash) that gets a
	// file named openwatch-backup-<UTC time>.tar[.gz].
	Output string
	// Gzip compresses the archive; an Output file name ending in .gz or .tgz implies it.
	Gzip bool
	// Now is the clock; nil uses time.Now.
	Now func() time.Time
}

// Result says what Create wrote.
type Result struct {
	Path     string
	Manifest Manifest
}

// Create writes a backup archive: the database, dumped by pg_dump from one snapshot, and
// the key files, read once. The archive appears under its final name only when complete,
// with mode 0600; a failed backup leaves nothing behind.
func Create(ctx context.Context, o CreateOptions) (Result, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	created := now().UTC()
	path, gz, err := outputPath(o.Output, created, o.Gzip)
	if err != nil {
		return Result{}, err
	}
	// Key files first and once: the archive gets exactly these bytes.
	type keyData struct {
		KeyFile
		data []byte
	}
	var keys []keyData
	for _, kf := range o.Files {
		data, err := os.ReadFile(kf.Path)
		if errors.Is(err, fs.ErrNotExist) && !kf.Required {
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("read %s (%s): %w", kf.Path, kf.Role, err)
		}
		keys = append(keys, keyData{kf, data})
	}

	dumpFile, err := os.CreateTemp(filepath.Dir(path), ".openwatch-dump-*")
	if err != nil {
		return Result{}, fmt.Errorf("create temporary dump file: %w", err)
	}
	defer func() { _ = dumpFile.Close(); _ = os.Remove(dumpFile.Name()) }()
	m := Manifest{Format: Format, OpenWatchVersion: buildinfo.Get().Version, OpenWatchCommit: buildinfo.Get().Commit, CreatedAt: created}
	if err := dump(ctx, o, dumpFile.Name(), &m); err != nil {
		return Result{}, err
	}
	dumpFile.Close()
	size, sum, err := hashFile(dumpFile.Name())
	if err != nil {
		return Result{}, err
	}
	m.Files = append(m.Files, File{Name: entryNames[RoleDatabase], Role: RoleDatabase, Size: size, SHA256: sum})
	for _, k := range keys {
		s := sha256.Sum256(k.data)
		m.Files = append(m.Files, File{Name: entryNames[k.Role], Role: k.Role, Size: int64(len(k.data)),
			SHA256: hex.EncodeToString(s[:]), Source: k.Path})
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Result{}, fmt.Errorf("encode manifest: %w", err)
	}

	out, err := os.CreateTemp(filepath.Dir(path), ".openwatch-backup-*")
	if err != nil {
		return Result{}, fmt.Errorf("create archive: %w", err)
	}
	done := false
	defer func() {
		if !done {
			_ = out.Close()
			_ = os.Remove(out.Name())
		}
	}()
	if err := out.Chmod(0o600); err != nil {
		return Result{}, fmt.Errorf("restrict archive: %w", err)
	}
	var w io.Writer = out
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(out)
		w = zw
	}
	tw := tar.NewWriter(w)
	if err := addEntry(tw, ManifestName, int64(len(manifest)), bytes.NewReader(manifest), created); err != nil {
		return Result{}, err
	}
	dumpIn, err := os.Open(dumpFile.Name())
	if err != nil {
		return Result{}, fmt.Errorf("read dump: %w", err)
	}
	err = addEntry(tw, entryNames[RoleDatabase], size, dumpIn, created)
	_ = dumpIn.Close()
	if err != nil {
		return Result{}, err
	}
	for _, k := range keys {
		if err := addEntry(tw, entryNames[k.Role], int64(len(k.data)), bytes.NewReader(k.data), created); err != nil {
			return Result{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return Result{}, fmt.Errorf("write archive: %w", err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return Result{}, fmt.Errorf("write archive: %w", err)
		}
	}
	if err := out.Sync(); err != nil {
		return Result{}, fmt.Errorf("write archive: %w", err)
	}
	if err := out.Close(); err != nil {
		return Result{}, fmt.Errorf("write archive: %w", err)
	}
	if err := os.Rename(out.Name(), path); err != nil {
		return Result{}, fmt.Errorf("finish archive: %w", err)
	}
	done = true
	return Result{Path: path, Manifest: m}, nil
}

// outputPath resolves Output to the archive's file name and whether it is compressed.
// A directory output is created (0700) when missing.
func outputPath(output string, now time.Time, gz bool) (string, bool, error) {
	if output == "" {
		output = "."
	}
	fi, err := os.Stat(output)
	isDir := err == nil && fi.IsDir() || strings.HasSuffix(output, "/")
	if isDir {
		if err := os.MkdirAll(output, 0o700); err != nil {
			return "", false, fmt.Errorf("create backup directory: %w", err)
		}
		name := "openwatch-backup-" + now.Format("20060102T150405Z") + ".tar"
		if gz {
			name += ".gz"
		}
		return filepath.Join(output, name), gz, nil
	}
	if strings.HasSuffix(output, ".gz") || strings.HasSuffix(output, ".tgz") {
		gz = true
	}
	if _, err := os.Stat(filepath.Dir(output)); err != nil {
		return "", false, fmt.Errorf("backup output directory: %w", err)
	}
	return output, gz, nil
}

// dump runs pg_dump into path on a snapshot exported by a read-only transaction, and
// fills in the manifest's database identity and schema version from that snapshot.
func dump(ctx context.Context, o CreateOptions, path string, m *Manifest) error {
	prog, err := findProgram(ctx, "pg_dump", o.BinDir, o.Managed)
	if err != nil {
		return err
	}
	tx, err := o.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin backup snapshot: %w", pg.Translate(err))
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var snapshot string
	var serverNum int
	db := &m.Database
	err = tx.QueryRow(ctx, `SELECT pg_export_snapshot(), current_database(), current_setting('server_version'),
		current_setting('server_version_num')::int`).Scan(&snapshot, &db.Name, &db.ServerVersion, &serverNum)
	if err != nil {
		return fmt.Errorf("export backup snapshot: %w", pg.Translate(err))
	}
	if prog.major < serverNum/10000 {
		return fmt.Errorf("%s is older than the database server (PostgreSQL %s): pg_dump must be of the server's major version or newer; install postgresql-client-%d or pass --pg-bin-dir",
			prog.version, db.ServerVersion, serverNum/10000)
	}
	if m.SchemaVersion, err = pg.CurrentSchemaVersion(ctx, tx); err != nil {
		return err
	}
	// pg_control_system() may be denied to a role without pg_monitor; the identity then
	// rests on the name and version.
	if _, err := tx.Exec(ctx, "SAVEPOINT identity"); err != nil {
		return fmt.Errorf("read database identity: %w", pg.Translate(err))
	}
	if err := tx.QueryRow(ctx, "SELECT system_identifier::text FROM pg_control_system()").Scan(&db.SystemIdentifier); err != nil {
		if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT identity"); err != nil {
			return fmt.Errorf("read database identity: %w", pg.Translate(err))
		}
	}
	if m.SchemaVersion.Schema > 0 {
		if err := tx.QueryRow(ctx, "SELECT COALESCE(max(seq), 0) FROM audit_events").Scan(&db.AuditHeadSeq); err != nil {
			return fmt.Errorf("read audit head: %w", pg.Translate(err))
		}
	}
	db.Managed, db.DumpProgram = o.Managed, prog.version

	conninfo, password, err := libpqConn(o.Pool.Config().ConnString())
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, prog.path, "--format=custom", "--no-password", "--snapshot="+snapshot,
		"--file="+path, "--dbname="+conninfo)
	cmd.Env = programEnv(password)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pg_dump: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return tx.Commit(ctx)
}

func addEntry(tw *tar.Writer, name string, size int64, r io.Reader, mod time.Time) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: mod, Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
		return fmt.Errorf("write archive entry %s: %w", name, err)
	}
	if n, err := io.Copy(tw, r); err != nil || n != size {
		return fmt.Errorf("write archive entry %s: %d of %d bytes: %v", name, n, size, err)
	}
	return nil
}

func hashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", fmt.Errorf("hash %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("hash %s: %w", path, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
