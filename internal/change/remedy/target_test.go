package remedy_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/change"
	"github.com/openwatch/openwatch/internal/change/actiontest"
	"github.com/openwatch/openwatch/internal/change/remedy"
	"github.com/openwatch/openwatch/internal/engine"
	"github.com/openwatch/openwatch/internal/rule"
	"github.com/openwatch/openwatch/internal/sshx"
	"github.com/openwatch/openwatch/internal/sshx/sshtest"
)

// target is a namespaced test host: sshd in its own mount namespace over throwaway
// overlays of /etc, /usr and /var, a fake /proc/sys and a tmpfs on /dev/shm, with stubs
// for what would leave the namespace (modprobe, auditctl, augenrules).
type target struct {
	t      *testing.T
	tg     actiontest.Target
	client *sshx.Client
	corpus *rule.Corpus
	caps   map[string]bool
}

// stubs replace the commands whose real effect is the kernel's: they keep their state in
// files under the overlaid /etc.
const stubs = `set -e
cat > /usr/sbin/modprobe <<'EOF'
#!/bin/sh
case "$1" in
--showconfig|-c) cat /etc/modprobe.d/*.conf /lib/modprobe.d/*.conf /usr/lib/modprobe.d/*.conf 2>/dev/null | grep -E '^(blacklist|install|options|alias|softdep)[[:space:]]'; exit 0 ;;
esac
echo "modprobe $*" >> /etc/owtest-modprobe.log
EOF
cat > /usr/sbin/auditctl <<'EOF'
#!/bin/sh
S=/etc/owtest-audit.loaded
touch "$S"
case "$1" in
-l) if [ -s "$S" ]; then cat "$S"; else echo "No rules"; fi ;;
-D) : > "$S" ;;
-R) grep -E '^[[:space:]]*-[aw][[:space:]]' "$2" >> "$S" ;;
-a|-w) echo "$*" >> "$S" ;;
*) echo "auditctl stub: $*" >&2; exit 1 ;;
esac
EOF
cat > /usr/sbin/augenrules <<'EOF'
#!/bin/sh
[ "$1" = --load ] || exit 1
cat /etc/audit/rules.d/*.rules 2>/dev/null | grep -E '^[[:space:]]*-[aw][[:space:]]' > /etc/owtest-audit.loaded || true
EOF
chmod 0755 /usr/sbin/modprobe /usr/sbin/auditctl /usr/sbin/augenrules
`

// sysctlKeys are the parameters of the fake /proc/sys, with values the rules reject.
var sysctlKeys = map[string]string{"kernel.randomize_va_space": "0", "net.ipv4.ip_forward": "1"}

func startTarget(t *testing.T) *target {
	t.Helper()
	s := sshtest.Start(t, sshtest.Options{
		Addr:    "127.0.0.41",
		Overlay: []string{"/etc", "/usr", "/var"},
		Sysctl:  sysctlKeys,
		Tmpfs:   []string{"/dev/shm"},
	})
	c := s.Dial(t, sshtest.UserRoot)
	tg := actiontest.Target{T: t, Client: c}
	tg.MustRun(stubs)
	corpus, err := rule.Embedded()
	require.NoError(t, err)
	// The capability probe, as the change machinery runs it.
	probe := tg.Run(engine.CapabilityCommand().Script)
	require.True(t, probe.OK(), string(probe.Stderr))
	caps := engine.ParseCapabilities(probe.Stdout)
	require.True(t, caps["apt"])
	require.False(t, caps["dnf"])
	return &target{t: t, tg: tg, client: c, corpus: corpus, caps: caps}
}

// use makes t the test that the target's helpers fail.
func (tt *target) use(t *testing.T) {
	tt.t = t
	tt.tg.T = t
}

// scan evaluates one rule on the target, as a scan does.
func (tt *target) scan(r *rule.Rule) engine.Result {
	tt.t.Helper()
	s, err := engine.Run(context.Background(), engine.ClientRunner(tt.client), []*rule.Rule{r}, engine.Options{})
	require.NoError(tt.t, err)
	require.Len(tt.t, s.Results, 1)
	return s.Results[0]
}

// rule is a corpus rule as the target (Debian) evaluates it: a rule written for another
// family gets Debian among its platforms, so its check runs here.
func (tt *target) rule(id string) *rule.Rule {
	tt.t.Helper()
	r, ok := tt.corpus.Get(id)
	require.True(tt.t, ok, id)
	if r.AppliesTo("debian", "12") {
		return r
	}
	c := *r
	c.Platforms = append([]rule.Platform{{Family: "debian"}}, r.Platforms...)
	return &c
}

// snapshot describes the files (bytes, mode, owner) and the runtime state a test watches.
func (tt *target) snapshot(files []string, state string) string {
	tt.t.Helper()
	var b strings.Builder
	for _, f := range files {
		b.WriteString("f=" + change.Quote(f) + "\nif [ -e \"$f\" ]; then echo \"$f $(stat -c '%a %u %g' -- \"$f\") $(sha256sum < \"$f\")\"; else echo \"$f absent\"; fi\n")
	}
	b.WriteString(state)
	return tt.tg.MustRun(b.String())
}

// cycle runs the whole life of a plan: the rule fails; capture; preview shows the change
// and changes nothing; apply; the rule passes; apply again changes nothing (and previews
// nothing); restore; the files and state are as before and the rule fails again.
func (tt *target) cycle(r *rule.Rule, impl *rule.Implementation, files []string, state string) remedy.Plan {
	t := tt.t
	t.Helper()
	if impl == nil {
		impl = remedy.Select(r, tt.caps)
		require.NotNil(t, impl)
	}
	res := tt.scan(r)
	require.Equal(t, engine.StatusFail, res.Status, "%s before the change: %s", r.ID, res.Reason)
	plan, err := remedy.Build(r, impl, nil)
	require.NoError(t, err)
	require.False(t, plan.Manual, plan.Guidance)
	require.NotEmpty(t, plan.Actions)

	before := tt.snapshot(files, state)
	priors := make([]string, len(plan.Actions))
	for i, a := range plan.Actions {
		priors[i] = tt.tg.Capture(a)
		preview := tt.tg.Preview(a, priors[i])
		require.NotEmpty(t, strings.TrimSpace(preview), "%s: preview of %s", r.ID, a.Summary)
		t.Logf("%s: %s\n%s", r.ID, a.Summary, preview)
		require.Equal(t, before, tt.snapshot(files, state), "%s: preview changed the host", r.ID)
		// Restore succeeds, and changes nothing, when Apply has not run.
		res := tt.tg.Restore(a, priors[i])
		require.True(t, res.OK(), "%s: restore before apply: %s", r.ID, res.Stderr)
		require.Equal(t, before, tt.snapshot(files, state), "%s: restore before apply changed the host", r.ID)
	}
	for _, a := range plan.Actions {
		res := tt.tg.Apply(a)
		require.True(t, res.OK(), "%s: apply %s: exit %d\n%s%s", r.ID, a.Summary, res.ExitCode, res.Stdout, res.Stderr)
	}
	res = tt.scan(r)
	require.Equal(t, engine.StatusPass, res.Status, "%s after the change: %s", r.ID, res.Reason)
	after := tt.snapshot(files, state)
	require.NotEqual(t, before, after)
	for i, a := range plan.Actions {
		res := tt.tg.Apply(a)
		require.True(t, res.OK(), "%s: apply again: %s", r.ID, res.Stderr)
		require.Empty(t, strings.TrimSpace(tt.tg.Preview(a, priors[i])), "%s: preview after apply", r.ID)
	}
	require.Equal(t, after, tt.snapshot(files, state), "%s: applying again changed the host", r.ID)
	for i := len(plan.Actions) - 1; i >= 0; i-- {
		res := tt.tg.Restore(plan.Actions[i], priors[i])
		require.True(t, res.OK(), "%s: restore: exit %d\n%s%s", r.ID, res.ExitCode, res.Stdout, res.Stderr)
	}
	require.Equal(t, before, tt.snapshot(files, state), "%s: restore did not put the host back", r.ID)
	res = tt.scan(r)
	require.Equal(t, engine.StatusFail, res.Status, "%s after the restore: %s", r.ID, res.Reason)
	return plan
}

func testRule(id string, c rule.Check, mechanism string) *rule.Rule {
	return &rule.Rule{ID: id, Title: id, Severity: rule.SeverityMedium, Category: "system",
		Platforms:       []rule.Platform{{Family: "debian"}},
		Implementations: []rule.Implementation{{Check: c, Remediation: rule.Names{mechanism}}}}
}

// TestMechanismsOnTarget runs every automatic mechanism through its cycle on one
// namespaced target, in turn (they share its files). This machine's kernel parameters
// are checked unchanged at the end.
func TestMechanismsOnTarget(t *testing.T) {
	kernelBefore, err := os.ReadFile("/proc/sys/kernel/randomize_va_space")
	require.NoError(t, err)
	tt := startTarget(t)

	t.Run("sysctl_set", func(t *testing.T) {
		tt.use(t)
		plan := tt.cycle(tt.rule("aslr-enabled"), nil, []string{remedy.SysctlFile}, "sysctl -n kernel.randomize_va_space\n")
		require.Equal(t, "set kernel.randomize_va_space = 2 in /etc/sysctl.d/99-openwatch.conf and at runtime", plan.Actions[0].Summary)
	})
	t.Run("config_set", func(t *testing.T) {
		tt.use(t)
		plan := tt.cycle(tt.rule("login-defs-pass-max-days"), nil, []string{"/etc/login.defs"}, "")
		require.Equal(t, "set PASS_MAX_DAYS 60 in /etc/login.defs", plan.Actions[0].Summary)
	})
	t.Run("config_append", func(t *testing.T) {
		tt.use(t)
		tt.cycle(tt.rule("pam-faillock-audit"), nil, []string{"/etc/security/faillock.conf"}, "")
	})
	t.Run("config_set_dropin", func(t *testing.T) {
		tt.use(t)
		// The drop-in directory does not exist: Apply creates it, Restore removes it.
		plan := tt.cycle(tt.rule("pam-pwquality-dcredit"), nil,
			[]string{"/etc/security/pwquality.conf.d/99-openwatch.conf", "/etc/security/pwquality.conf.d"}, "")
		require.Equal(t, "set dcredit = -1 in /etc/security/pwquality.conf.d/99-openwatch.conf", plan.Actions[0].Summary)
	})
	t.Run("sshd config_set and config_set_dropin", func(t *testing.T) {
		tt.use(t)
		r := tt.rule("ssh-max-auth-tries")
		files := []string{"/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/00-openwatch.conf"}
		for i := range r.Implementations {
			plan := tt.cycle(r, &r.Implementations[i], files, "")
			require.Contains(t, plan.Actions[0].Summary, "set maxauthtries 4 in /etc/ssh/sshd_config")
		}
	})
	t.Run("file_permissions", func(t *testing.T) {
		tt.use(t)
		tt.tg.MustRun("chown nobody /etc/group && chmod 0664 /etc/group")
		plan := tt.cycle(tt.rule("etc-group-permissions"), nil, []string{"/etc/group"}, "")
		require.Equal(t, "make /etc/group mode 0644 or stricter, owner root, group root", plan.Actions[0].Summary)
		tt.tg.MustRun("chown root /etc/group && chmod 0644 /etc/group")
	})
	t.Run("file_permissions on a tree", func(t *testing.T) {
		tt.use(t)
		tt.tg.MustRun("printf '#!/bin/sh\\n' > /usr/local/bin/owtest-tool && chmod 0775 /usr/local/bin/owtest-tool")
		plan := tt.cycle(tt.rule("system-commands-mode"), nil, []string{"/usr/local/bin/owtest-tool"}, "")
		require.Equal(t, "give every file below /bin, /sbin, /usr/bin, /usr/sbin, /usr/local/bin, /usr/local/sbin mode 0755 or stricter", plan.Actions[0].Summary)
		tt.tg.MustRun("rm /usr/local/bin/owtest-tool")
	})
	t.Run("kernel_module_disable", func(t *testing.T) {
		tt.use(t)
		tt.cycle(tt.rule("kmod-disable-atm"), nil, []string{"/etc/modprobe.d/openwatch-atm.conf"}, "")
	})
	t.Run("mount_option_set", func(t *testing.T) {
		tt.use(t)
		tt.tg.MustRun("printf 'tmpfs\\t/dev/shm\\ttmpfs\\tdefaults\\t0\\t0\\n' >> /etc/fstab")
		tt.cycle(tt.rule("mount-dev-shm-nodev"), nil, []string{"/etc/fstab"},
			"awk '$2 == \"/dev/shm\" { print $4 }' /proc/self/mounts\n")
	})
	t.Run("audit_rule_set", func(t *testing.T) {
		tt.use(t)
		plan := tt.cycle(tt.rule("audit-file-passwd"), nil, []string{remedy.AuditRulesFile, "/etc/audit"}, "auditctl -l\n")
		require.Equal(t, "add audit rule -w /etc/passwd -p wa -k identity to /etc/audit/rules.d/50-openwatch.rules and load the audit rules", plan.Actions[0].Summary)
	})
	t.Run("service_masked", func(t *testing.T) {
		tt.use(t)
		tt.cycle(tt.rule("ctrl-alt-del-disabled"), nil, []string{"/etc/systemd/system/ctrl-alt-del.target"},
			"systemctl --root=/ is-enabled ctrl-alt-del.target || true\n")
	})
	t.Run("service_enabled and disabled", func(t *testing.T) {
		tt.use(t)
		tt.tg.MustRun("printf '[Unit]\\nDescription=test\\n[Service]\\nExecStart=/bin/true\\n[Install]\\nWantedBy=multi-user.target\\n' > /etc/systemd/system/owtest-remedy.service")
		yes, no := true, false
		link := "/etc/systemd/system/multi-user.target.wants/owtest-remedy.service"
		state := "systemctl --root=/ is-enabled owtest-remedy.service || true\n"
		enable := testRule("owtest-enabled", rule.Check{Method: "service_state", Params: &rule.ServiceState{Name: "owtest-remedy", Enabled: &yes}}, "service_enabled")
		plan := tt.cycle(enable, nil, []string{link}, state)
		require.Equal(t, "enable owtest-remedy.service (and start it)", plan.Actions[0].Summary)
		tt.tg.MustRun("systemctl --root=/ enable owtest-remedy.service")
		disable := testRule("owtest-disabled", rule.Check{Method: "service_state", Params: &rule.ServiceState{Name: "owtest-remedy", Enabled: &no}}, "service_enabled")
		plan = tt.cycle(disable, nil, []string{link}, state)
		require.Equal(t, "disable owtest-remedy.service (and stop it)", plan.Actions[0].Summary)
	})
	t.Run("packages", func(t *testing.T) {
		tt.use(t)
		tt.localRepo()
		state := "dpkg-query -W -f='${db:Status-Abbrev} ${Version}\\n' owtest-remedy 2>/dev/null || echo absent\n"
		present := testRule("owtest-present", rule.Check{Method: "package_state", Params: &rule.PackageState{Name: "owtest-remedy", State: "present"}}, "package_present")
		plan := tt.cycle(present, nil, nil, state)
		require.Equal(t, "install package owtest-remedy (apt-get or dnf)", plan.Actions[0].Summary)
		tt.tg.MustRun("DEBIAN_FRONTEND=noninteractive apt-get install -y -q owtest-remedy >/dev/null")
		absent := testRule("owtest-absent", rule.Check{Method: "package_state", Params: &rule.PackageState{Name: "owtest-remedy", State: "absent"}}, "apt_absent")
		tt.cycle(absent, nil, nil, state)
	})
	t.Run("too large a prior is refused", func(t *testing.T) {
		tt.use(t)
		tt.tg.MustRun("head -c 60000 /dev/zero | tr '\\0' x > /etc/owtest-big.conf && echo >> /etc/owtest-big.conf")
		r := testRule("owtest-big", rule.Check{Method: "config_value", Params: &rule.ConfigValue{Path: "/etc/owtest-big.conf", Key: "k", Expected: "v", Delimiter: "="}}, "config_set")
		plan, err := remedy.Build(r, &r.Implementations[0], nil)
		require.NoError(t, err)
		before := tt.snapshot([]string{"/etc/owtest-big.conf"}, "")
		res := tt.tg.Run(plan.Actions[0].Capture)
		require.False(t, res.OK())
		require.Contains(t, string(res.Stderr), "more than a change can roll back")
		require.Empty(t, res.Stdout)
		require.Equal(t, before, tt.snapshot([]string{"/etc/owtest-big.conf"}, ""))
	})

	kernelAfter, err := os.ReadFile("/proc/sys/kernel/randomize_va_space")
	require.NoError(t, err)
	require.Equal(t, string(kernelBefore), string(kernelAfter), "the machine's kernel parameter changed")
	_, err = os.Stat("/etc/sysctl.d/99-openwatch.conf")
	require.True(t, os.IsNotExist(err), "the machine's /etc changed")
}

// localRepo builds a one-package apt repository inside the target's overlays and makes it
// the only source, so installing and removing never reach a network.
func (tt *target) localRepo() {
	tt.t.Helper()
	tt.tg.MustRun(`set -e
r=/var/cache/owtest-repo
mkdir -p $r/pkg/DEBIAN
cat > $r/pkg/DEBIAN/control <<'EOF'
Package: owtest-remedy
Version: 1.0-1
Architecture: all
Maintainer: OpenWatch tests <tests@example.invalid>
Description: package for remediation tests
EOF
dpkg-deb --build --root-owner-group $r/pkg $r/owtest-remedy_1.0-1_all.deb >/dev/null
cd $r
{ dpkg-deb -f owtest-remedy_1.0-1_all.deb
  echo "Filename: ./owtest-remedy_1.0-1_all.deb"
  echo "Size: $(wc -c < owtest-remedy_1.0-1_all.deb)"
  echo "SHA256: $(sha256sum owtest-remedy_1.0-1_all.deb | cut -d' ' -f1)"
  echo; } > Packages
chmod -R a+rX $r
rm -f /etc/apt/sources.list.d/* 
echo "deb [trusted=yes] file:$r ./" > /etc/apt/sources.list
apt-get update -q >/dev/null 2>&1 || apt-get update
`)
}
