package change_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/change/patch/patchtest"
)

// TestPatchJobFromAdvisoryResolvesIt: a namespaced target with owtest-app 1.0 (real apt and
// dpkg, a local repository offering 1.1) is collected, an OSV record says 1.1 fixes
// owtest-app, the patch job created from its CVE upgrades the package, and the next
// inventory collection resolves the exposure: a second job from the CVE is a 409.
func TestPatchJobFromAdvisoryResolvesIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(d *app.Deps) { d.ChangePlanners, d.ChangeHealth = nil, nil })
	dpkgBefore, err := os.ReadFile("/var/lib/dpkg/status")
	require.NoError(t, err)
	t.Cleanup(func() {
		after, err := os.ReadFile("/var/lib/dpkg/status")
		require.NoError(t, err)
		require.Equal(t, string(dpkgBefore), string(after), "this machine's packages are untouched")
	})
	tg := patchtest.StartTargets(t, 1, 1, patchtest.Options{})[0]
	host := f.register("vuln-patch", tg.Server)
	collect := func() {
		t.Helper()
		for _, op := range []string{"discovery:run", "intelligence:collect"} {
			res := f.env.Do(apitest.Request{Method: http.MethodPost, Path: "hosts/" + host.String() + "/" + op, Token: f.admin.AccessToken,
				Headers: map[string]string{"Idempotency-Key": fmt.Sprintf("change-%d", idem.Add(1))}})
			require.Equal(t, http.StatusOK, res.Status, "%s: %s", op, res.Body)
		}
	}
	collect()
	require.Equal(t, "1.0", tg.Version(patchtest.App))

	record := map[string]any{"schema_version": "1.6.0", "id": "DSA-OWT-1", "modified": time.Now().UTC().Format(time.RFC3339),
		"aliases": []string{"CVE-2026-99001"}, "summary": "owtest-app: fixed in 1.1",
		"affected": []any{map[string]any{"package": map[string]any{"ecosystem": "Debian:12", "name": patchtest.App},
			"ranges": []any{map[string]any{"type": "ECOSYSTEM", "events": []any{map[string]any{"introduced": "0"}, map[string]any{"fixed": "1.1"}}}}}}}
	dir := t.TempDir()
	data, err := json.Marshal(record)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "DSA-OWT-1.json"), data, 0o600))
	imp, err := f.env.App.Vuln.ImportPath(context.Background(), nil, dir, "debian-test")
	require.NoError(t, err)
	require.Equal(t, "succeeded", imp.Import.Status)
	require.EqualValues(t, 1, imp.Import.ExposuresOpened)

	res := f.do(f.admin, http.MethodGet, "vulnerabilities/CVE-2026-99001/patch-plan", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var plan api.VulnerabilityPatchPlan
	res.Decode(t, &plan)
	require.Equal(t, []string{patchtest.App}, plan.Packages)
	require.Len(t, plan.Hosts, 1)
	require.Equal(t, "1.0", plan.Hosts[0].Packages[0].InstalledVersion)

	res = f.do(f.admin, http.MethodPost, "vulnerabilities/CVE-2026-99001:patch", map[string]any{"ignore_windows": true,
		"override_reason": "test target"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var j api.ChangeJob
	res.Decode(t, &j)
	j = f.waitJob(j.Id, status(api.ChangeJobStatusCompleted, api.ChangeJobStatusFailed, api.ChangeJobStatusHalted))
	require.Equal(t, api.ChangeJobStatusCompleted, j.Status, "%v", f.hosts(j.Id)["vuln-patch"].Error)
	require.Equal(t, "1.1", tg.Version(patchtest.App), "the fixed version is installed")
	require.Equal(t, "1.0", tg.Version(patchtest.Broken), "no other package changed")

	collect()
	res = f.do(f.admin, http.MethodGet, "vulnerabilities/DSA-OWT-1/hosts", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var hosts api.VulnerableHostPage
	res.Decode(t, &hosts)
	require.Empty(t, hosts.Items, "the next inventory collection resolves the exposure")
	res = f.do(f.admin, http.MethodPost, "vulnerabilities/CVE-2026-99001:patch", map[string]any{})
	require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
}
