package backup

import (
	"archive/tar"
	"bufio"
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

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/openwatch/openwatch/internal/pg"
)

// maxManifest bounds the manifest entry read into memory.
const maxManifest = 1 << 20

// maxKeyFile bounds a key file read into memory.
const maxKeyFile = 16 << 20

// Verify reads the whole archive at path and checks it: the manifest first, then every
// entry's size and SHA-256 against it, with no entry missing or unnamed. It also refuses
// an archive whose schema is newer than this binary's (known). It changes nothing.
func Verify(path string, known pg.SchemaVersion) (Manifest, error) {
	var m Manifest
	err := walk(path, func(m2 Manifest) error {
		m = m2
		if m.SchemaVersion.NewerThan(known) {
			return fmt.Errorf("the backup's database is at %s, newer than this binary knows (%s): restore it with OpenWatch %s or newer",
				m.SchemaVersion, known, m.OpenWatchVersion)
		}
		return nil
	}, func(File, io.Reader) error { return nil })
	if err != nil {
		return Manifest{}, err
	}
	return m, nil
}

// walk reads the archive, calls manifestFn with the manifest and then entryFn with each
// entry's content; every entry is checked against the manifest as it is read (after
// entryFn has consumed what it wanted) and the manifest's entries must all be present.
func walk(path string, manifestFn func(Manifest) error, entryFn func(File, io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open backup: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return corrupt(err)
		}
		defer zr.Close()
		r = zr
	}
	tr := tar.NewReader(r)
	hdr, err := tr.Next()
	if err != nil {
		return corrupt(fmt.Errorf("no manifest: %w", err))
	}
	if hdr.Name != ManifestName {
		return corrupt(fmt.Errorf("the first entry is %s, not %s", hdr.Name, ManifestName))
	}
	raw, err := io.ReadAll(io.LimitReader(tr, maxManifest+1))
	if err != nil {
		return corrupt(err)
	}
	if len(raw) > maxManifest {
		return corrupt(errors.New("manifest too large"))
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return corrupt(fmt.Errorf("manifest: %w", err))
	}
	if err := m.validate(); err != nil {
		return corrupt(err)
	}
	if err := manifestFn(m); err != nil {
		return err
	}
	byName := map[string]File{}
	for _, file := range m.Files {
		byName[file.Name] = file
	}
	seen := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return corrupt(err)
		}
		file, ok := byName[hdr.Name]
		if !ok || seen[hdr.Name] {
			return corrupt(fmt.Errorf("entry %s is not in the manifest (or twice in the archive)", hdr.Name))
		}
		seen[hdr.Name] = true
		if hdr.Typeflag != tar.TypeReg || hdr.Size != file.Size {
			return corrupt(fmt.Errorf("entry %s: %d bytes, the manifest says %d", hdr.Name, hdr.Size, file.Size))
		}
		h := sha256.New()
		body := io.TeeReader(tr, h)
		if err := entryFn(file, body); err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, body); err != nil {
			return corrupt(fmt.Errorf("entry %s: %w", hdr.Name, err))
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != file.SHA256 {
			return corrupt(fmt.Errorf("entry %s: SHA-256 %s, the manifest says %s", hdr.Name, got, file.SHA256))
		}
	}
	for _, file := range m.Files {
		if !seen[file.Name] {
			return corrupt(fmt.Errorf("entry %s is missing", file.Name))
		}
	}
	return nil
}

// ErrCorrupt is wrapped by every error about an archive that does not match its manifest.
var ErrCorrupt = errors.New("the backup archive is damaged")

func corrupt(err error) error { return fmt.Errorf("%w: %w", ErrCorrupt, err) }

// RestoreOptions are the inputs of Restore.
type RestoreOptions struct {
	// Archive is the backup's file name.
	Archive string
	// Pool is the database restored into; its connection string is given to pg_restore.
	Pool *pgxpool.Pool
	// Managed and BinDir choose pg_restore as CreateOptions chooses pg_dump.
	Managed bool
	BinDir  string
	// Files says where the configuration keeps each key file (KeyFiles).
	Files []KeyFile
	// Force restores over a database holding tables (dropping every schema in it first)
	// and over key files with other content.
	Force bool
	// Known is the newest schema this binary knows (pg.KnownSchemaVersion).
	Known pg.SchemaVersion
}

// RestoreResult says what Restore did.
type RestoreResult struct {
	Manifest Manifest
	// Written are the key files written, Skipped the roles the configuration has no
	// place for (a configured TLS pair has no CA key, say).
	Written []string
	Skipped []string
}

// ErrNotEmpty is returned when the target database or a key file already holds data and
// the restore is not forced.
var ErrNotEmpty = errors.New("restore target not empty")

// ErrInUse is returned when other sessions (a running serve or worker) use the target
// database: a restore is done with every OpenWatch process stopped.
var ErrInUse = errors.New("restore target in use")

// Restore verifies the archive completely (Verify), refuses a non-empty target unless
// forced, restores the dump with pg_restore in one transaction and writes the key files
// (mode 0600) where the configuration keeps them. The caller migrates the schema forward
// afterwards.
func Restore(ctx context.Context, o RestoreOptions) (RestoreResult, error) {
	m, err := Verify(o.Archive, o.Known)
	if err != nil {
		return RestoreResult{}, err
	}
	res := RestoreResult{Manifest: m}
	dest := map[string]string{}
	for _, kf := range o.Files {
		dest[kf.Role] = kf.Path
	}
	// Check every target before changing any.
	for _, file := range m.Files {
		if file.Role == RoleDatabase {
			continue
		}
		path := dest[file.Role]
		if path == "" {
			res.Skipped = append(res.Skipped, file.Role)
			continue
		}
		if o.Force {
			continue
		}
		size, sum, err := hashFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return res, err
		}
		if size != file.Size || sum != file.SHA256 {
			return res, fmt.Errorf("%w: %s exists with other content (pass --force to replace it)", ErrNotEmpty, path)
		}
	}
	prog, err := findProgram(ctx, "pg_restore", o.BinDir, o.Managed)
	if err != nil {
		return res, err
	}
	if err := prepareDatabase(ctx, o.Pool, o.Force); err != nil {
		return res, err
	}

	conninfo, password, err := libpqConn(o.Pool.Config().ConnString())
	if err != nil {
		return res, err
	}
	keys := map[string][]byte{}
	err = walk(o.Archive, func(Manifest) error { return nil }, func(file File, r io.Reader) error {
		if file.Role != RoleDatabase {
			data, err := io.ReadAll(io.LimitReader(r, maxKeyFile))
			keys[file.Role] = data
			return err
		}
		// The dump streams into pg_restore and is hashed again as it goes. Only an
		// archive changed on disk since the first pass could fail that check after
		// pg_restore committed; the key files are then not written and the error says so.
		cmd := exec.CommandContext(ctx, prog.path, "--no-password", "--no-owner", "--no-privileges",
			"--single-transaction", "--exit-on-error", "--dbname="+conninfo)
		cmd.Env = programEnv(password)
		cmd.Stdin = r
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			msg := strings.TrimSpace(out.String())
			if strings.Contains(msg, "unsupported version") {
				msg += fmt.Sprintf(" (the dump was written by %s; this %s is older)", m.Database.DumpProgram, prog.version)
			}
			return fmt.Errorf("pg_restore: %w: %s", err, msg)
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	for _, file := range m.Files {
		path := dest[file.Role]
		if file.Role == RoleDatabase || path == "" {
			continue
		}
		if err := writeKeyFile(path, keys[file.Role]); err != nil {
			return res, err
		}
		res.Written = append(res.Written, path)
	}
	return res, nil
}

// prepareDatabase refuses a database that holds tables, or with force empties it: every
// schema but the system ones is dropped and public made again.
func prepareDatabase(ctx context.Context, pool *pgxpool.Pool, force bool) error {
	var relations int
	err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
		AND n.nspname NOT LIKE 'pg\_temp\_%'`).Scan(&relations)
	if err != nil {
		return fmt.Errorf("inspect target database: %w", pg.Translate(err))
	}
	// Another process using the database (a serve or worker still running) would see its
	// tables vanish under it: every session but this pool's must be gone.
	var sessions int
	err = pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND backend_type = 'client backend'`).Scan(&sessions)
	if err != nil {
		return fmt.Errorf("inspect target database: %w", pg.Translate(err))
	}
	if others := sessions - int(pool.Stat().TotalConns()); others > 0 {
		return fmt.Errorf("%w: %d other sessions are connected to the target database; stop every serve and worker using it first", ErrInUse, others)
	}
	if relations == 0 {
		return nil
	}
	if !force {
		return fmt.Errorf("%w: the database holds %d tables, sequences or other relations (pass --force to drop everything in it first)", ErrNotEmpty, relations)
	}
	return pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema')
			AND nspname NOT LIKE 'pg\_toast%' AND nspname NOT LIKE 'pg\_temp\_%'`)
		if err != nil {
			return err
		}
		schemas, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, s := range schemas {
			if _, err := tx.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{s}.Sanitize()+" CASCADE"); err != nil {
				return fmt.Errorf("drop schema %s: %w", s, err)
			}
		}
		if _, err := tx.Exec(ctx, "CREATE SCHEMA public"); err != nil {
			return fmt.Errorf("create schema public: %w", err)
		}
		return nil
	})
}

// writeKeyFile writes data to path atomically with mode 0600, creating its directory
// (0700) when missing.
func writeKeyFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".restore-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
