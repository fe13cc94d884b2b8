package patchtest_test

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/change/patch/patchtest"
)

// TestTargets starts three targets at once on one repository: each has version 1.0
// installed and a healthy owtest-broken, and a change on one is seen by no other.
func TestTargets(t *testing.T) {
	statusBefore, err := os.ReadFile("/var/lib/dpkg/status")
	require.NoError(t, err)
	t.Cleanup(func() {
		statusAfter, err := os.ReadFile("/var/lib/dpkg/status")
		require.NoError(t, err)
		require.True(t, bytes.Equal(statusBefore, statusAfter), "this machine's /var/lib/dpkg/status changed")
	})
	start := time.Now()
	tgs := patchtest.StartTargets(t, 3, 3, patchtest.Options{})
	t.Logf("3 targets started in %s", time.Since(start).Round(time.Millisecond))
	for _, tg := range tgs {
		require.Equal(t, "1.0", tg.Version(patchtest.App))
		require.Equal(t, "1.0", tg.Version(patchtest.Sec))
		require.Equal(t, "", tg.Version(patchtest.Tool))
		require.True(t, tg.Healthy())
		require.False(t, tg.Held(patchtest.App))
	}
	tgs[0].MustRun("apt-get install -y -q owtest-app owtest-broken >/dev/null")
	require.Equal(t, "1.1", tgs[0].Version(patchtest.App))
	require.False(t, tgs[0].Healthy(), "owtest-broken 1.1 breaks its status command")
	for _, tg := range tgs[1:] {
		require.Equal(t, "1.0", tg.Version(patchtest.App))
		require.True(t, tg.Healthy())
	}
}

// BenchmarkStartTargets reports how long a target takes to start when ten start at once
// on a shared repository (the 50-host rollout benchmark's set-up cost).
func BenchmarkStartTargets(b *testing.B) {
	repo := patchtest.NewRepo(b)
	const n = 10
	for b.Loop() {
		start := time.Now()
		patchtest.StartTargets(b, n, 4, patchtest.Options{Repo: repo})
		b.ReportMetric(time.Since(start).Seconds()/n, "s/target")
	}
}
