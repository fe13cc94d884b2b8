package change_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	dbq "github.com/openwatch/openwatch/gen/db"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/change"
	"github.com/openwatch/openwatch/internal/sshx"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// markerPlanner plans, on every host, writing /etc/owtest-marker; on a host whose name
// starts with "broken" also creating /etc/owtest-broken, which the health check refuses.
type markerPlanner struct{}

func (markerPlanner) Probe(dbq.ChangeJob) []sshx.Command { return nil }

func (markerPlanner) Plan(_ context.Context, _ dbq.ChangeJob, h dbq.ChangeJobHost, _ sshx.BatchResult) (change.Planned, error) {
	p := change.Planned{Actions: []change.Action{fileAction("/etc/owtest-marker", "changed by the job\n")}}
	if strings.HasPrefix(h.HostName, "broken") {
		p.Actions = append(p.Actions, fileAction("/etc/owtest-broken", "broken\n"))
	}
	return p, nil
}

// fileAction writes content to path; its capture is the file's content in base64, or
// "absent".
func fileAction(path, content string) change.Action {
	q := change.Quote(path)
	return change.Action{Kind: "file_content", Summary: "write " + path, Target: path,
		Capture: fmt.Sprintf(`if [ -e %s ]; then printf 'present\n'; base64 %s; else echo absent; fi`, q, q),
		Preview: fmt.Sprintf(`echo "would write %s"`, path),
		Apply:   fmt.Sprintf(`printf '%%s' %s > %s`, change.Quote(content), q),
		Restore: fmt.Sprintf(`if [ "$(head -n1 "$OW_PRIOR")" = absent ]; then rm -f %s; else tail -n +2 "$OW_PRIOR" | base64 -d > %s; fi`, q, q)}
}

// fileHealth is one health check: /etc/owtest-broken does not exist.
type fileHealth struct{ id uuid.UUID }

func (f fileHealth) Checks(_ context.Context, ids []uuid.UUID) ([]change.HealthCheck, error) {
	out := []change.HealthCheck{}
	for _, id := range ids {
		if id != f.id {
			return nil, apperr.Invalid("health_check_ids", "There is no such health check.")
		}
		out = append(out, change.HealthCheck{ID: f.id, Name: "not broken",
			Command: sshx.Command{Script: "test ! -e /etc/owtest-broken"},
			Evaluate: func(r sshx.Result) (bool, string) {
				if r.OK() {
					return true, ""
				}
				return false, "/etc/owtest-broken exists"
			}})
	}
	return out, nil
}

type fixture struct {
	t      testing.TB
	env    *apitest.Env
	admin  apitest.Session
	health uuid.UUID
}

var idem atomic.Int64

func newFixture(t testing.TB, opts ...apitest.Option) *fixture {
	health := uuid.New()
	env := apitest.New(t, append([]apitest.Option{func(d *app.Deps) {
		d.ChangePlanners = map[string]change.Planner{change.KindPatch: markerPlanner{}}
		d.ChangeHealth = fileHealth{id: health}
	}}, opts...)...)
	return &fixture{t: t, env: env, admin: env.Admin(), health: health}
}

func (f *fixture) do(s apitest.Session, method, path string, body any) *apitest.Response {
	f.t.Helper()
	req := apitest.Request{Method: method, Path: path, Token: s.AccessToken, JSON: body}
	if method == http.MethodPost && body != nil {
		req.Headers = map[string]string{"Idempotency-Key": fmt.Sprintf("change-%d", idem.Add(1))}
	}
	return f.env.Do(req)
}

// target starts a namespaced sshd (its /etc an overlay) and registers it as a host.
func (f *fixture) target(name string) (uuid.UUID, *sshtest.Server) {
	f.t.Helper()
	srv := sshtest.Start(f.t, sshtest.Options{Overlay: []string{"/etc"}})
	return f.register(name, srv), srv
}

// register adds a running sshd as a host with a root key credential.
func (f *fixture) register(name string, srv *sshtest.Server) uuid.UUID {
	f.t.Helper()
	res := f.do(f.admin, http.MethodPost, "hosts", map[string]any{"hostname": name, "ip_address": srv.Host, "port": srv.Port})
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
	var h api.HostResponse
	res.Decode(f.t, &h)
	u := srv.User(sshtest.UserRoot)
	res = f.do(f.admin, http.MethodPost, "credentials", map[string]any{"scope": "host", "scope_id": h.Id, "name": "cred-" + name,
		"username": u.Name, "auth_method": "ssh_key", "private_key": string(u.PrivateKey)})
	require.Equal(f.t, http.StatusCreated, res.Status, "%s", res.Body)
	return h.Id
}

// exists reports whether path exists on the target (inside its overlay).
func exists(t testing.TB, srv *sshtest.Server, path string) bool {
	t.Helper()
	c := srv.Dial(t, sshtest.UserRoot)
	defer c.Close()
	res, err := c.Run(context.Background(), "test -e "+change.Quote(path))
	require.NoError(t, err)
	return res.ExitCode == 0
}

func (f *fixture) job(id uuid.UUID) api.ChangeJob { return f.getJob("jobs/" + id.String()) }

// getJob reads a patch job or a remediation request.
func (f *fixture) getJob(path string) api.ChangeJob {
	f.t.Helper()
	res := f.do(f.admin, http.MethodGet, path, nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var j api.ChangeJob
	res.Decode(f.t, &j)
	return j
}

// waitJob polls a patch job until done reports true.
func (f *fixture) waitJob(id uuid.UUID, done func(api.ChangeJob) bool) api.ChangeJob {
	f.t.Helper()
	return f.waitPath("jobs/"+id.String(), done)
}

// waitPath polls a patch job or a remediation request until done reports true.
func (f *fixture) waitPath(path string, done func(api.ChangeJob) bool) api.ChangeJob {
	f.t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		j := f.getJob(path)
		if done(j) {
			return j
		}
		require.True(f.t, time.Now().Before(deadline), "%s still %s: %+v", path, j.Status, j.Counts)
		time.Sleep(100 * time.Millisecond)
	}
}

func status(s ...api.ChangeJobStatus) func(api.ChangeJob) bool {
	return func(j api.ChangeJob) bool {
		for _, x := range s {
			if j.Status == x {
				return true
			}
		}
		return false
	}
}

func (f *fixture) hosts(id uuid.UUID) map[string]api.ChangeJobHost {
	f.t.Helper()
	res := f.do(f.admin, http.MethodGet, "jobs/"+id.String()+"/hosts", nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var l api.ChangeJobHostList
	res.Decode(f.t, &l)
	out := map[string]api.ChangeJobHost{}
	for _, h := range l.Items {
		out[h.HostName] = h
	}
	return out
}

func (f *fixture) steps(id uuid.UUID, host uuid.UUID) []api.ChangeStep {
	f.t.Helper()
	res := f.do(f.admin, http.MethodGet, "jobs/"+id.String()+"/steps?limit=1000&host_id="+host.String(), nil)
	require.Equal(f.t, http.StatusOK, res.Status, "%s", res.Body)
	var p api.ChangeStepPage
	res.Decode(f.t, &p)
	return p.Items
}

// TestWavesHealthAndRollback rolls a change out to three namespaced hosts in waves: the
// canary's change breaks the health check, so it is restored at once and the rollout halts
// with its budget spent before wave 2; a second rollout changes every host in two waves and
// its rollback restores them all.
func TestWavesHealthAndRollback(t *testing.T) {
	f := newFixture(t)
	canary, canarySrv := f.target("broken-canary")
	second, secondSrv := f.target("second")
	third, thirdSrv := f.target("third")
	ids := []uuid.UUID{canary, second, third}

	res := f.do(f.admin, http.MethodPost, "jobs", map[string]any{"host_ids": ids, "patch": map[string]any{"mode": "all"},
		"waves": map[string]any{"canary": 1, "growth": 2}, "failure_budget": map[string]any{"max_failures": 1},
		"health_check_ids": []uuid.UUID{f.health}, "ignore_windows": true, "override_reason": "test targets have no windows"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	var j api.ChangeJob
	res.Decode(t, &j)
	require.Equal(t, []int{1, 2}, j.Waves.Sizes)
	require.Equal(t, api.ChangeJobStatusRunning, j.Status)
	require.Equal(t, []string{"broken-canary", "second", "third"}, j.HostNames)

	j = f.waitJob(j.Id, status(api.ChangeJobStatusHalted))
	require.Equal(t, 1, j.FailureBudget.Failures)
	require.Contains(t, *j.HaltReason, "failure budget")
	res = f.do(f.admin, http.MethodGet, "alerts?state=active", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	require.Contains(t, string(res.Body), `"alert_type":"rollout_halted"`, "a halted rollout raises an alert")
	hs := f.hosts(j.Id)
	require.Equal(t, api.ChangeHostStatusRolledBack, hs["broken-canary"].Status, "%v", hs["broken-canary"].Error)
	require.Contains(t, *hs["broken-canary"].Error, "Post-check")
	require.Equal(t, api.ChangeHostStatusPending, hs["second"].Status, "nothing reaches wave 2")
	require.Equal(t, api.ChangeHostStatusPending, hs["third"].Status)
	require.False(t, exists(t, canarySrv, "/etc/owtest-marker"), "the canary's change was restored")
	require.False(t, exists(t, canarySrv, "/etc/owtest-broken"))
	require.False(t, exists(t, secondSrv, "/etc/owtest-marker"))
	phases := map[api.ChangePhase]int{}
	var last time.Time
	for _, st := range f.steps(j.Id, canary) {
		phases[st.Phase]++
		require.False(t, st.FinishedAt.Before(st.StartedAt), "%s: a step ends after it starts", st.Name)
		require.False(t, st.StartedAt.Before(last), "%s: steps are recorded in the order they ran", st.Name)
		last = st.StartedAt
	}
	require.Equal(t, map[api.ChangePhase]int{"precheck": 1, "capture": 2, "apply": 2, "postcheck": 1, "rollback": 2, "verify": 1}, phases)

	// Cancel the halted rollout: the held-back hosts are cancelled.
	res = f.do(f.admin, http.MethodPost, "jobs/"+j.Id.String()+":cancel", map[string]any{"reason": "broken package"})
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	res.Decode(t, &j)
	require.Equal(t, api.ChangeJobStatusCancelled, j.Status)
	require.Equal(t, 2, j.Counts.Cancelled)
	res = f.do(f.admin, http.MethodGet, "alerts?state=active", nil)
	require.NotContains(t, string(res.Body), `"alert_type":"rollout_halted"`, "cancelling the rollout resolves its alert")

	// A rollout of the two healthy hosts and a third: all changed, in two waves; then rolled back.
	res = f.do(f.admin, http.MethodPost, "jobs", map[string]any{"host_ids": []uuid.UUID{second, third},
		"patch": map[string]any{"mode": "all"}, "health_check_ids": []uuid.UUID{f.health},
		"ignore_windows": true, "override_reason": "test targets have no windows"})
	require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
	res.Decode(t, &j)
	j = f.waitJob(j.Id, status(api.ChangeJobStatusCompleted, api.ChangeJobStatusHalted, api.ChangeJobStatusFailed))
	require.Equal(t, api.ChangeJobStatusCompleted, j.Status)
	require.Equal(t, 2, j.Counts.Succeeded)
	require.True(t, exists(t, secondSrv, "/etc/owtest-marker"))
	require.True(t, exists(t, thirdSrv, "/etc/owtest-marker"))
	hs = f.hosts(j.Id)
	require.Equal(t, 0, hs["second"].Wave)
	require.Equal(t, 1, hs["third"].Wave, "a canary of one, then the rest")
	res = f.do(f.admin, http.MethodPost, "jobs/"+j.Id.String()+":rollback", map[string]any{"reason": "undo"})
	require.Equal(t, http.StatusAccepted, res.Status, "%s", res.Body)
	j = f.waitJob(j.Id, status(api.ChangeJobStatusRolledBack, api.ChangeJobStatusFailed))
	require.Equal(t, api.ChangeJobStatusRolledBack, j.Status)
	require.False(t, exists(t, secondSrv, "/etc/owtest-marker"))
	require.False(t, exists(t, thirdSrv, "/etc/owtest-marker"))
	require.Equal(t, 0, j.FailureBudget.Failures, "hosts restored by the job's rollback are not failures")
	for name, h := range f.hosts(j.Id) {
		require.Equal(t, api.ChangeHostStatusRolledBack, h.Status, name)
		require.Nil(t, h.Error, name)
		require.NotNil(t, h.RolledBackAt, name)
		require.Equal(t, 3, h.Sessions, "%s: SSH sessions: pre-checks and capture, apply and post-checks, restore and checks", name)
	}
}
