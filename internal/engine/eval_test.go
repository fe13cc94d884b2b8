package engine

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/rule"
	"github.com/openwatch/openwatch/internal/sshx"
)

// recs builds records from key -> stdout (exit 0), run as root.
func recs(outputs map[string]string) *Records {
	rs := &Records{ByKey: map[string]*Record{}, Privilege: sshx.PrivRoot, Cap: map[string]int{}}
	for k, out := range outputs {
		rs.ByKey[k] = &Record{Key: k, Command: "cmd " + k, Stdout: []byte(out)}
		rs.Cap[k] = CheckOutputCap
	}
	return rs
}

func eval(t *testing.T, p any, rs *Records, keys ...string) outcome {
	t.Helper()
	return evaluateTyped(p, rs, keys)
}

func requireOutcome(t *testing.T, o outcome, want Status, reason string) {
	t.Helper()
	require.Equal(t, want, o.status, "%+v", o)
	if reason != "" {
		require.Contains(t, o.reason, reason, "%+v", o)
	}
}

func ptr[T any](v T) *T { return &v }

func TestConfigValue(t *testing.T) {
	p := &rule.ConfigValue{Path: "/etc/login.defs", Key: "PASS_MAX_DAYS", Expected: "60", Comparator: "<=", Delimiter: " "}
	key := keyConfig
	const head = "#!file\t/etc/login.defs\t1\n"
	cases := []struct {
		out    string
		want   Status
		reason string
	}{
		{head + "/etc/login.defs:PASS_MAX_DAYS\t45\n", StatusPass, ""},
		{head + "/etc/login.defs:PASS_MAX_DAYS 99999\n", StatusFail, "PASS_MAX_DAYS is 99999 in /etc/login.defs"},
		{head + "/etc/login.defs:PASS_MAX_DAYS 30\n/etc/login.defs:PASS_MAX_DAYS 90\n", StatusFail, "is 90"}, // the last one counts
		{head, StatusFail, "PASS_MAX_DAYS is not set in /etc/login.defs"},
		{"#!file\t/etc/login.defs\t0\n", StatusFail, "/etc/login.defs does not exist"},
		{head + "/etc/login.defs:PASS_MAX_DAYS never\n", StatusFail, "not a number"},
		{head + "/etc/login.defs:PASS_MAX_DAYSX 10\n", StatusFail, "not set"}, // another key
		// Lines of another file the record also read are not this check's.
		{head + "#!file\t/etc/other.conf\t1\n/etc/other.conf:PASS_MAX_DAYS 99\n", StatusFail, "not set"},
		{"#!file\t/etc/login.defs\tunreadable\n", StatusError, "cannot be read without root"},
	}
	for _, tc := range cases {
		requireOutcome(t, eval(t, p, recs(map[string]string{key: tc.out})), tc.want, tc.reason)
	}

	// Drop-ins win in name order; "key = value" with spaces; quotes stripped.
	q := &rule.ConfigValue{Path: "/etc/security/pwquality.conf", DropinDir: "/etc/security/pwquality.conf.d", Key: "minlen", Expected: "15", Comparator: ">="}
	out := "#!file\t/etc/security/pwquality.conf\t1\n/etc/security/pwquality.conf:minlen = 8\n" +
		"#!file\t/etc/security/pwquality.conf.d/50-site.conf\t1\n/etc/security/pwquality.conf.d/50-site.conf:minlen=\"16\"\n"
	o := eval(t, q, recs(map[string]string{keyConfig: out}))
	requireOutcome(t, o, StatusPass, "")
	require.Equal(t, "16", o.actual)

	// A bare flag only has to be present.
	f := &rule.ConfigValue{Path: "/etc/security/faillock.conf", Key: "even_deny_root"}
	fh := "#!file\t/etc/security/faillock.conf\t1\n"
	requireOutcome(t, eval(t, f, recs(map[string]string{keyConfig: fh + "/etc/security/faillock.conf:even_deny_root\n"})), StatusPass, "")
	requireOutcome(t, eval(t, f, recs(map[string]string{keyConfig: fh})), StatusFail, "not set")

	// Text comparison, optionally without case.
	s := &rule.ConfigValue{Path: "/etc/systemd/journald.conf", Key: "Storage", Expected: "persistent", Delimiter: "=", CaseInsensitive: true}
	jh := "#!file\t/etc/systemd/journald.conf\t1\n/etc/systemd/journald.conf:Storage=Persistent\n"
	requireOutcome(t, eval(t, s, recs(map[string]string{keyConfig: jh})), StatusPass, "")
	s.CaseInsensitive = false
	requireOutcome(t, eval(t, s, recs(map[string]string{keyConfig: jh})), StatusFail, "Storage is Persistent")

	// A record that did not run cleanly is an error, never a fail.
	rs := recs(map[string]string{key: strings.Repeat("x", 10)})
	rs.ByKey[key].Truncated = true
	requireOutcome(t, eval(t, p, rs), StatusError, "exceeded")
	rs = recs(map[string]string{key: ""})
	rs.ByKey[key].Exit = 124
	requireOutcome(t, eval(t, p, rs), StatusError, "timed out")
	requireOutcome(t, eval(t, p, recs(nil)), StatusError, "did not read")
	rs = recs(map[string]string{key: ""})
	rs.ByKey[key].Root, rs.Privilege = true, sshx.PrivNone
	requireOutcome(t, eval(t, p, rs), StatusError, "needs root")
}

func TestSSHD(t *testing.T) {
	out := "port 22\npermitrootlogin without-password\nmaxauthtries 6\nciphers aes256-gcm@openssh.com,aes128-ctr\n"
	rs := recs(map[string]string{keySSHD: out})
	requireOutcome(t, eval(t, &rule.SSHDConfig{Key: "permitrootlogin", Expected: "no"}, rs), StatusFail, "sshd permitrootlogin is without-password")
	requireOutcome(t, eval(t, &rule.SSHDConfig{Key: "maxauthtries", Expected: "4", Comparator: "<="}, rs), StatusFail, "")
	requireOutcome(t, eval(t, &rule.SSHDConfig{Key: "maxauthtries", Expected: "6", Comparator: "<="}, rs), StatusPass, "")
	requireOutcome(t, eval(t, &rule.SSHDConfig{Key: "port", Expected: "22"}, rs), StatusPass, "")
	requireOutcome(t, eval(t, &rule.SSHDConfig{Key: "rhostsrsaauthentication", Expected: "no"}, rs), StatusSkipped, "no keyword")
	requireOutcome(t, eval(t, &rule.SSHDConfig{Key: "port", Expected: "22"}, recs(map[string]string{keySSHD: "#!absent\n"})), StatusSkipped, "not installed")
	failed := recs(map[string]string{keySSHD: ""})
	failed.ByKey[keySSHD].Exit, failed.ByKey[keySSHD].Stderr = 255, []byte("sshd: no hostkeys available -- exiting.\n")
	requireOutcome(t, eval(t, &rule.SSHDConfig{Key: "port", Expected: "22"}, failed), StatusError, "no hostkeys")
}

func TestSysctl(t *testing.T) {
	p := &rule.Sysctl{Key: "net.ipv4.ip_forward", Expected: "0"}
	files := "#!file\t/etc/sysctl.d/60-net.conf\n#!file\t/usr/lib/sysctl.d/50-default.conf\n#!file\t/usr/lib/sysctl.d/60-net.conf\n#!file\t/etc/sysctl.conf\n" +
		"/usr/lib/sysctl.d/50-default.conf:net.ipv4.ip_forward = 1\n" +
		"/usr/lib/sysctl.d/60-net.conf:net.ipv4.ip_forward = 1\n" + // hidden by /etc/sysctl.d/60-net.conf
		"/etc/sysctl.d/60-net.conf:net/ipv4/ip_forward=0\n"
	rs := recs(map[string]string{keySysctl: "net.ipv4.ip_forward = 0\n", keySysctlD: files})
	o := eval(t, p, rs)
	requireOutcome(t, o, StatusPass, "")
	require.Contains(t, o.output, "/etc/sysctl.d/60-net.conf")

	// /etc/sysctl.conf is applied last.
	rs = recs(map[string]string{keySysctl: "net.ipv4.ip_forward = 0\n", keySysctlD: files + "/etc/sysctl.conf:-net.ipv4.ip_forward=1\n"})
	requireOutcome(t, eval(t, p, rs), StatusFail, "set to 1 in the sysctl configuration")
	rs = recs(map[string]string{keySysctl: "net.ipv4.ip_forward = 1\n", keySysctlD: files})
	requireOutcome(t, eval(t, p, rs), StatusFail, "is 1 in the running kernel")
	rs = recs(map[string]string{keySysctl: "net.ipv4.ip_forward = 0\n", keySysctlD: "#!file\t/etc/sysctl.conf\n"})
	requireOutcome(t, eval(t, p, rs), StatusFail, "not set in the sysctl configuration")
	rs = recs(map[string]string{keySysctl: "", keySysctlD: ""})
	requireOutcome(t, eval(t, p, rs), StatusSkipped, "no parameter")
	// Values with several fields compare with their whitespace normalised.
	pg := &rule.Sysctl{Key: "net.ipv4.ping_group_range", Expected: "1 0"}
	rs = recs(map[string]string{keySysctl: "net.ipv4.ping_group_range = 1\t0\n", keySysctlD: "#!file\t/etc/sysctl.conf\n/etc/sysctl.conf:net.ipv4.ping_group_range=1  0\n"})
	requireOutcome(t, eval(t, pg, rs), StatusPass, "")
}

func TestPackage(t *testing.T) {
	out := "#!dpkg\ntelnetd\trc \t0.17\naide\tii \t0.18.3\nnis\tun \t\n"
	rs := recs(map[string]string{keyPackages: out})
	requireOutcome(t, eval(t, &rule.PackageState{Name: "aide", State: "present"}, rs), StatusPass, "")
	requireOutcome(t, eval(t, &rule.PackageState{Name: "telnetd", State: "absent"}, rs), StatusPass, "") // removed, config left
	requireOutcome(t, eval(t, &rule.PackageState{Name: "nis", State: "present"}, rs), StatusFail, "nis is not installed")
	requireOutcome(t, eval(t, &rule.PackageState{Name: "aide", State: "absent"}, rs), StatusFail, "aide is installed (0.18.3)")
	requireOutcome(t, eval(t, &rule.PackageState{Name: "missing", State: "absent"}, rs), StatusPass, "")
	requireOutcome(t, eval(t, &rule.PackageState{Name: "aide", State: "present"}, recs(map[string]string{keyPackages: "#!none\n"})), StatusError, "neither dpkg nor rpm")
	rpm := recs(map[string]string{keyPackages: "#!rpm\naide\tii \t0.16-14.el9\n"})
	requireOutcome(t, eval(t, &rule.PackageState{Name: "aide", State: "present"}, rpm), StatusPass, "")
}

func TestService(t *testing.T) {
	out := "Names=ssh.service sshd.service\nLoadState=loaded\nActiveState=active\nUnitFileState=enabled\n\n" +
		"Names=telnet.socket\nLoadState=not-found\nActiveState=inactive\nUnitFileState=\n\n" +
		"Names=ctrl-alt-del.target\nLoadState=masked\nActiveState=inactive\nUnitFileState=masked\n"
	rs := recs(map[string]string{keyUnits: out})
	requireOutcome(t, eval(t, &rule.ServiceState{Name: "sshd", Enabled: ptr(true), Active: ptr(true)}, rs), StatusPass, "")
	requireOutcome(t, eval(t, &rule.ServiceState{Name: "ssh", Enabled: ptr(false)}, rs), StatusFail, "ssh.service is enabled")
	requireOutcome(t, eval(t, &rule.ServiceState{Name: "telnet.socket", Enabled: ptr(false), Active: ptr(false)}, rs), StatusPass, "")
	requireOutcome(t, eval(t, &rule.ServiceState{Name: "ctrl-alt-del.target", Masked: ptr(true)}, rs), StatusPass, "")
	requireOutcome(t, eval(t, &rule.ServiceState{Name: "auditd", Enabled: ptr(true)}, rs), StatusError, "did not describe")
	requireOutcome(t, eval(t, &rule.ServiceState{Name: "auditd", Enabled: ptr(true)}, recs(map[string]string{keyUnits: "#!nosystemd\n"})), StatusError, "not the init system")

	// Without a running systemd: unit file states from disk, nothing active.
	offline := recs(map[string]string{keyUnits: "#!offline\nssh.service\tenabled\nauditd.service\tnot-found\nctrl-alt-del.target\tmasked\n"})
	requireOutcome(t, eval(t, &rule.ServiceState{Name: "ssh", Enabled: ptr(true)}, offline), StatusPass, "")
	requireOutcome(t, eval(t, &rule.ServiceState{Name: "ssh", Active: ptr(true)}, offline), StatusFail, "not active")
	requireOutcome(t, eval(t, &rule.ServiceState{Name: "auditd", Enabled: ptr(true), Active: ptr(true)}, offline), StatusFail, "not enabled")
	requireOutcome(t, eval(t, &rule.ServiceState{Name: "ctrl-alt-del.target", Masked: ptr(true)}, offline), StatusPass, "")
}

func TestKernelModule(t *testing.T) {
	out := "install usb_storage /bin/false\nblacklist usb_storage\ninstall cramfs /bin/true\ninstall dccp /sbin/modprobe --ignore-install dccp\n#!loaded\next4\nsctp\n"
	rs := recs(map[string]string{keyModprobe: out})
	requireOutcome(t, eval(t, &rule.KernelModule{Name: "usb-storage", State: "blacklisted"}, rs), StatusPass, "")
	requireOutcome(t, eval(t, &rule.KernelModule{Name: "cramfs", State: "disabled"}, rs), StatusPass, "")
	requireOutcome(t, eval(t, &rule.KernelModule{Name: "cramfs", State: "blacklisted"}, rs), StatusFail, "not blacklisted")
	requireOutcome(t, eval(t, &rule.KernelModule{Name: "dccp", State: "disabled"}, rs), StatusFail, "can be loaded")
	requireOutcome(t, eval(t, &rule.KernelModule{Name: "sctp", State: "disabled"}, rs), StatusFail, "sctp is loaded")
	requireOutcome(t, eval(t, &rule.KernelModule{Name: "sctp", State: "disabled"}, recs(map[string]string{keyModprobe: "#!nomodprobe\n"})), StatusError, "modprobe is not installed")
}

func TestMountOption(t *testing.T) {
	out := "/dev/vda1 / ext4 rw,relatime 0 0\ntmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0\n/dev/vdb1 /my\\040data ext4 rw 0 0\ntmpfs /tmp tmpfs rw,nosuid 0 0\ntmpfs /tmp tmpfs rw,nosuid,nodev,noexec 0 0\n"
	rs := recs(map[string]string{keyMounts: out})
	requireOutcome(t, eval(t, &rule.MountOption{MountPoint: "/dev/shm", Options: []string{"nodev", "nosuid"}}, rs), StatusPass, "")
	requireOutcome(t, eval(t, &rule.MountOption{MountPoint: "/dev/shm", Options: []string{"noexec"}}, rs), StatusFail, "without noexec")
	requireOutcome(t, eval(t, &rule.MountOption{MountPoint: "/home", Options: []string{"nodev"}}, rs), StatusSkipped, "not a separate mount")
	requireOutcome(t, eval(t, &rule.MountOption{MountPoint: "/my data", Options: []string{"rw"}}, rs), StatusPass, "")
	requireOutcome(t, eval(t, &rule.MountOption{MountPoint: "/tmp", Options: []string{"noexec"}}, rs), StatusPass, "") // the visible (last) mount
}

func TestFilePermissionAndExistence(t *testing.T) {
	out := "640\troot\tshadow\tregular file\t/etc/shadow\n4755\troot\troot\tregular file\t/usr/bin/sudo\n#!absent\t/etc/at.allow\n"
	rs := recs(map[string]string{keyStat: out})
	requireOutcome(t, eval(t, &rule.FilePermission{Path: "/etc/shadow", Mode: "0640", Owner: "root"}, rs), StatusPass, "")
	requireOutcome(t, eval(t, &rule.FilePermission{Path: "/etc/shadow", Mode: "0600"}, rs), StatusFail, "mode 0640 allows 0040 beyond 0600")
	requireOutcome(t, eval(t, &rule.FilePermission{Path: "/etc/shadow", Group: "root"}, rs), StatusFail, "group shadow")
	requireOutcome(t, eval(t, &rule.FilePermission{Path: "/usr/bin/sudo", Mode: "0755"}, rs), StatusFail, "allows 4000")
	requireOutcome(t, eval(t, &rule.FilePermission{Path: "/etc/at.allow", Mode: "0600"}, rs), StatusSkipped, "does not exist")
	requireOutcome(t, eval(t, &rule.FilePermission{Path: "/etc/unlisted", Mode: "0600"}, rs), StatusError, "could not read")
	requireOutcome(t, eval(t, &rule.FileExists{Path: "/etc/at.allow"}, rs), StatusFail, "does not exist")
	requireOutcome(t, eval(t, &rule.FileExists{Path: "/etc/at.allow", Exists: ptr(false)}, rs), StatusPass, "")
	requireOutcome(t, eval(t, &rule.FileExists{Path: "/etc/shadow"}, rs), StatusPass, "")
}

func TestFileContent(t *testing.T) {
	key := "file /etc/issue.net"
	p := &rule.FileContent{Path: "/etc/issue.net", Expected: "Authorized use only."}
	requireOutcome(t, eval(t, p, recs(map[string]string{key: "Authorized use only.  \n\n"})), StatusPass, "")
	requireOutcome(t, eval(t, p, recs(map[string]string{key: "Debian GNU/Linux 12\n"})), StatusFail, "differs")
	absent := recs(map[string]string{key: ""})
	absent.ByKey[key].Exit = 3
	requireOutcome(t, eval(t, p, absent), StatusFail, "does not exist")
	m := &rule.FileContent{Path: "/etc/issue.net", Matches: `^Authorized`}
	requireOutcome(t, eval(t, m, recs(map[string]string{key: "Warning\nAuthorized use only\n"})), StatusPass, "")
}

func TestAuditRuleMatching(t *testing.T) {
	want := "-a always,exit -F arch=b64 -S chmod,fchmod,fchmodat -F auid>=1000 -F auid!=unset -k perm_mod"
	loaded := "-a always,exit -F arch=b64 -S fchmodat,chmod,fchmod,fchown -F auid>=1000 -F auid!=-1 -F key=other\n" +
		"-w /etc/sudoers -p wa -k scope\n"
	files := "#!file\t/etc/audit/rules.d/50-perm.rules\n-a exit,always -F arch=b64 -S chmod -S fchmod -S fchmodat -F auid>=1000 -F auid!=4294967295 -k perm_mod\n-w /etc/sudoers/ -p aw\n"
	rs := recs(map[string]string{keyAuditctl: loaded, keyAuditFiles: files})
	requireOutcome(t, eval(t, &rule.AuditRule{Rule: want}, rs), StatusPass, "")
	requireOutcome(t, eval(t, &rule.AuditRule{Rule: "-w /etc/sudoers -p wa -k scope"}, rs), StatusPass, "")
	requireOutcome(t, eval(t, &rule.AuditRule{Rule: "-w /etc/sudoers -p wax"}, rs), StatusFail, "neither loaded")
	requireOutcome(t, eval(t, &rule.AuditRule{Rule: "-k scope"}, rs), StatusFail, "loaded but not in /etc/audit/rules.d")
	requireOutcome(t, eval(t, &rule.AuditRule{Rule: "-k perm_mod"}, rs), StatusFail, "in /etc/audit/rules.d but not loaded")
	// A different field set is a different rule.
	requireOutcome(t, eval(t, &rule.AuditRule{Rule: "-a always,exit -F arch=b32 -S chmod -F auid>=1000 -F auid!=unset"}, rs), StatusFail, "")
	requireOutcome(t, eval(t, &rule.AuditRule{Rule: want}, recs(map[string]string{keyAuditctl: "#!noauditctl\n", keyAuditFiles: ""})), StatusFail, "auditctl is not installed")
	denied := recs(map[string]string{keyAuditctl: "", keyAuditFiles: ""})
	denied.ByKey[keyAuditctl].Exit, denied.ByKey[keyAuditctl].Stderr = 1, []byte("You must be root to run this program.\n")
	requireOutcome(t, eval(t, &rule.AuditRule{Rule: want}, denied), StatusError, "must be root")
}

func TestGrubParameter(t *testing.T) {
	p := &rule.GrubParameter{Key: "audit", Expected: "1"}
	boot := "#!file\t/etc/default/grub\n/etc/default/grub:GRUB_CMDLINE_LINUX=\"quiet audit=1\"\n/etc/default/grub:GRUB_CMDLINE_LINUX_DEFAULT=\"\"\n"
	requireOutcome(t, eval(t, p, recs(map[string]string{keyCmdline: "root=/dev/vda1 audit=1\n", keyBootConfig: boot})), StatusPass, "")
	requireOutcome(t, eval(t, p, recs(map[string]string{keyCmdline: "root=/dev/vda1 audit=0\n", keyBootConfig: boot})), StatusFail, "booted with audit=0")
	requireOutcome(t, eval(t, p, recs(map[string]string{keyCmdline: "audit=1\n", keyBootConfig: "#!file\t/etc/default/grub\n/etc/default/grub:GRUB_CMDLINE_LINUX=\"quiet\"\n"})), StatusFail, "not configured")
	// A host booted without a boot loader configuration is judged by its running kernel.
	o := eval(t, p, recs(map[string]string{keyCmdline: "audit=1\n", keyBootConfig: ""}))
	requireOutcome(t, o, StatusPass, "")
	require.Contains(t, o.actual, "no boot loader configuration")
	bls := "#!file\t/boot/loader/entries/a.conf\n#!file\t/boot/loader/entries/b.conf\n/boot/loader/entries/a.conf:options root=x audit=1\n/boot/loader/entries/b.conf:options root=x\n"
	requireOutcome(t, eval(t, p, recs(map[string]string{keyCmdline: "audit=1\n", keyBootConfig: bls})), StatusFail, "b.conf")
}

func TestCommandCheck(t *testing.T) {
	r := &rule.Rule{ID: "no-dup", Implementations: []rule.Implementation{{Check: rule.Check{Method: "command", Params: &rule.Command{Script: "x", ExitStatus: ptr(0), Output: "^ok$", Reason: "r"}}}}}
	c := &r.Implementations[0].Check
	key := commandKey(r, c)
	rs := recs(map[string]string{key: "ok\n"})
	requireOutcome(t, eval(t, c.Params, rs, key), StatusPass, "")
	rs.ByKey[key].Exit = 1
	requireOutcome(t, eval(t, c.Params, rs, key), StatusFail, "exit status 1")
	rs = recs(map[string]string{key: "duplicate uid 0: toor\n"})
	requireOutcome(t, eval(t, c.Params, rs, key), StatusFail, "does not match")

	// The script may say the rule does not apply; that is a skip, never a pass.
	c.Params.(*rule.Command).SkipStatus = ptr(3)
	rs = recs(map[string]string{key: "/var/log/audit does not exist\n"})
	rs.ByKey[key].Exit = 3
	requireOutcome(t, eval(t, c.Params, rs, key), StatusSkipped, "/var/log/audit does not exist")
	rs = recs(map[string]string{key: "#!not-for-platform\n"})
	requireOutcome(t, eval(t, c.Params, rs, key), StatusError, "did not run this check")
}

// TestEvaluateRules covers rule-level selection: platforms, guards, variables and the
// all_of composite.
func TestEvaluateRules(t *testing.T) {
	src := `id: sample
title: t
description: d
rationale: r
severity: high
category: system
platforms: [{family: debian, min_version: 12}]
variables: {max_days: 60, banner: null}
implementations:
  - when: sshd_config_d
    check:
      all_of:
        - {method: config_value, path: /etc/login.defs, key: PASS_MAX_DAYS, expected: "{{ max_days }}", comparator: "<=", delimiter: " "}
        - {method: mount_option, mount_point: /home, options: [nodev]}
    remediation: config_set
  - check: {method: file_content, path: /etc/issue.net, expected: "{{ banner }}"}
    remediation: file_content
`
	r, err := rule.Parse("corpus/sample.yaml", []byte(src))
	require.NoError(t, err)
	rs := recs(map[string]string{keyConfig: "#!file\t/etc/login.defs\t1\n/etc/login.defs:PASS_MAX_DAYS 90\n", keyMounts: "/dev/vda / ext4 rw 0 0\n"})
	debian := Host{Family: "debian", Version: "12", Capabilities: map[string]bool{"sshd_config_d": true}}

	res := Evaluate([]*rule.Rule{r}, rs, debian, nil)[0]
	require.Equal(t, StatusFail, res.Status) // 90 > 60; /home is not a separate mount (skipped part)
	require.Equal(t, "60", res.Evidence.Variables["max_days"])
	require.Len(t, res.Evidence.Checks, 2)
	require.Equal(t, StatusSkipped, res.Evidence.Checks[1].Status)

	// A site value replaces the default, and the evidence says which value was used.
	res = Evaluate([]*rule.Rule{r}, rs, debian, map[string]string{"max_days": "90"})[0]
	require.Equal(t, StatusPass, res.Status, res.Reason)
	require.Equal(t, "90", res.Evidence.Variables["max_days"])
	require.Equal(t, "<= 90", res.Evidence.Checks[0].Expected)

	// No guard holds: the unguarded implementation needs a variable without a value.
	noCaps := debian
	noCaps.Capabilities = nil
	res = Evaluate([]*rule.Rule{r}, rs, noCaps, nil)[0]
	require.Equal(t, StatusError, res.Status)
	require.Contains(t, res.Reason, "site variable banner has no value")

	res = Evaluate([]*rule.Rule{r}, rs, Host{Family: "rhel", Version: "9.4"}, nil)[0]
	require.Equal(t, StatusSkipped, res.Status)
	require.Contains(t, res.Reason, "the rule is for debian 12 or later; the host runs rhel 9.4")
	require.Nil(t, res.Evidence)
}

func TestParseHost(t *testing.T) {
	rs := recs(map[string]string{
		keyOS:   "NAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\nPRETTY_NAME=\"Rocky Linux 9.4 (Blue Onyx)\"\n",
		keyCaps: "dnf=1\napt=0\nselinux=1\n",
	})
	h, err := ParseHost(rs)
	require.NoError(t, err)
	require.Equal(t, "rhel", h.Family)
	require.Equal(t, rule.Version("9.4"), h.Version)
	require.True(t, h.Capabilities["dnf"])
	require.False(t, h.Capabilities["apt"])

	rs = recs(map[string]string{keyOS: "ID=alpine\nVERSION_ID=3.20.1\n", keyCaps: ""})
	h, err = ParseHost(rs)
	require.NoError(t, err)
	require.Empty(t, h.Family)
	_, err = ParseHost(recs(map[string]string{keyOS: "garbage\n", keyCaps: ""}))
	require.ErrorContains(t, err, "names no ID")
}

// TestEveryCapabilityIsDetected: a guard the engine could not detect would never hold.
func TestEveryCapabilityIsDetected(t *testing.T) {
	for _, c := range rule.Capabilities {
		require.NotEmpty(t, capabilityTests[c], c)
	}
	require.Len(t, capabilityTests, len(rule.Capabilities))
}

// TestEveryMethodIsEvaluated: each method of the closed set reads records and has an
// evaluator.
func TestEveryMethodIsEvaluated(t *testing.T) {
	r := &rule.Rule{ID: "x"}
	for name, typ := range rule.Methods {
		p := newParams(typ)
		c := &rule.Check{Method: name, Params: p}
		keys := recordKeys(r, c)
		require.NotEmpty(t, keys, name)
		o := evaluateTyped(p, recs(nil), keys)
		require.NotContains(t, o.reason, "no evaluator", name)
	}
}

func newParams(t reflect.Type) any { return reflect.New(t).Interface() }
