package scan_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	api "github.com/openwatch/openwatch/gen/api"
	"github.com/openwatch/openwatch/internal/apitest"
	"github.com/openwatch/openwatch/internal/engine"
	"github.com/openwatch/openwatch/internal/rule"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// sessions counts the SSH sessions sshd started, from its log (LogLevel VERBOSE logs one
// "Starting session" line per session).
func sessions(s *sshtest.Server) int { return strings.Count(s.Log(), "Starting session:") }

// BenchmarkScan scans the Debian target with the whole corpus: "program" through the API
// (queue, one SSH session, storage), "per-rule" with the engine running one session per
// rule over the same rules, in the same run. It reports the time per evaluated rule (the
// results that are not skipped), the rules evaluated and the SSH sessions per scan as
// sshd logged them.
//
//	scripts/bench-scan.sh
func BenchmarkScan(b *testing.B) {
	b.Run("program", func(b *testing.B) {
		env := apitest.New(b)
		srv := sshtest.Start(b, sshtest.Options{Addr: "127.0.0.5", Overlay: []string{"/etc"}})
		f := &fixture{t: b, env: env, admin: env.Admin(), srv: srv}
		id := f.host("bench")
		var wall, run time.Duration
		var evaluated, opened int
		for b.Loop() {
			before := sessions(srv)
			t0 := time.Now()
			sc := f.wait(f.startScan(id, nil).Id)
			wall += time.Since(t0)
			require.Equal(b, api.ScanStatusCompleted, sc.Status, "%v", sc.Error)
			run += time.Duration(*sc.DurationMs) * time.Millisecond
			evaluated += sc.RulesTotal - sc.Counts.Skipped
			opened += sessions(srv) - before
		}
		report(b, run, wall, evaluated, opened)
	})
	b.Run("per-rule", func(b *testing.B) {
		srv := sshtest.Start(b, sshtest.Options{Addr: "127.0.0.6"})
		c := srv.Dial(b, sshtest.UserRoot)
		corpus, err := rule.Embedded()
		require.NoError(b, err)
		var run time.Duration
		var evaluated, opened int
		for b.Loop() {
			before := sessions(srv)
			sc, err := engine.Run(context.Background(), engine.ClientRunner(c), corpus.All(), engine.Options{PerRule: true})
			require.NoError(b, err)
			run += sc.Duration
			for _, r := range sc.Results {
				if r.Applicable && r.Status != engine.StatusSkipped {
					evaluated++
				}
			}
			opened += sessions(srv) - before
		}
		report(b, run, run, evaluated, opened)
	})
}

func report(b *testing.B, run, wall time.Duration, evaluated, opened int) {
	n := float64(b.N)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(run.Milliseconds())/float64(max(evaluated, 1)), "ms/evaluated-rule")
	b.ReportMetric(float64(run.Milliseconds())/n, "ms/scan")
	b.ReportMetric(float64(wall.Milliseconds())/n, "ms/scan-end-to-end")
	b.ReportMetric(float64(evaluated)/n, "rules-evaluated/scan")
	b.ReportMetric(float64(opened)/n, "ssh-sessions/scan")
}
