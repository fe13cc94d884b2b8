// Package typescript_test builds the TypeScript client package with tsc and runs its test
// (node:test) against the real application, so the package is tested by `make test`.
package typescript_test

import (
	"encoding/pem"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/authz"
)

// TestTypeScriptClient compiles the package (with the web UI's installed TypeScript and
// openapi-fetch: `make web-deps`) into a temporary directory and runs its node:test file
// against the application behind TLS, trusted through NODE_EXTRA_CA_CERTS.
func TestTypeScriptClient(t *testing.T) {
	t.Parallel()
	pkg, err := filepath.Abs(".")
	require.NoError(t, err)
	modules := filepath.Join(pkg, "..", "node_modules")
	tsc := filepath.Join(modules, "typescript", "bin", "tsc")
	_, err = os.Stat(tsc)
	require.NoError(t, err, "the web UI's node modules are missing: run 'make web-deps'")

	dir := t.TempDir()
	require.NoError(t, os.CopyFS(filepath.Join(dir, "src"), os.DirFS(filepath.Join(pkg, "src"))))
	for _, f := range []string{"package.json", "tsconfig.json"} {
		b, err := os.ReadFile(filepath.Join(pkg, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	require.NoError(t, os.Symlink(modules, filepath.Join(dir, "node_modules")))
	build := exec.Command("node", tsc, "-p", filepath.Join(dir, "tsconfig.json"))
	out, err := build.CombinedOutput()
	require.NoError(t, err, "tsc: %s", out)
	for _, f := range []string{"index.js", "index.d.ts", "client.test.js"} {
		require.FileExists(t, filepath.Join(dir, "dist", f))
	}

	env := apitest.New(t)
	pw := env.CreateUser("ops", authz.RoleAdmin)
	srv := httptest.NewTLSServer(env.App.Handler())
	t.Cleanup(srv.Close)
	ca := filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))

	run := exec.Command("node", "--test", "--test-reporter=spec", filepath.Join(dir, "dist", "client.test.js"))
	run.Dir = dir
	run.Env = append(os.Environ(), "OPENWATCH_URL="+srv.URL, "OPENWATCH_USERNAME=ops", "OPENWATCH_PASSWORD="+pw, "NODE_EXTRA_CA_CERTS="+ca)
	out, err = run.CombinedOutput()
	t.Logf("node --test:\n%s", out)
	require.NoError(t, err)
	require.Contains(t, string(out), "pass 2")
	require.Contains(t, string(out), "fail 0")
}
