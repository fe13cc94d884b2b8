package change_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/app"
	"github.com/openwatch/openwatch/internal/change"
	"github.com/openwatch/openwatch/internal/change/patch/patchtest"
	"github.com/openwatch/openwatch/internal/change/planners"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// rolloutHosts is the size of the benchmark's rollout.
const rolloutHosts = 50

// BenchmarkRollout rolls a change out to 50 namespaced targets in waves (a canary of one,
// then batches doubling: 1, 2, 4, 8, 16, 19) with a health check before and after each host,
// and prints hosts per minute, the p50 and p99 of one host's change (pre-checks to
// post-checks) and the SSH sessions per host change:
//
//   - marker: each host's change writes one file under /etc: the machinery's own cost, the
//     ceiling of this machine and database;
//   - apt: each host upgrades a package with real apt and dpkg from a local repository.
//
// Figures only, never pass/fail. scripts/bench-rollout.sh runs it on the managed
// PostgreSQL of `openwatch serve` (durability on).
func BenchmarkRollout(b *testing.B) {
	for _, run := range []string{"marker", "apt"} {
		b.Run(run, func(b *testing.B) {
			for b.Loop() {
				rollout(b, run)
			}
		})
	}
}

func rollout(b *testing.B, run string) {
	health := uuid.New()
	opt := func(d *app.Deps) {}
	var servers []*sshtest.Server
	switch run {
	case "marker":
		for range rolloutHosts {
			servers = append(servers, sshtest.Start(b, sshtest.Options{Overlay: []string{"/etc"}}))
		}
	case "apt":
		opt = func(d *app.Deps) {
			d.ChangePlanners = map[string]change.Planner{change.KindPatch: planners.Patch{}}
			d.ChangeHealth = brokenHealth{id: health}
		}
		for _, tg := range patchtest.StartTargets(b, rolloutHosts, 10, patchtest.Options{}) {
			servers = append(servers, tg.Server)
		}
	}
	f := newFixture(b, opt)
	if run == "marker" {
		health = f.health
	}
	ids := make([]uuid.UUID, len(servers))
	for i, srv := range servers {
		ids[i] = f.register(fmt.Sprintf("%s-%02d", run, i), srv)
	}
	patch := map[string]any{"mode": "packages", "packages": []map[string]any{{"name": patchtest.App, "op": "upgrade"}}}
	start := time.Now()
	res := f.do(f.admin, http.MethodPost, "jobs", map[string]any{"host_ids": ids, "patch": patch,
		"waves": map[string]any{"canary": 1, "growth": 2}, "failure_budget": map[string]any{"max_failures": 5},
		"health_check_ids": []uuid.UUID{health}, "ignore_windows": true, "override_reason": "benchmark"})
	if res.Status != http.StatusCreated {
		b.Fatalf("create: %d %s", res.Status, res.Body)
	}
	var j api.ChangeJob
	res.Decode(b, &j)
	j = f.waitJob(j.Id, status(api.ChangeJobStatusCompleted, api.ChangeJobStatusHalted, api.ChangeJobStatusFailed))
	wall := time.Since(start)
	if j.Status != api.ChangeJobStatusCompleted || j.Counts.Succeeded != rolloutHosts {
		b.Fatalf("rollout %s: %+v", j.Status, j.Counts)
	}
	var durations []time.Duration
	sessions := 0
	for _, h := range f.hosts(j.Id) {
		durations = append(durations, h.FinishedAt.Sub(*h.StartedAt))
		sessions += h.Sessions
	}
	slices.Sort(durations)
	pct := func(p float64) time.Duration {
		return durations[int(p*float64(len(durations)-1))].Round(time.Millisecond)
	}
	b.ReportMetric(float64(rolloutHosts)/wall.Minutes(), "hosts/min")
	b.ReportMetric(float64(pct(0.99).Milliseconds()), "p99-host-ms")
	fmt.Printf("    rollout %-6s %d hosts in waves %v: %.1f s, %.0f hosts/min; per host p50 %v, p99 %v; %.1f SSH sessions per host change\n",
		run, rolloutHosts, j.Waves.Sizes, wall.Seconds(), float64(rolloutHosts)/wall.Minutes(), pct(0.5), pct(0.99),
		float64(sessions)/rolloutHosts)
}
