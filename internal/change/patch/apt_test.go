package patch_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/change"
	"github.com/openwatch/openwatch/internal/change/patch"
	"github.com/openwatch/openwatch/internal/change/patch/patchtest"
)

// TestApt runs patch actions with real apt and dpkg on namespaced targets that share one
// local repository, and checks at the end that this machine's dpkg state is untouched.
func TestApt(t *testing.T) {
	statusBefore, err := os.ReadFile("/var/lib/dpkg/status")
	require.NoError(t, err)
	t.Cleanup(func() {
		statusAfter, err := os.ReadFile("/var/lib/dpkg/status")
		require.NoError(t, err)
		require.True(t, bytes.Equal(statusBefore, statusAfter), "this machine's /var/lib/dpkg/status changed")
	})
	repo := patchtest.NewRepo(t)
	start := func(t *testing.T, install []string) *patchtest.Target {
		return patchtest.StartTarget(t, patchtest.Options{Repo: repo, Install: install})
	}

	t.Run("UpgradeAllPreviewApplyRestore", func(t *testing.T) {
		t.Parallel()
		tg := start(t, nil)
		tg.MustRun("printf 'level=custom\\n' > /etc/owtest-app.conf")
		a := build(t, patch.Spec{Mode: patch.ModeAll}, tg.Host())

		status := dpkgStatus(tg)
		prior := tg.Capture(a)
		require.Equal(t, []string{
			"pkg owtest-app 1.0 0 1.1 0",
			"pkg owtest-broken 1.0 0 1.1 0",
			"pkg owtest-sec 1.0 0 1.1 0",
		}, records(prior))
		require.Equal(t, "owtest-app 1.0 → 1.1\nowtest-broken 1.0 → 1.1\nowtest-sec 1.0 → 1.1\n", tg.Preview(a, prior))
		require.Equal(t, status, dpkgStatus(tg), "capture and preview change nothing")
		require.Equal(t, "1.0", tg.Version(patchtest.App))

		applyOK(tg, a)
		for _, p := range []string{patchtest.App, patchtest.Broken, patchtest.Sec} {
			require.Equal(t, "1.1", tg.Version(p), p)
		}
		require.False(t, tg.Healthy(), "owtest-broken 1.1 breaks its status command")
		require.Equal(t, "level=custom\n", tg.MustRun("cat /etc/owtest-app.conf"), "the changed configuration file is kept")

		upgraded := dpkgStatus(tg)
		applyOK(tg, a)
		require.Equal(t, upgraded, dpkgStatus(tg), "a second apply changes nothing")

		restoreOK(tg, a, prior)
		for _, p := range []string{patchtest.App, patchtest.Broken, patchtest.Sec} {
			require.Equal(t, "1.0", tg.Version(p), p)
		}
		require.True(t, tg.Healthy(), "restoring owtest-broken 1.0 fixes its status command")
		require.Equal(t, "level=custom\n", tg.MustRun("cat /etc/owtest-app.conf"))
		restoreOK(tg, a, prior)
		require.Equal(t, "1.0", tg.Version(patchtest.App), "a second restore changes nothing")
	})

	t.Run("SecurityOnlyDetectingTheManager", func(t *testing.T) {
		t.Parallel()
		tg := start(t, nil)
		h := tg.Host()
		h.PackageManager = ""
		a := build(t, patch.Spec{Mode: patch.ModeSecurity}, h)
		prior := tg.Capture(a)
		require.Equal(t, []string{"pkg owtest-sec 1.0 0 1.1 0"}, records(prior))
		require.Equal(t, "owtest-sec 1.0 → 1.1\n", tg.Preview(a, prior))
		applyOK(tg, a)
		require.Equal(t, "1.1", tg.Version(patchtest.Sec))
		require.Equal(t, "1.0", tg.Version(patchtest.App))
		require.Equal(t, "1.0", tg.Version(patchtest.Broken))
		applyOK(tg, a)
		require.Equal(t, []string(nil), records(tg.Capture(a)), "nothing left to do")
		restoreOK(tg, a, prior)
		require.Equal(t, "1.0", tg.Version(patchtest.Sec))
	})

	t.Run("NamedOperations", func(t *testing.T) {
		t.Parallel()
		tg := start(t, nil)
		a := build(t, patch.Spec{Mode: patch.ModePackages, Packages: []patch.PackageOp{
			{Name: patchtest.Tool, Op: patch.OpInstall},
			{Name: patchtest.App, Op: patch.OpUpgrade, Version: "1.1"},
			{Name: patchtest.Sec, Op: patch.OpRemove},
			{Name: patchtest.Broken, Op: patch.OpHold},
		}}, tg.Host())
		status := dpkgStatus(tg)
		prior := tg.Capture(a)
		require.ElementsMatch(t, []string{
			"pkg owtest-app 1.0 0 1.1 0",
			"pkg owtest-lib - 0 1.0 0",
			"pkg owtest-tool - 0 1.0 0",
			"pkg owtest-sec 1.0 0 - 0",
			"pkg owtest-broken 1.0 0 1.0 1",
		}, records(prior))
		preview := tg.Preview(a, prior)
		for _, line := range []string{"owtest-app 1.0 → 1.1", "owtest-tool (not installed) → 1.0",
			"owtest-lib (not installed) → 1.0", "owtest-sec 1.0 → (removed)", "owtest-broken hold"} {
			require.Contains(t, preview, line+"\n")
		}
		require.Equal(t, status, dpkgStatus(tg), "capture and preview change nothing")

		applyOK(tg, a)
		require.Equal(t, "1.0", tg.Version(patchtest.Tool))
		require.Equal(t, "1.0", tg.Version(patchtest.Lib))
		require.Equal(t, "1.1", tg.Version(patchtest.App))
		require.Equal(t, "", tg.Version(patchtest.Sec))
		require.True(t, tg.Held(patchtest.Broken))
		done := dpkgStatus(tg)
		applyOK(tg, a)
		require.Equal(t, done, dpkgStatus(tg), "a second apply changes nothing")

		all := build(t, patch.Spec{Mode: patch.ModeAll}, tg.Host())
		require.Equal(t, []string(nil), records(tg.Capture(all)), "the held package is not upgraded")

		restoreOK(tg, a, prior)
		require.Equal(t, "", tg.Version(patchtest.Tool))
		require.Equal(t, "", tg.Version(patchtest.Lib))
		require.Equal(t, "1.0", tg.Version(patchtest.App))
		require.Equal(t, "1.0", tg.Version(patchtest.Sec))
		require.False(t, tg.Held(patchtest.Broken))
	})

	t.Run("UnholdAndHeldPackages", func(t *testing.T) {
		t.Parallel()
		tg := start(t, nil)
		tg.MustRun("apt-mark hold owtest-app owtest-sec >/dev/null")

		up := build(t, patch.Spec{Mode: patch.ModePackages, Packages: []patch.PackageOp{{Name: patchtest.App, Op: patch.OpUpgrade}}}, tg.Host())
		r := tg.Run(up.Capture)
		require.NotEqual(t, 0, r.ExitCode)
		require.Contains(t, string(r.Stderr), "owtest-app is held: unhold it before changing it")
		r = tg.Apply(up)
		require.NotEqual(t, 0, r.ExitCode)
		require.Contains(t, string(r.Stderr), "owtest-app is held")
		require.Equal(t, "1.0", tg.Version(patchtest.App))

		a := build(t, patch.Spec{Mode: patch.ModePackages, Packages: []patch.PackageOp{{Name: patchtest.App, Op: patch.OpUnhold}}}, tg.Host())
		prior := tg.Capture(a)
		require.Equal(t, []string{"pkg owtest-app 1.0 1 1.0 0"}, records(prior))
		require.Equal(t, "owtest-app unhold\n", tg.Preview(a, prior))
		applyOK(tg, a)
		require.False(t, tg.Held(patchtest.App))
		require.True(t, tg.Held(patchtest.Sec))
		restoreOK(tg, a, prior)
		require.True(t, tg.Held(patchtest.App))

		// Restore puts back the captured version and hold state even when the package
		// was held after Apply.
		inst := build(t, patch.Spec{Mode: patch.ModePackages, Packages: []patch.PackageOp{{Name: patchtest.Broken, Op: patch.OpInstall, Version: "1.1"}}}, tg.Host())
		prior = tg.Capture(inst)
		require.Equal(t, []string{"pkg owtest-broken 1.0 0 1.1 0"}, records(prior))
		applyOK(tg, inst)
		require.Equal(t, "1.1", tg.Version(patchtest.Broken))
		tg.MustRun("apt-mark hold owtest-broken >/dev/null")
		restoreOK(tg, inst, prior)
		require.Equal(t, "1.0", tg.Version(patchtest.Broken))
		require.False(t, tg.Held(patchtest.Broken))
		require.True(t, tg.Healthy())
	})

	t.Run("UnavailableVersion", func(t *testing.T) {
		t.Parallel()
		tg := start(t, []string{})
		tg.MustRun("dpkg -i " + repo.Deb(t, patchtest.App, patchtest.OffRepoVersion) + " >/dev/null")
		require.Equal(t, patchtest.OffRepoVersion, tg.Version(patchtest.App))
		a := build(t, patch.Spec{Mode: patch.ModeAll}, tg.Host())
		prior := tg.Capture(a)
		require.Equal(t, []string{"pkg owtest-app 0.9 0 1.1 0"}, records(prior))
		applyOK(tg, a)
		require.Equal(t, "1.1", tg.Version(patchtest.App))

		r := tg.Restore(a, prior)
		require.NotEqual(t, 0, r.ExitCode)
		require.Contains(t, string(r.Stderr), "cannot restore these versions: they are no longer available")
		require.Contains(t, string(r.Stderr), "owtest-app 0.9 (it stays at 1.1)")
		require.Equal(t, "1.1", tg.Version(patchtest.App))

		// The package cache still holding the .deb is enough.
		tg.MustRun("cp " + repo.Deb(t, patchtest.App, patchtest.OffRepoVersion) + " /var/cache/apt/archives/")
		restoreOK(tg, a, prior)
		require.Equal(t, patchtest.OffRepoVersion, tg.Version(patchtest.App))
	})

	t.Run("ApplyFailsClearly", func(t *testing.T) {
		t.Parallel()
		tg := start(t, nil)
		a := build(t, patch.Spec{Mode: patch.ModePackages, Packages: []patch.PackageOp{{Name: patchtest.App, Op: patch.OpInstall, Version: "9.9"}}}, tg.Host())
		r := tg.Run(a.Capture)
		require.NotEqual(t, 0, r.ExitCode)
		require.Contains(t, string(r.Stderr), "patch: apt-get cannot make this change")
		require.Contains(t, string(r.Stderr), "Version '9.9' for 'owtest-app' was not found")
		r = tg.Apply(a)
		require.NotEqual(t, 0, r.ExitCode)
		require.Contains(t, string(r.Stderr), "patch: apt-get install --allow-downgrades owtest-app=9.9 failed (exit 100)")
		require.Equal(t, "1.0", tg.Version(patchtest.App))
	})

	t.Run("WaitsForTheLocks", func(t *testing.T) {
		t.Parallel()
		tg := start(t, nil)
		a := build(t, patch.Spec{Mode: patch.ModePackages, Packages: []patch.PackageOp{{Name: patchtest.App, Op: patch.OpUpgrade}}}, tg.Host())
		// Another package manager holds dpkg's and apt's locks (fcntl, as apt takes
		// them) for three seconds while Apply starts.
		r := tg.Run(`perl -e 'use Fcntl; my @f; for my $p (@ARGV) { open(my $fh, ">>", $p) or die "$p: $!"; ` +
			`my $l = pack("s s x4 q q i x4", F_WRLCK, 0, 0, 0, 0); fcntl($fh, F_SETLKW, $l) or die "lock $p: $!"; push @f, $fh } ` +
			`$| = 1; print "locks held\n"; sleep 3' ` +
			`/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock &
sleep 1
(
` + a.Apply + `
)
rc=$?
wait
exit $rc`)
		require.Equal(t, 0, r.ExitCode, "stdout %s\nstderr %s", r.Stdout, r.Stderr)
		require.True(t, strings.HasPrefix(string(r.Stdout), "locks held\n"), "the locks were held while Apply ran: %s %s", r.Stdout, r.Stderr)
		require.Equal(t, "1.1", tg.Version(patchtest.App))
	})

	t.Run("RebootRequired", func(t *testing.T) {
		t.Parallel()
		tg := start(t, []string{})
		st, err := patch.ParseRebootRequired(tg.MustRun(patch.RebootRequiredCommand()))
		require.NoError(t, err)
		require.Equal(t, patch.RebootStatus{Known: true}, st)
		tg.MustRun("touch /var/run/reboot-required && printf 'linux-image-test\\nowtest-app\\n' > /var/run/reboot-required.pkgs")
		st, err = patch.ParseRebootRequired(tg.MustRun(patch.RebootRequiredCommand()))
		require.NoError(t, err)
		require.Equal(t, patch.RebootStatus{Known: true, Required: true, Packages: []string{"linux-image-test", "owtest-app"}}, st)
		_, err = os.Stat("/run/reboot-required.pkgs")
		require.True(t, os.IsNotExist(err), "the target's /run is an overlay")
	})
}

func build(t *testing.T, spec patch.Spec, h change.Host) change.Action {
	t.Helper()
	actions, err := patch.Build(spec, h)
	require.NoError(t, err)
	require.Len(t, actions, 1)
	return actions[0]
}

func applyOK(tg *patchtest.Target, a change.Action) {
	tg.T.Helper()
	r := tg.Apply(a)
	require.Equal(tg.T, 0, r.ExitCode, "apply: stdout %s\nstderr %s", r.Stdout, r.Stderr)
}

func restoreOK(tg *patchtest.Target, a change.Action, prior string) {
	tg.T.Helper()
	r := tg.Restore(a, prior)
	require.Equal(tg.T, 0, r.ExitCode, "restore: stdout %s\nstderr %s", r.Stdout, r.Stderr)
}

// dpkgStatus returns the target's dpkg status and selections (holds).
func dpkgStatus(tg *patchtest.Target) string {
	tg.T.Helper()
	return tg.MustRun("md5sum /var/lib/dpkg/status; dpkg --get-selections 'owtest-*'")
}

// records returns the "pkg" lines of a captured prior state.
func records(prior string) []string {
	var out []string
	for _, l := range strings.Split(prior, "\n") {
		if strings.HasPrefix(l, "pkg ") {
			out = append(out, l)
		}
	}
	return out
}
