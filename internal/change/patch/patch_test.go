package patch_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/apperr"
	"github.com/openwatch/openwatch/internal/change"
	"github.com/openwatch/openwatch/internal/change/patch"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	ok := []patch.Spec{
		{Mode: patch.ModeAll},
		{Mode: patch.ModeSecurity},
		{Mode: patch.ModePackages, Packages: []patch.PackageOp{
			{Name: "openssl", Op: patch.OpUpgrade},
			{Name: "libc6:amd64", Op: patch.OpInstall, Version: "2.36-9+deb12u4"},
			{Name: "kernel-core", Op: patch.OpInstall, Version: "1:5.14.0-362.el9_3"},
			{Name: "g++", Op: patch.OpRemove},
			{Name: "nginx", Op: patch.OpHold},
			{Name: "python3.11", Op: patch.OpUnhold},
		}},
	}
	for _, s := range ok {
		require.NoError(t, s.Validate(), "%+v", s)
	}
	pkgs := func(ops ...patch.PackageOp) patch.Spec { return patch.Spec{Mode: patch.ModePackages, Packages: ops} }
	bad := map[string]patch.Spec{
		"mode":                {Mode: "everything"},
		"packages":            {Mode: patch.ModeAll, Packages: []patch.PackageOp{{Name: "x", Op: patch.OpInstall}}},
		"packages[0].name":    pkgs(patch.PackageOp{Name: "bad name; rm -rf /", Op: patch.OpInstall}),
		"packages[1].name":    pkgs(patch.PackageOp{Name: "a", Op: patch.OpInstall}, patch.PackageOp{Name: "a", Op: patch.OpRemove}),
		"packages[0].op":      pkgs(patch.PackageOp{Name: "a", Op: "purge"}),
		"packages[0].version": pkgs(patch.PackageOp{Name: "a", Op: patch.OpInstall, Version: "1.0 2.0"}),
	}
	for field, s := range bad {
		err := s.Validate()
		require.Error(t, err, field)
		e := apperr.As(err)
		require.NotNil(t, e, field)
		require.Equal(t, apperr.CodeValidationFailed, e.Code, field)
		require.Equal(t, field, e.Detail["field"], "%s: %v", field, err)
	}
	err := pkgs(patch.PackageOp{Name: "a", Op: patch.OpRemove, Version: "1"}).Validate()
	require.Equal(t, "packages[0].version", apperr.As(err).Detail["field"])
	err = patch.Spec{Mode: patch.ModePackages}.Validate()
	require.Equal(t, "packages", apperr.As(err).Detail["field"])
}

func TestBuild(t *testing.T) {
	t.Parallel()
	named := patch.Spec{Mode: patch.ModePackages, Packages: []patch.PackageOp{
		{Name: "openssl", Op: patch.OpUpgrade, Version: "3.0.15-1"}, {Name: "nginx", Op: patch.OpHold}}}
	specs := []patch.Spec{{Mode: patch.ModeAll}, {Mode: patch.ModeSecurity}, named}
	for _, pm := range []string{"apt", "dnf", ""} {
		for _, s := range specs {
			actions, err := patch.Build(s, change.Host{Name: "web-1", PackageManager: pm})
			require.NoError(t, err)
			require.Len(t, actions, 1)
			a := actions[0]
			for name, script := range map[string]string{"capture": a.Capture, "preview": a.Preview, "apply": a.Apply, "restore": a.Restore} {
				out, err := exec.Command("sh", "-n", "-c", script).CombinedOutput()
				require.NoError(t, err, "%s %s %s: %s", pm, s.Mode, name, out)
			}
			require.Contains(t, a.Summary, "on web-1")
		}
	}
	actions, err := patch.Build(named, change.Host{PackageManager: "apt"})
	require.NoError(t, err)
	require.Equal(t, patch.KindPackages, actions[0].Kind)
	require.Equal(t, "Upgrade openssl 3.0.15-1, hold nginx", actions[0].Summary)
	require.Equal(t, "openssl, nginx", actions[0].Target)
	require.Contains(t, actions[0].Apply, "DEBIAN_FRONTEND=noninteractive")
	require.Contains(t, actions[0].Apply, "--force-confold")
	require.Contains(t, actions[0].Apply, "DPkg::Lock::Timeout="+strconv.Itoa(patch.LockWaitSeconds))

	_, err = patch.Build(patch.Spec{Mode: patch.ModeAll}, change.Host{PackageManager: "zypper"})
	require.Equal(t, "package_manager", apperr.As(err).Detail["field"])
	_, err = patch.Build(patch.Spec{Mode: "nope"}, change.Host{PackageManager: "apt"})
	require.Equal(t, "mode", apperr.As(err).Detail["field"])
}

func TestPreview(t *testing.T) {
	t.Parallel()
	a := build(t, patch.Spec{Mode: patch.ModeAll}, change.Host{PackageManager: "apt"})
	prior := "# header\npkg owtest-app 1.0 0 1.1 0\npkg owtest-new - 0 2:1.0-1 0\npkg owtest-old 1.0 0 - 0\npkg owtest-h 1.0 0 1.0 1\n"
	out, err := exec.Command("sh", "-c", change.WithPrior(a.Preview, prior)).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Equal(t, "owtest-app 1.0 → 1.1\nowtest-new (not installed) → 2:1.0-1\nowtest-old 1.0 → (removed)\nowtest-h hold\n", string(out))
	out, err = exec.Command("sh", "-c", change.WithPrior(a.Preview, "# nothing\n")).CombinedOutput()
	require.NoError(t, err)
	require.Equal(t, "no package changes\n", string(out))
}

func TestParseRebootRequired(t *testing.T) {
	t.Parallel()
	st, err := patch.ParseRebootRequired("reboot-required: yes\npackage: linux-image-amd64\npackage: libc6\n")
	require.NoError(t, err)
	require.Equal(t, patch.RebootStatus{Known: true, Required: true, Packages: []string{"linux-image-amd64", "libc6"}}, st)
	st, err = patch.ParseRebootRequired("reboot-required: no\n")
	require.NoError(t, err)
	require.Equal(t, patch.RebootStatus{Known: true}, st)
	st, err = patch.ParseRebootRequired("reboot-required: unknown\n")
	require.NoError(t, err)
	require.Equal(t, patch.RebootStatus{}, st)
	_, err = patch.ParseRebootRequired("")
	require.Error(t, err)
	_, err = patch.ParseRebootRequired("reboot-required: maybe\n")
	require.Error(t, err)
	require.Contains(t, patch.RebootRequiredCommand(), "needs-restarting -r")
	require.Contains(t, patch.RebootRequiredCommand(), "/var/run/reboot-required")
}

// fakeDNF is a host with a fake dnf and rpm (testdata/fakednf) whose package state lives
// in files; the generated dnf scripts run against it locally with PATH pointing at the
// fakes first.
type fakeDNF struct {
	t     *testing.T
	state string
	path  string
}

func newFakeDNF(t *testing.T, installed, available string) *fakeDNF {
	t.Helper()
	bin, err := filepath.Abs("testdata/fakednf")
	require.NoError(t, err)
	f := &fakeDNF{t: t, state: t.TempDir(), path: bin + ":/usr/bin:/bin"}
	// The scripts call their tools by name: on their PATH the fakes must come first (this
	// machine may have a real rpm, to read packages, but never touches it here) and a tool
	// with no fake must not be found at all.
	for _, tool := range []string{"rpm", "dnf", "yum"} {
		want := ""
		if _, err := os.Stat(filepath.Join(bin, tool)); err == nil {
			want = filepath.Join(bin, tool)
		}
		require.Equal(t, want, firstOnPath(f.path, tool), "%s on the fake dnf host's PATH: the tests would not be isolated", tool)
	}
	require.NoError(t, os.WriteFile(filepath.Join(f.state, "installed"), []byte(installed), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(f.state, "available"), []byte(available), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(f.state, "log"), nil, 0o644))
	return f
}

// firstOnPath is the first executable named tool in the directories of path, or "".
func firstOnPath(path, tool string) string {
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, tool)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

func (f *fakeDNF) run(script string) (string, string, int) {
	f.t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = []string{"PATH=" + f.path, "FAKE_STATE=" + f.state, "LC_ALL=C"}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		require.True(f.t, ok, "run: %v", err)
		code = ee.ExitCode()
	}
	return stdout.String(), stderr.String(), code
}

func (f *fakeDNF) mustRun(script string) string {
	f.t.Helper()
	out, errOut, code := f.run(script)
	require.Equal(f.t, 0, code, "stdout %s\nstderr %s", out, errOut)
	return out
}

func (f *fakeDNF) file(name string) string {
	f.t.Helper()
	b, err := os.ReadFile(filepath.Join(f.state, name))
	if os.IsNotExist(err) {
		return ""
	}
	require.NoError(f.t, err)
	return string(b)
}

const fakeAvailable = "owtest-app 1.0\nowtest-app 1.1\nowtest-sec 1.0\nowtest-sec 1.1 security\nowtest-tool 1.0\n"

func TestDNFScripts(t *testing.T) {
	t.Parallel()
	dnf := change.Host{PackageManager: "dnf"}

	t.Run("All", func(t *testing.T) {
		t.Parallel()
		f := newFakeDNF(t, "owtest-app 1.0\nowtest-sec 1.0\n", fakeAvailable)
		a := build(t, patch.Spec{Mode: patch.ModeAll}, dnf)
		prior := f.mustRun(a.Capture)
		require.Equal(t, []string{"pkg owtest-app 1.0 0 1.1 0", "pkg owtest-sec 1.0 0 1.1 0"}, records(prior))
		f.mustRun(a.Apply)
		require.Contains(t, f.file("log"), "dnf -y upgrade\n")
		require.Equal(t, "owtest-app 1.1\nowtest-sec 1.1\n", sortLines(f.file("installed")))
		f.mustRun(a.Apply)
		f.mustRun(change.WithPrior(a.Restore, prior))
		require.Contains(t, f.file("log"), "dnf -y downgrade owtest-app-1.0 owtest-sec-1.0\n")
		require.Equal(t, "owtest-app 1.0\nowtest-sec 1.0\n", sortLines(f.file("installed")))
	})

	t.Run("Security", func(t *testing.T) {
		t.Parallel()
		f := newFakeDNF(t, "owtest-app 1.0\nowtest-sec 1.0\n", fakeAvailable)
		a := build(t, patch.Spec{Mode: patch.ModeSecurity}, dnf)
		prior := f.mustRun(a.Capture)
		require.Equal(t, []string{"pkg owtest-sec 1.0 0 1.1 0"}, records(prior))
		f.mustRun(a.Apply)
		require.Contains(t, f.file("log"), "dnf -y --security upgrade\n")
		require.Equal(t, "owtest-app 1.0\nowtest-sec 1.1\n", sortLines(f.file("installed")))
		f.mustRun(change.WithPrior(a.Restore, prior))
		require.Equal(t, "owtest-app 1.0\nowtest-sec 1.0\n", sortLines(f.file("installed")))
	})

	t.Run("Named", func(t *testing.T) {
		t.Parallel()
		f := newFakeDNF(t, "owtest-app 1.0\nowtest-sec 1.0\n", fakeAvailable)
		a := build(t, patch.Spec{Mode: patch.ModePackages, Packages: []patch.PackageOp{
			{Name: "owtest-tool", Op: patch.OpInstall},
			{Name: "owtest-sec", Op: patch.OpRemove},
			{Name: "owtest-app", Op: patch.OpHold},
		}}, dnf)
		prior := f.mustRun(a.Capture)
		require.Equal(t, []string{"pkg owtest-tool - 0 1.0 0", "pkg owtest-sec 1.0 0 - 0", "pkg owtest-app 1.0 0 1.0 1"}, records(prior))
		f.mustRun(a.Apply)
		require.Equal(t, "owtest-app 1.0\nowtest-tool 1.0\n", sortLines(f.file("installed")))
		require.Equal(t, "owtest-app\n", f.file("locks"))
		log := f.file("log")
		f.mustRun(a.Apply)
		require.NotContains(t, strings.TrimPrefix(f.file("log"), log), "dnf -y ", "a second apply changes nothing")

		up := build(t, patch.Spec{Mode: patch.ModePackages, Packages: []patch.PackageOp{{Name: "owtest-app", Op: patch.OpUpgrade}}}, dnf)
		_, errOut, code := f.run(up.Apply)
		require.NotEqual(t, 0, code)
		require.Contains(t, errOut, "owtest-app is held (versionlock)")

		f.mustRun(change.WithPrior(a.Restore, prior))
		require.Equal(t, "owtest-app 1.0\nowtest-sec 1.0\n", sortLines(f.file("installed")))
		require.Equal(t, "", f.file("locks"))
	})

	t.Run("UnavailableVersion", func(t *testing.T) {
		t.Parallel()
		f := newFakeDNF(t, "owtest-app 0.9\n", fakeAvailable)
		a := build(t, patch.Spec{Mode: patch.ModeAll}, dnf)
		prior := f.mustRun(a.Capture)
		f.mustRun(a.Apply)
		_, errOut, code := f.run(change.WithPrior(a.Restore, prior))
		require.Equal(t, 1, code)
		require.Contains(t, errOut, "no longer available from the enabled repositories")
		require.Contains(t, errOut, "owtest-app 0.9 (it stays at 1.1)")
	})
}

func sortLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := 1; i < len(lines); i++ {
		for j := i; j > 0 && lines[j] < lines[j-1]; j-- {
			lines[j], lines[j-1] = lines[j-1], lines[j]
		}
	}
	return strings.Join(lines, "\n") + "\n"
}
