package remedy_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/change"
	"github.com/openwatch/openwatch/internal/change/remedy"
	"github.com/openwatch/openwatch/internal/rule"
)

// TestBuildCorpus builds the plan of every implementation of every rule of the corpus:
// each succeeds, an automatic plan's actions have every script (valid POSIX sh, as dash
// parses it) and a summary, a manual plan has guidance and no actions, and the declarative
// mechanisms give actions for most of the rules that name them.
func TestBuildCorpus(t *testing.T) {
	t.Parallel()
	corpus, err := rule.Embedded()
	require.NoError(t, err)
	var scripts []string
	automatic, manual := 0, 0
	for _, r := range corpus.All() {
		for i := range r.Implementations {
			impl := &r.Implementations[i]
			// A variable without a default (a banner's text) must be set by the site.
			vars := map[string]string{}
			for name, v := range r.Variables {
				if v.Default == nil {
					vars[name] = "site value"
				}
			}
			plan, err := remedy.Build(r, impl, vars)
			require.NoError(t, err, r.ID)
			require.Equal(t, r.ID, plan.RuleID)
			require.NotEmpty(t, plan.Mechanism, r.ID)
			if plan.Manual {
				manual++
				require.Empty(t, plan.Actions, r.ID)
				require.Contains(t, plan.Guidance, r.ID)
				continue
			}
			automatic++
			require.NotEmpty(t, plan.Actions, r.ID)
			for _, name := range impl.Remediation {
				require.Contains(t, remedy.Automatic, name, r.ID)
			}
			for _, a := range plan.Actions {
				for what, s := range map[string]string{"kind": a.Kind, "summary": a.Summary, "target": a.Target, "capture": a.Capture, "preview": a.Preview, "apply": a.Apply, "restore": a.Restore} {
					require.NotEmpty(t, strings.TrimSpace(s), "%s: %s of %s", r.ID, what, a.Kind)
				}
				scripts = append(scripts, a.Capture, a.Preview, a.Apply, a.Restore)
			}
		}
	}
	t.Logf("%d automatic plans, %d manual", automatic, manual)
	require.Greater(t, automatic, 380)
	slices.Sort(scripts)
	scripts = slices.Compact(scripts)
	for _, s := range scripts {
		out, err := exec.Command("dash", "-n", "-c", change.WithPrior(s, "x")).CombinedOutput()
		require.NoError(t, err, "%s\n%s", out, s)
	}
}

// TestManual: a mechanism that is not declarative gives guidance from the check and no
// actions; so does a composite with such a part.
func TestManual(t *testing.T) {
	t.Parallel()
	corpus, err := rule.Embedded()
	require.NoError(t, err)
	for _, tc := range []struct{ id, want string }{
		{"aide-installed", "Install the package aide"},
	} {
		r, ok := corpus.Get(tc.id)
		require.True(t, ok, tc.id)
		impl := r.Select(map[string]bool{"dnf": true})
		plan, err := remedy.Build(r, impl, nil)
		require.NoError(t, err)
		require.True(t, plan.Manual, tc.id)
		require.Empty(t, plan.Actions)
		require.Contains(t, plan.Guidance, tc.want)
		require.Contains(t, plan.Guidance, "Create /var/lib/aide/aide.db.gz")
	}
	var grub *rule.Rule
	for _, r := range corpus.All() {
		if r.Implementations[0].Remediation[0] == "grub_parameter_set" {
			grub = r
			break
		}
	}
	require.NotNil(t, grub)
	plan, err := remedy.Build(grub, &grub.Implementations[0], nil)
	require.NoError(t, err)
	require.True(t, plan.Manual)
	require.Empty(t, plan.Actions)
	require.Contains(t, plan.Guidance, "GRUB_CMDLINE_LINUX")
}

// TestMissingVariable: a variable with neither a site value nor a default is an error
// naming it; a site value wins over the default.
func TestMissingVariable(t *testing.T) {
	t.Parallel()
	r := &rule.Rule{ID: "test-var", Title: "Test", Variables: map[string]rule.Variable{"max_days": {}}}
	impl := &rule.Implementation{Check: rule.Check{Method: "config_value", Params: &rule.ConfigValue{
		Path: "/etc/login.defs", Key: "PASS_MAX_DAYS", Expected: "{{ max_days }}", Comparator: "<=", Delimiter: " "}},
		Remediation: rule.Names{"config_set"}}
	_, err := remedy.Build(r, impl, nil)
	require.ErrorContains(t, err, "max_days")
	plan, err := remedy.Build(r, impl, map[string]string{"max_days": "90"})
	require.NoError(t, err)
	require.Equal(t, "set PASS_MAX_DAYS 90 in /etc/login.defs", plan.Actions[0].Summary)
}

// TestSummaries pins the summary lines of the declarative mechanisms.
func TestSummaries(t *testing.T) {
	t.Parallel()
	corpus, err := rule.Embedded()
	require.NoError(t, err)
	want := map[string]string{
		"aslr-enabled":          "set kernel.randomize_va_space = 2 in /etc/sysctl.d/99-openwatch.conf and at runtime",
		"kmod-disable-atm":      "disable kernel module atm in /etc/modprobe.d/openwatch-atm.conf (install /bin/false, blacklist) and unload it",
		"mount-dev-shm-nodev":   "mount /dev/shm with nodev in /etc/fstab and remount it",
		"ctrl-alt-del-disabled": "mask ctrl-alt-del.target (and stop it)",
		"apparmor-enabled":      "enable apparmor.service (and start it)",
	}
	for id, summary := range want {
		r, ok := corpus.Get(id)
		require.True(t, ok, id)
		plan, err := remedy.Build(r, remedy.Select(r, map[string]bool{"apt": true, "systemd": true}), nil)
		require.NoError(t, err)
		require.False(t, plan.Manual, id)
		require.Equal(t, summary, plan.Actions[0].Summary, id)
	}
}
