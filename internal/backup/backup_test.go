package backup_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/authz"
	"github.com/openwatch/openwatch/internal/backup"
	"github.com/openwatch/openwatch/internal/config"
	"github.com/openwatch/openwatch/internal/credential"
	"github.com/openwatch/openwatch/internal/pg"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
	"github.com/openwatch/openwatch/internal/report"
	"github.com/openwatch/openwatch/internal/seal"
	"github.com/openwatch/openwatch/internal/user"
)

// reachableDataDir returns a fresh data dir whose parents PostgreSQL's user can enter, so
// the managed cluster lives inside it (t.TempDir()'s parent is private to the test's user).
func reachableDataDir(t *testing.T) string {
	t.Helper()
	base, err := os.MkdirTemp("", "owbk")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	require.NoError(t, os.Chmod(base, 0o711))
	return filepath.Join(base, "data")
}

func call(env *apitest.Env, token, method, path string, body any) *apitest.Response {
	env.T.Helper()
	return env.Do(apitest.Request{Method: method, Path: path, Token: token, JSON: body})
}

// source is an application with data of every kind a backup must carry.
type source struct {
	env        *apitest.Env
	admin      apitest.Session
	bob        user.User
	totpSecret string
	credID     uuid.UUID
	report     api.Report
	reportJSON []byte
	auditCount int64
}

func newSource(t *testing.T) *source {
	t.Helper()
	ctx := context.Background()
	env := apitest.New(t)
	s := &source{env: env, admin: env.Admin()}
	var err error
	s.bob, err = env.App.Users.Create(ctx, nil, user.CreateInput{Username: "bob", Email: "bob@example.com",
		Password: "pw-bob-0123456789", Role: authz.RoleViewer})
	require.NoError(t, err)
	enrol, err := env.App.Auth.EnrollMFA(ctx, &authz.Principal{UserID: s.bob.ID, Username: "bob"})
	require.NoError(t, err)
	s.totpSecret = enrol.Secret

	res := call(env, s.admin.AccessToken, http.MethodPost, "credentials", map[string]any{"scope": "system", "name": "fleet",
		"username": "ops", "auth_method": "password", "password": "sealed-pw-0123"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var cred api.CredentialResponse
	res.Decode(t, &cred)
	s.credID = cred.Id

	res = call(env, s.admin.AccessToken, http.MethodPost, "reports:generate", map[string]any{"kind": "audit"})
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	res.Decode(t, &s.report)
	deadline := time.Now().Add(60 * time.Second)
	for s.report.Status == "queued" || s.report.Status == "running" {
		require.True(t, time.Now().Before(deadline), "the report is still %s", s.report.Status)
		time.Sleep(50 * time.Millisecond)
		res = call(env, s.admin.AccessToken, http.MethodGet, "reports/"+s.report.Id.String(), nil)
		require.Equal(t, http.StatusOK, res.Status)
		res.Decode(t, &s.report)
	}
	require.Equal(t, api.ReportStatus("completed"), s.report.Status)
	res = call(env, s.admin.AccessToken, http.MethodGet, "reports/"+s.report.Id.String()+"/export?format=json", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	s.reportJSON = res.Body

	require.NoError(t, env.App.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_events").Scan(&s.auditCount))
	require.Positive(t, s.auditCount)
	return s
}

func (s *source) backup(t *testing.T, gz bool) backup.Result {
	t.Helper()
	res, err := backup.Create(context.Background(), backup.CreateOptions{Pool: s.env.App.Pool, Files: backup.KeyFiles(s.env.App.Config),
		Output: t.TempDir() + "/", Gzip: gz})
	require.NoError(t, err)
	return res
}

func TestRoundTripOntoFreshDataDir(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := newSource(t)
	// Users are created (each with its audit event, in one transaction) while the backup
	// runs: the dump must hold whole transactions, up to the audit head in the manifest.
	stop, written := make(chan struct{}), make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				written <- n
				return
			default:
			}
			_, err := src.env.App.Users.Create(ctx, nil, user.CreateInput{Username: fmt.Sprintf("busy%d", n),
				Email: fmt.Sprintf("busy%d@example.com", n), Password: "pw-busy-0123456789", Role: authz.RoleViewer})
			if err != nil {
				t.Error(err)
				written <- n
				return
			}
			n++
		}
	}()
	res := src.backup(t, true)
	close(stop)
	busy := <-written
	t.Logf("%d users were created while the backup ran", busy)

	fi, err := os.Stat(res.Path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	require.True(t, strings.HasSuffix(res.Path, ".tar.gz"))
	require.Regexp(t, `openwatch-backup-\d{8}T\d{6}Z\.tar\.gz$`, res.Path)
	m := res.Manifest
	known, err := pg.KnownSchemaVersion()
	require.NoError(t, err)
	require.Equal(t, known, m.SchemaVersion)
	require.GreaterOrEqual(t, m.Database.AuditHeadSeq, src.auditCount)
	require.NotEmpty(t, m.Database.ServerVersion)
	require.False(t, m.Database.Managed)
	roles := map[string]string{}
	for _, f := range m.Files {
		roles[f.Role] = f.Source
	}
	require.Contains(t, roles, backup.RoleDatabase)
	require.Equal(t, src.env.App.Config.SecretsKeyPath(), roles[backup.RoleSecretsKey])
	require.Equal(t, src.env.App.Config.SigningKeyPath(), roles[backup.RoleJWTSigningKey])

	// Restore onto a fresh data dir with its own managed cluster, as `openwatch restore`.
	cfg := config.Default()
	cfg.Server.DataDir = reachableDataDir(t)
	require.NoError(t, os.MkdirAll(cfg.Server.DataDir, 0o711))
	db, err := app.OpenDatabase(ctx, cfg, nil)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close(context.Background()) })
	restored, err := backup.Restore(ctx, backup.RestoreOptions{Archive: res.Path, Pool: db.Pool, Managed: true,
		Files: backup.KeyFiles(cfg), Known: known})
	require.NoError(t, err)
	require.Contains(t, restored.Written, cfg.SecretsKeyPath())
	require.Contains(t, restored.Written, cfg.SigningKeyPath())
	for _, p := range restored.Written {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), p)
	}
	require.NoError(t, pg.Migrate(ctx, db.Pool))

	// The dump is one snapshot: it ends at the manifest's audit head, and every user
	// created during the backup came with its audit event.
	var maxSeq, busyUsers, busyEvents int64
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT (SELECT max(seq) FROM audit_events),
		(SELECT count(*) FROM users WHERE username LIKE 'busy%'),
		(SELECT count(*) FROM audit_events WHERE action = 'user.created' AND resource_id IN
			(SELECT id::text FROM users WHERE username LIKE 'busy%'))`).Scan(&maxSeq, &busyUsers, &busyEvents))
	require.Equal(t, m.Database.AuditHeadSeq, maxSeq)
	require.Equal(t, busyUsers, busyEvents)

	// The server on the restored data dir.
	env := apitest.New(t, func(d *app.Deps) { d.Pool, d.Config.Server.DataDir = db.Pool, cfg.Server.DataDir })

	// The audit chain verifies, through the API with a token the old server signed.
	r := call(env, src.admin.AccessToken, http.MethodPost, "audit/integrity:verify", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	var verdict api.AuditIntegrityResult
	r.Decode(t, &verdict)
	require.True(t, verdict.Ok, "%s", r.Body)
	require.GreaterOrEqual(t, verdict.Checked, src.auditCount)

	// Users sign in with their passwords.
	env.Login("admin", "pw-admin-0123456789")

	// A sealed credential secret opens with the restored secrets key.
	keyring, err := seal.LoadOrCreate(cfg.SecretsKeyPath())
	require.NoError(t, err)
	secret, err := credential.NewService(db.Pool, keyring, env.App.Audit, time.Now).Secret(ctx, src.credID)
	require.NoError(t, err)
	require.Equal(t, "sealed-pw-0123", secret.Password)

	// The sealed TOTP seed opens: a code confirms bob's enrolment.
	code, err := totp.GenerateCode(src.totpSecret, time.Now())
	require.NoError(t, err)
	codes, err := env.App.Auth.VerifyMFA(ctx, &authz.Principal{UserID: src.bob.ID, Username: "bob"}, "127.0.0.1", code)
	require.NoError(t, err)
	require.NotEmpty(t, codes)

	// The report exported before the backup verifies against the restored server's keys,
	// and the restored server exports the same bytes.
	r = call(env, src.admin.AccessToken, http.MethodGet, "reports/signing-key", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	trusted, err := report.ParseTrustedKeys(r.Body)
	require.NoError(t, err)
	v, err := report.Verify(src.reportJSON, trusted)
	require.NoError(t, err)
	require.True(t, v.Trusted)
	r = call(env, src.admin.AccessToken, http.MethodGet, "reports/"+src.report.Id.String()+"/export?format=json", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	require.Equal(t, src.reportJSON, r.Body)
}

// rewrite copies the archive at path with fn applied to its manifest and entries.
func rewrite(t *testing.T, path string, fn func(m *backup.Manifest, entries map[string][]byte)) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	tr := tar.NewReader(f)
	var m backup.Manifest
	entries := map[string][]byte{}
	var order []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		if hdr.Name == backup.ManifestName {
			require.NoError(t, json.Unmarshal(data, &m))
			continue
		}
		entries[hdr.Name] = data
		order = append(order, hdr.Name)
	}
	fn(&m, entries)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	raw, err := json.Marshal(m)
	require.NoError(t, err)
	put := func(name string, data []byte) {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(data)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(data)
		require.NoError(t, err)
	}
	put(backup.ManifestName, raw)
	for _, name := range order {
		if data, ok := entries[name]; ok {
			put(name, data)
			delete(entries, name)
		}
	}
	for name, data := range entries { // entries fn added
		put(name, data)
	}
	require.NoError(t, tw.Close())
	out := filepath.Join(t.TempDir(), "rewritten.tar")
	require.NoError(t, os.WriteFile(out, buf.Bytes(), 0o600))
	return out
}

// emptyDatabase returns a pool on a database without any table.
func emptyDatabase(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := pgtest.NewPool(t)
	_, err := pool.Exec(context.Background(), "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
	require.NoError(t, err)
	return pool
}

func tableCount(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(),
		"SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n))
	return n
}

func TestRestoreRefusals(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	src := newSource(t)
	res := src.backup(t, false)
	require.True(t, strings.HasSuffix(res.Path, ".tar"))
	known, err := pg.KnownSchemaVersion()
	require.NoError(t, err)
	cfg := config.Default()
	cfg.Server.DataDir = t.TempDir()
	files := backup.KeyFiles(cfg)

	t.Run("corrupted archive refused before anything changes", func(t *testing.T) {
		data, err := os.ReadFile(res.Path)
		require.NoError(t, err)
		// Flip one byte in the middle of the dump entry (after the manifest).
		i := bytes.Index(data, []byte("PGDMP"))
		require.Positive(t, i)
		data[i+len(data[i:])/2] ^= 0x01
		bad := filepath.Join(t.TempDir(), "bad.tar")
		require.NoError(t, os.WriteFile(bad, data, 0o600))
		pool := emptyDatabase(t)
		_, err = backup.Restore(ctx, backup.RestoreOptions{Archive: bad, Pool: pool, Files: files, Known: known})
		require.ErrorIs(t, err, backup.ErrCorrupt)
		require.Contains(t, err.Error(), "database.dump")
		require.Zero(t, tableCount(t, pool))
		require.NoFileExists(t, cfg.SecretsKeyPath())

		// A file swapped together with its size still fails on the checksum.
		swapped := rewrite(t, res.Path, func(m *backup.Manifest, e map[string][]byte) {
			e["keys/secrets.key"] = bytes.Repeat([]byte("x"), len(e["keys/secrets.key"]))
		})
		_, err = backup.Verify(swapped, known)
		require.ErrorIs(t, err, backup.ErrCorrupt)
		require.Contains(t, err.Error(), "keys/secrets.key")

		// An entry the manifest does not name, or one missing, is refused as well.
		extra := rewrite(t, res.Path, func(m *backup.Manifest, e map[string][]byte) { e["tls/ca.key"] = []byte("?") })
		_, err = backup.Verify(extra, known)
		require.ErrorIs(t, err, backup.ErrCorrupt)
		missing := rewrite(t, res.Path, func(m *backup.Manifest, e map[string][]byte) { delete(e, "keys/jwt-signing.jwk") })
		_, err = backup.Verify(missing, known)
		require.ErrorIs(t, err, backup.ErrCorrupt)
	})

	t.Run("newer schema refused", func(t *testing.T) {
		newer := rewrite(t, res.Path, func(m *backup.Manifest, _ map[string][]byte) { m.SchemaVersion.Schema = known.Schema + 1 })
		pool := emptyDatabase(t)
		_, err := backup.Restore(ctx, backup.RestoreOptions{Archive: newer, Pool: pool, Files: files, Known: known})
		require.ErrorContains(t, err, "newer than this binary knows")
		require.Zero(t, tableCount(t, pool))
		require.NoFileExists(t, cfg.SecretsKeyPath())
	})

	t.Run("non-empty database refused without force", func(t *testing.T) {
		pool := pgtest.NewPool(t) // migrated, so it holds tables
		var users int
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&users))
		require.Zero(t, users)
		_, err := backup.Restore(ctx, backup.RestoreOptions{Archive: res.Path, Pool: pool, Files: files, Known: known})
		require.ErrorIs(t, err, backup.ErrNotEmpty)
		require.NoFileExists(t, cfg.SecretsKeyPath())

		// A key file with other content is refused too, even over an empty database.
		other := config.Default()
		other.Server.DataDir = t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Dir(other.SecretsKeyPath()), 0o700))
		require.NoError(t, os.WriteFile(other.SecretsKeyPath(), []byte("another key"), 0o600))
		empty := emptyDatabase(t)
		_, err = backup.Restore(ctx, backup.RestoreOptions{Archive: res.Path, Pool: empty, Files: backup.KeyFiles(other), Known: known})
		require.ErrorIs(t, err, backup.ErrNotEmpty)
		require.Zero(t, tableCount(t, empty))

		// Not while another process (a serve or worker still running) uses the database.
		other2, err := pgxpool.New(ctx, pool.Config().ConnString())
		require.NoError(t, err)
		require.NoError(t, other2.Ping(ctx))
		_, err = backup.Restore(ctx, backup.RestoreOptions{Archive: res.Path, Pool: pool, Files: files, Known: known, Force: true})
		require.ErrorIs(t, err, backup.ErrInUse)
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&users))
		require.Zero(t, users)
		other2.Close()

		// --force replaces the database's content.
		_, err = backup.Restore(ctx, backup.RestoreOptions{Archive: res.Path, Pool: pool, Files: files, Known: known, Force: true})
		require.NoError(t, err)
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM users").Scan(&users))
		require.Equal(t, 2, users)
		sum := sha256.Sum256(mustRead(t, src.env.App.Config.SecretsKeyPath()))
		require.Equal(t, hex.EncodeToString(sum[:]), fileSum(t, cfg.SecretsKeyPath()))
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

func fileSum(t *testing.T, path string) string {
	sum := sha256.Sum256(mustRead(t, path))
	return hex.EncodeToString(sum[:])
}

// TestBackupNamesAMissingOrOldPgDump: pg_dump must exist and be at least the server's
// major version; the error says what to install, and nothing is left behind.
func TestBackupNamesAMissingOrOldPgDump(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	cfg := config.Default()
	cfg.Server.DataDir = t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Dir(cfg.SecretsKeyPath()), 0o700))
	require.NoError(t, os.WriteFile(cfg.SecretsKeyPath(), []byte("key"), 0o600))
	out := t.TempDir()

	_, err := backup.Create(ctx, backup.CreateOptions{Pool: pool, Files: backup.KeyFiles(cfg), Output: out, BinDir: t.TempDir()})
	require.ErrorContains(t, err, "pg_dump not found")

	old := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(old, "pg_dump"), []byte("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n"), 0o755))
	_, err = backup.Create(ctx, backup.CreateOptions{Pool: pool, Files: backup.KeyFiles(cfg), Output: out, BinDir: old})
	require.ErrorContains(t, err, "pg_dump (PostgreSQL) 9.6.24 is older than the database server")
	entries, err := os.ReadDir(out)
	require.NoError(t, err)
	require.Empty(t, entries, "a failed backup leaves nothing behind")

	// Without the secrets key a backup would be useless: it is refused.
	require.NoError(t, os.Remove(cfg.SecretsKeyPath()))
	_, err = backup.Create(ctx, backup.CreateOptions{Pool: pool, Files: backup.KeyFiles(cfg), Output: out})
	require.ErrorContains(t, err, "secrets_key")
}
