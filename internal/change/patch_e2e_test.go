package change_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/change"
	"github.com/openwatch/openwatch/internal/change/patch/patchtest"
	"github.com/openwatch/openwatch/internal/sshx"
)

// healthCheck creates a command health check through the API.
func (f *fixture) healthCheck(name, command string) uuid.UUID {
	f.t.Helper()
	res := f.do(f.admin, http.MethodPost, "health-checks", map[string]any{"name": name, "kind": "command", "timeout_sec": 10,
		"command": map[string]any{"command": command}})
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
	var hc struct {
		ID uuid.UUID `json:"id"`
	}
	res.Decode(f.t, &hc)
	return hc.ID
}

// brokenHealth is the health check owtest-broken 1.1 breaks, run on the host.
type brokenHealth struct{ id uuid.UUID }

func (b brokenHealth) Checks(context.Context, []uuid.UUID) ([]change.HealthCheck, error) {
	return []change.HealthCheck{{ID: b.id, Name: "owtest-broken-status", Command: sshx.Command{Script: patchtest.BrokenStatus},
		Evaluate: func(r sshx.Result) (bool, string) { return r.OK(), fmt.Sprintf("exit status %d", r.ExitCode) }}}, nil
}

// TestPatchingInWaves patches three namespaced targets (real apt and dpkg, from a local
// repository) in two waves: upgrading everything brings owtest-broken 1.1, whose
// post-install breaks the health check, so the canary is rolled back to the captured
// versions and the rollout halts with its budget spent before wave 2; then upgrading only
// owtest-app reaches every host, and rolling that job back restores 1.0 everywhere.
func TestPatchingInWaves(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(d *app.Deps) { d.ChangePlanners, d.ChangeHealth = nil, nil })
	health := f.healthCheck("owtest-broken-status", patchtest.BrokenStatus)
	dpkgBefore, err := os.ReadFile("/var/lib/dpkg/status")
	require.NoError(t, err)
	t.Cleanup(func() {
		after, err := os.ReadFile("/var/lib/dpkg/status")
		require.NoError(t, err)
		require.Equal(t, string(dpkgBefore), string(after), "this machine's packages are untouched")
	})
	targets := patchtest.StartTargets(t, 3, 3, patchtest.Options{})
	names := []string{"canary", "wave2-a", "wave2-b"}
	ids := make([]uuid.UUID, 3)
	for i, tg := range targets {
		ids[i] = f.register(names[i], tg.Server)
	}
	create := func(patch map[string]any) api.ChangeJob {
		res := f.do(f.admin, http.MethodPost, "jobs", map[string]any{"host_ids": ids, "patch": patch,
			"waves": map[string]any{"canary": 1, "growth": 2}, "failure_budget": map[string]any{"max_failures": 1},
			"health_check_ids": []uuid.UUID{health}, "ignore_windows": true, "override_reason": "test targets"})
		require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
		var j api.ChangeJob
		res.Decode(t, &j)
		return j
	}

	j := create(map[string]any{"mode": "all"})
	j = f.waitJob(j.Id, status(api.ChangeJobStatusHalted, api.ChangeJobStatusCompleted, api.ChangeJobStatusFailed))
	require.Equal(t, api.ChangeJobStatusHalted, j.Status)
	require.Equal(t, 1, j.FailureBudget.Failures)
	require.Equal(t, 1, j.FailureBudget.Budget)
	hs := f.hosts(j.Id)
	require.Equal(t, api.ChangeHostStatusRolledBack, hs["canary"].Status, "%v", hs["canary"].Error)
	require.Equal(t, api.ChangeHostStatusPending, hs["wave2-a"].Status, "nothing reaches wave 2")
	require.Equal(t, api.ChangeHostStatusPending, hs["wave2-b"].Status)
	for i, tg := range targets {
		require.Equal(t, "1.0", tg.Version(patchtest.App), names[i])
		require.Equal(t, "1.0", tg.Version(patchtest.Broken), names[i])
		require.True(t, tg.Healthy(), names[i])
	}
	var applied, post, restored bool
	for _, st := range f.steps(j.Id, ids[0]) {
		switch {
		case st.Phase == api.ChangePhaseApply && st.Ok:
			applied = true
		case st.Phase == api.ChangePhasePostcheck && !st.Ok:
			post = true
		case st.Phase == api.ChangePhaseRollback && st.Ok:
			restored = true
		}
	}
	require.True(t, applied && post && restored, "the canary's steps show the upgrade, the failed post-check and the restore")
	res := f.do(f.admin, http.MethodPost, "jobs/"+j.Id.String()+":cancel", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)

	j = create(map[string]any{"mode": "packages", "packages": []map[string]any{{"name": patchtest.App, "op": "upgrade"}}})
	j = f.waitJob(j.Id, status(api.ChangeJobStatusHalted, api.ChangeJobStatusCompleted, api.ChangeJobStatusFailed))
	require.Equal(t, api.ChangeJobStatusCompleted, j.Status, "%+v", f.hosts(j.Id))
	require.Equal(t, []int{1, 2}, j.Waves.Sizes)
	for i, tg := range targets {
		require.Equal(t, "1.1", tg.Version(patchtest.App), names[i])
		require.Equal(t, "1.0", tg.Version(patchtest.Broken), names[i])
	}
	res = f.do(f.admin, http.MethodPost, "jobs/"+j.Id.String()+":rollback", map[string]any{"reason": "back to 1.0"})
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	j = f.waitJob(j.Id, status(api.ChangeJobStatusRolledBack, api.ChangeJobStatusFailed))
	require.Equal(t, api.ChangeJobStatusRolledBack, j.Status, "%+v", f.hosts(j.Id))
	for i, tg := range targets {
		require.Equal(t, "1.0", tg.Version(patchtest.App), names[i])
	}
	for _, h := range f.hosts(j.Id) {
		require.Equal(t, 3, h.Sessions, "%s: pre-checks and capture, apply and post-checks, restore and checks", h.HostName)
	}
}
