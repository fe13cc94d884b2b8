package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/pg/cluster"
	"github.com/openwatch/openwatch/internal/pg/pgtest"
)

// allowedNetworksVar is the environment variable of ssh.allowed_networks.
const allowedNetworksVar = "OPENWATCH_SSH_ALLOWED_NETWORKS"

type result struct {
	code           int
	stdout, stderr string
}

func runWith(t *testing.T, spec []byte, stdin string, vars map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	// The commands may contact nothing but this machine unless a test says otherwise.
	vars = maps.Clone(vars)
	if vars == nil {
		vars = map[string]string{}
	}
	if _, ok := vars[allowedNetworksVar]; !ok {
		vars[allowedNetworksVar] = "127.0.0.0/8,::1/128"
	}
	environ := []string{}
	for k, v := range vars {
		environ = append(environ, k+"="+v)
	}
	e := env{
		getenv:  func(k string) string { return vars[k] },
		environ: environ,
		stdin:   strings.NewReader(stdin),
		stdout:  &out,
		stderr:  &errb,
		spec:    spec,
	}
	code := run(context.Background(), args, e)
	return result{code, out.String(), errb.String()}
}

// mutateSpec returns the embedded spec with fn applied to the operation at path/method.
func mutateSpec(t *testing.T, path, method string, fn func(op map[string]any)) []byte {
	var doc map[string]any
	require.NoError(t, json.Unmarshal(api.SpecJSON, &doc))
	op := doc["paths"].(map[string]any)[path].(map[string]any)[method].(map[string]any)
	fn(op)
	out, err := json.Marshal(doc)
	require.NoError(t, err)
	return out
}

func TestServeRefusesOperationWithoutPermission(t *testing.T) {
	spec := mutateSpec(t, "/auth/me", "get", func(op map[string]any) { delete(op, "x-required-permission") })
	dataDir := t.TempDir()
	r := runWith(t, spec, "", map[string]string{"OPENWATCH_SERVER_DATA_DIR": dataDir}, "serve")
	require.NotEqual(t, 0, r.code)
	require.Contains(t, r.stderr, `operationId "getMe"`)
	require.Contains(t, r.stderr, "neither x-required-permission nor the anonymous marker")
	// The document is checked first: no managed database was set up for nothing.
	require.NoFileExists(t, filepath.Join(dataDir, cluster.LocationFile))
	require.NoDirExists(t, filepath.Join(dataDir, "pg"))
}

func TestServeRefusesUnknownPermission(t *testing.T) {
	spec := mutateSpec(t, "/users", "post", func(op map[string]any) { op["x-required-permission"] = "user:fly" })
	r := runWith(t, spec, "", map[string]string{"OPENWATCH_SERVER_DATA_DIR": t.TempDir()}, "serve")
	require.NotEqual(t, 0, r.code)
	require.Contains(t, r.stderr, `"user:fly", which is not in the permission catalogue`)
}

func TestServeRefusesAnonymousWithoutEmptySecurity(t *testing.T) {
	spec := mutateSpec(t, "/health", "get", func(op map[string]any) { delete(op, "security") })
	r := runWith(t, spec, "", map[string]string{"OPENWATCH_SERVER_DATA_DIR": t.TempDir()}, "serve")
	require.NotEqual(t, 0, r.code)
	require.Contains(t, r.stderr, `operationId "getHealth"`)
}

func TestCheckConfig(t *testing.T) {
	r := runWith(t, api.SpecJSON, "", map[string]string{
		"OPENWATCH_DATABASE_DSN":  "postgres://ow:s3cret-pass@db.internal:5432/openwatch",
		"OPENWATCH_SERVER_LISTEN": "127.0.0.1:9443",
	}, "check-config")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, `listen = "127.0.0.1:9443"`)
	require.Contains(t, r.stdout, "db.internal")
	require.NotContains(t, r.stdout, "s3cret-pass", "secrets are redacted")

	r = runWith(t, api.SpecJSON, "", map[string]string{"OPENWATCH_LOGGING_LEVEL": "loud"}, "check-config")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "logging.level")
}

func TestVersionAndHelp(t *testing.T) {
	r := runWith(t, api.SpecJSON, "", nil, "version")
	require.Equal(t, 0, r.code)
	require.Contains(t, r.stdout, "openwatch ")
	r = runWith(t, api.SpecJSON, "", nil, "--help")
	require.Equal(t, 0, r.code)
	for _, c := range []string{"serve", "worker", "migrate", "create-admin", "check-config", "version"} {
		require.Contains(t, r.stdout, c)
	}
	r = runWith(t, api.SpecJSON, "", nil, "worker", "--help")
	require.Equal(t, 0, r.code)
	require.Contains(t, r.stderr, "no HTTP listener")
	r = runWith(t, api.SpecJSON, "", nil, "frobnicate")
	require.Equal(t, 2, r.code)
}

func TestMigrateAndCreateAdmin(t *testing.T) {
	vars := map[string]string{"OPENWATCH_DATABASE_DSN": pgtest.NewDSN(t), "OPENWATCH_SERVER_DATA_DIR": t.TempDir()}
	r := runWith(t, api.SpecJSON, "", vars, "migrate")
	require.Equal(t, 0, r.code, r.stderr)
	r = runWith(t, api.SpecJSON, "", vars, "migrate", "--status")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "foundation")

	r = runWith(t, api.SpecJSON, "a-strong-password-1\n", vars, "create-admin", "--username", "root2", "--email", "root2@example.com")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "created admin root2")
	r = runWith(t, api.SpecJSON, "", vars, "create-admin", "--username", "root2", "--email", "root2@example.com", "--password", "another-password")
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "already exists")
	r = runWith(t, api.SpecJSON, "", vars, "create-admin", "--email", "x@example.com")
	require.Equal(t, 2, r.code)
}

func TestDevSeed(t *testing.T) {
	vars := map[string]string{"OPENWATCH_DATABASE_DSN": pgtest.NewDSN(t), "OPENWATCH_SERVER_DATA_DIR": t.TempDir()}
	r := runWith(t, api.SpecJSON, "", vars, "dev", "seed", "--hosts", "2000")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "seeded 2000 hosts in 20 groups")
	r = runWith(t, api.SpecJSON, "", vars, "dev", "seed", "--hosts", "10")
	require.Equal(t, 0, r.code, "seeding twice does not collide: %s", r.stderr)

	// Every seeded host is on this machine, on a port nothing listens on.
	pool, err := pgxpool.New(context.Background(), vars["OPENWATCH_DATABASE_DSN"])
	require.NoError(t, err)
	defer pool.Close()
	var outside, total int
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT count(*) FILTER (WHERE NOT ip_address << '127.0.0.0/8' OR port <> 1), count(*) FROM hosts`).Scan(&outside, &total))
	require.Equal(t, 2010, total)
	require.Zero(t, outside)
}

func TestRekeyRoundTrip(t *testing.T) {
	vars := map[string]string{"OPENWATCH_DATABASE_DSN": pgtest.NewDSN(t), "OPENWATCH_SERVER_DATA_DIR": t.TempDir()}
	r := runWith(t, api.SpecJSON, "", vars, "create-admin", "--username", "first", "--email", "f@example.com", "--password", "first-password-1")
	require.Equal(t, 0, r.code, r.stderr)
	r = runWith(t, api.SpecJSON, "", vars, "rekey")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "re-sealed 1 secrets", "the audit key")
	r = runWith(t, api.SpecJSON, "", vars, "create-admin", "--username", "second", "--email", "s@example.com", "--password", "second-password-1")
	require.Equal(t, 0, r.code, "the audit key opens under the new key: %s", r.stderr)
}

// TestFeedsImport imports an OSV record file from the command line, twice: the second
// import finds it unchanged; a missing path or a bad usage fails.
func TestFeedsImport(t *testing.T) {
	vars := map[string]string{"OPENWATCH_DATABASE_DSN": pgtest.NewDSN(t), "OPENWATCH_SERVER_DATA_DIR": t.TempDir()}
	dir := t.TempDir()
	rec := `{"schema_version":"1.6.0","id":"DSA-9999-1","modified":"2026-01-02T03:04:05Z","summary":"test",
"affected":[{"package":{"ecosystem":"Debian:12","name":"openssl"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0.99-1"}]}]}]}`
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "feed", "debian"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "feed", "debian", "DSA-9999-1.json"), []byte(rec), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "feed", "bad.json"), []byte(`{"id":"DSA-1"}`), 0o600))
	r := runWith(t, api.SpecJSON, "", vars, "feeds", "import", filepath.Join(dir, "feed"), "--source", "debian")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "imported debian: 1 added, 0 updated, 0 unchanged, 0 withdrawn, 1 rejected")
	require.Contains(t, r.stdout, "rejected bad.json DSA-1: modified")
	r = runWith(t, api.SpecJSON, "", vars, "feeds", "import", filepath.Join(dir, "feed"), "--source", "debian")
	require.Equal(t, 0, r.code, r.stderr)
	require.Contains(t, r.stdout, "0 added, 0 updated, 1 unchanged")
	r = runWith(t, api.SpecJSON, "", vars, "feeds", "import", filepath.Join(dir, "missing"))
	require.Equal(t, 1, r.code)
	r = runWith(t, api.SpecJSON, "", vars, "feeds")
	require.Equal(t, 2, r.code)
}
