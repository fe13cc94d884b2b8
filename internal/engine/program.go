package engine

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/openwatch/openwatch/internal/rule"
	"github.com/openwatch/openwatch/internal/sshx"
)

// Output caps, on the target: a check's own record, and a shared source that many checks
// read.
const (
	CheckOutputCap  = 4 << 10
	SourceOutputCap = 256 << 10
)

// Keys of the shared records.
const (
	keyOS         = "os"
	keyCaps       = "capabilities"
	keySSHD       = "sshd"
	keyPackages   = "packages"
	keyUnits      = "units"
	keyTarget     = "default-target"
	keySysctl     = "sysctl"
	keySysctlD    = "sysctl-files"
	keyModprobe   = "modprobe"
	keyMounts     = "mounts"
	keyStat       = "stat"
	keyCmdline    = "cmdline"
	keyBootConfig = "boot-config"
	keyAuditctl   = "auditctl"
	keyAuditFiles = "audit-rules-files"
	keySELinux    = "selinux"
	keyAppArmor   = "apparmor"
	keyConfig     = "config-files"
)

// recordSpec is one command of the program.
type recordSpec struct {
	Key     string
	Command string // the shell text, as evidence shows it
	Cap     int
	Root    bool // meaningless without root: an unprivileged run is an error
	// Families, when set, are the platform families the record is for: on a host of
	// another family the program does not run it (a check of a rule for RHEL on Debian).
	Families []string
	// Async records (long walks of file trees) start in the background when the program
	// starts and overlap the others; their frames come last, each waiting for its own.
	// Never with Families.
	Async bool
}

// Program is a host's compiled scan: the records to run, in order.
type Program struct {
	Records []recordSpec
	// CheckTimeout bounds each record on the target (timeout(1), when present).
	CheckTimeout time.Duration
}

// needs accumulates what the checks read from the shared sources.
type needs struct {
	packages, units, sysctl, paths []string
	configs                        []*configGroup
	own                            []recordSpec // per-check records, in check order
	shared                         map[string]bool
	trees                          []*treeWalk // in check order
	treeKeys                       map[string]*treeWalk
}

func (n *needs) addTree(p *rule.FileTree) {
	key := treeKey(p)
	w, ok := n.treeKeys[key]
	if !ok {
		w = &treeWalk{shape: p}
		n.treeKeys[key] = w
		n.trees = append(n.trees, w)
	}
	w.add(p)
}

// configGroup is a key/value file with its drop-in directory and the keys checks read.
type configGroup struct {
	path, dropin string
	keys         []string
}

func (n *needs) addConfig(p *rule.ConfigValue) {
	dropin := strings.TrimSuffix(p.DropinDir, "/")
	for _, g := range n.configs {
		if g.path == p.Path && g.dropin == dropin {
			if !slices.Contains(g.keys, p.Key) {
				g.keys = append(g.keys, p.Key)
			}
			return
		}
	}
	n.configs = append(n.configs, &configGroup{path: p.Path, dropin: dropin, keys: []string{p.Key}})
}

func (n *needs) add(list *[]string, v string) {
	if !slices.Contains(*list, v) {
		*list = append(*list, v)
	}
}

func (n *needs) addOwn(r recordSpec) {
	for _, o := range n.own {
		if o.Key == r.Key {
			return
		}
	}
	n.own = append(n.own, r)
}

// Compile builds the program for rules: the host's identity and capabilities, every
// shared source any implementation of any rule reads, and the checks' own records. Every
// implementation is included because which one applies is known only once the host has
// answered, in the same session.
func Compile(rules []*rule.Rule, checkTimeout time.Duration) *Program {
	n := &needs{shared: map[string]bool{}, treeKeys: map[string]*treeWalk{}}
	for _, r := range rules {
		for _, im := range r.Implementations {
			im.Check.Walk(func(c *rule.Check) { collect(r, c, n) })
		}
	}
	p := &Program{CheckTimeout: checkTimeout}
	p.add(recordSpec{Key: keyOS, Command: osScript, Cap: SourceOutputCap})
	p.add(recordSpec{Key: keyCaps, Command: capabilityScript(), Cap: SourceOutputCap})
	if n.shared[keySSHD] {
		p.add(recordSpec{Key: keySSHD, Command: "command -v sshd >/dev/null 2>&1 || { echo '#!absent'; exit 0; }\nsshd -T", Cap: SourceOutputCap, Root: true})
	}
	if len(n.packages) > 0 {
		p.add(recordSpec{Key: keyPackages, Command: packagesScript(n.packages), Cap: SourceOutputCap})
	}
	if len(n.units) > 0 {
		p.add(recordSpec{Key: keyUnits, Command: unitsScript(n.units), Cap: SourceOutputCap})
	}
	if n.shared[keyTarget] {
		p.add(recordSpec{Key: keyTarget, Command: "[ -d /run/systemd/system ] || { echo '#!nosystemd'; exit 0; }\nsystemctl get-default", Cap: CheckOutputCap})
	}
	if len(n.sysctl) > 0 {
		p.add(recordSpec{Key: keySysctl, Command: "command -v sysctl >/dev/null 2>&1 || { echo '#!nosysctl'; exit 0; }\nsysctl -e -- " + quoteAll(n.sysctl) + "\ntrue", Cap: SourceOutputCap})
		p.add(recordSpec{Key: keySysctlD, Command: sysctlFilesScript(n.sysctl), Cap: SourceOutputCap})
	}
	if n.shared[keyModprobe] {
		p.add(recordSpec{Key: keyModprobe, Command: "command -v modprobe >/dev/null 2>&1 || { echo '#!nomodprobe'; exit 0; }\nmodprobe --showconfig 2>/dev/null | grep -E '^(blacklist|install)[[:space:]]'\necho '#!loaded'\ncut -d' ' -f1 /proc/modules 2>/dev/null\ntrue", Cap: SourceOutputCap})
	}
	if n.shared[keyMounts] {
		p.add(recordSpec{Key: keyMounts, Command: "cat /proc/self/mounts", Cap: SourceOutputCap})
	}
	if len(n.configs) > 0 {
		p.add(recordSpec{Key: keyConfig, Command: configScript(n.configs), Cap: SourceOutputCap})
	}
	if len(n.paths) > 0 {
		p.add(recordSpec{Key: keyStat, Command: "for p in " + quoteAll(n.paths) + "; do\n  if [ -e \"$p\" ] || [ -L \"$p\" ]; then stat -c '%a\t%U\t%G\t%F\t%n' -- \"$p\"; else printf '#!absent\\t%s\\n' \"$p\"; fi\ndone", Cap: SourceOutputCap})
	}
	if n.shared[keyCmdline] {
		p.add(recordSpec{Key: keyCmdline, Command: "cat /proc/cmdline", Cap: SourceOutputCap})
		p.add(recordSpec{Key: keyBootConfig, Command: bootConfigScript, Cap: SourceOutputCap})
	}
	if n.shared[keyAuditctl] {
		p.add(recordSpec{Key: keyAuditctl, Command: "command -v auditctl >/dev/null 2>&1 || { echo '#!noauditctl'; exit 0; }\nauditctl -l", Cap: SourceOutputCap, Root: true})
		p.add(recordSpec{Key: keyAuditFiles, Command: "for f in /etc/audit/rules.d/*.rules; do\n  [ -f \"$f\" ] || continue\n  printf '#!file\\t%s\\n' \"$f\"\n  grep -E '^[[:space:]]*-[aw][[:space:]]' -- \"$f\"\ndone\ntrue", Cap: SourceOutputCap, Root: true})
	}
	if n.shared[keySELinux] {
		p.add(recordSpec{Key: keySELinux, Command: "if command -v getenforce >/dev/null 2>&1; then getenforce\nelif [ -r /sys/fs/selinux/enforce ]; then if [ \"$(cat /sys/fs/selinux/enforce)\" = 1 ]; then echo Enforcing; else echo Permissive; fi\nelse echo Disabled; fi", Cap: CheckOutputCap})
	}
	if n.shared[keyAppArmor] {
		p.add(recordSpec{Key: keyAppArmor, Command: "cat /sys/module/apparmor/parameters/enabled 2>/dev/null || echo N\necho '#!profiles'\ncat /sys/kernel/security/apparmor/profiles 2>/dev/null\ntrue", Cap: SourceOutputCap, Root: true})
	}
	for _, r := range n.own {
		p.add(r)
	}
	for _, w := range n.trees {
		p.add(recordSpec{Key: treeKey(w.shape), Command: w.script(), Cap: SourceOutputCap, Root: w.shape.Root, Async: true})
	}
	return p
}

func (p *Program) add(r recordSpec) {
	p.Records = append(p.Records, r)
}

// Commands renders the program as sshx batch commands: each calls the prelude's wrapper
// with its cap and script.
func (p *Program) Commands() []sshx.Command {
	cmds := make([]sshx.Command, len(p.Records))
	for i, r := range p.Records {
		run := r.run()
		if len(r.Families) > 0 {
			run = fmt.Sprintf("case \"$OW_FAMILY\" in\n%s)\n%s\n;;\n*) echo '%s' ;;\nesac", strings.Join(r.Families, "|"), run, notForPlatform)
		}
		if r.Async {
			// The prelude started it (when it could make its directory): wait for its status
			// file, then replay its output; otherwise run it here.
			run = fmt.Sprintf("if [ -n \"$OW_T\" ]; then\n  n=0\n  while [ ! -e \"$OW_T/%[1]d.r\" ]; do\n"+
				"    n=$((n + 1)); [ \"$n\" -le %[2]d ] || exit 124\n    sleep 0.02 2>/dev/null || sleep 1\n  done\n"+
				"  cat \"$OW_T/%[1]d.o\"; cat \"$OW_T/%[1]d.e\" >&2; exit \"$(cat \"$OW_T/%[1]d.r\")\"\nfi\n%[3]s",
				i, p.asyncWaitTicks(), run)
		}
		cmds[i] = sshx.Command{Name: r.Key, Script: run}
	}
	return cmds
}

// run is the record's script under the prelude's wrapper. The script goes in a
// here-document: no quoting, so no growth.
func (r recordSpec) run() string {
	return fmt.Sprintf("ow_run %d <<'%s'\n%s\n%s", r.Cap+1, heredocEnd, r.Command, heredocEnd)
}

// asyncWaitTicks bounds how many 20 ms waits a record waits for its background run: its
// timeout and the kill's grace, and some more.
func (p *Program) asyncWaitTicks() int {
	return (p.timeoutSecs() + 5) * 50
}

func (p *Program) timeoutSecs() int {
	return max(int(p.CheckTimeout.Round(time.Second)/time.Second), 1)
}

// asyncStart is the prelude's part that starts the async records in the background, each
// writing its output, errors and status to files in a private directory (OW_T, removed
// when the program exits); the status file appears last, whole.
func (p *Program) asyncStart() string {
	var b strings.Builder
	for i, r := range p.Records {
		if !r.Async {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("OW_T=\nif OW_T=$(mktemp -d 2>/dev/null); then trap 'rm -rf \"$OW_T\"' EXIT; else OW_T=; fi\nif [ -n \"$OW_T\" ]; then\n")
		}
		fmt.Fprintf(&b, "( ow_run %d >\"$OW_T/%d.o\" 2>\"$OW_T/%d.e\" <<'%s'\n%s\n%s\necho $? >\"$OW_T/%d.x\"; mv \"$OW_T/%d.x\" \"$OW_T/%d.r\" ) </dev/null &\n",
			r.Cap+1, i, i, heredocEnd, r.Command, heredocEnd, i, i, i)
	}
	if b.Len() > 0 {
		b.WriteString("fi")
	}
	return b.String()
}

// heredocEnd ends a record's script; no script may contain it on a line of its own.
const heredocEnd = "OW_END_OF_RECORD"

// notForPlatform is the output of a record the program did not run because the host's
// platform family is not one it is for.
const notForPlatform = "#!not-for-platform"

// Prelude defines ow_run CAP, which reads a script on its standard input: it runs it under timeout(1) when the host has it,
// keeps the first CAP bytes of its standard output (the program asks for one more than
// the record's cap, so truncation shows) and the first 2 KiB of its standard error, and
// exits with the script's status: 124 on a timeout, 141 when the cap cut it short. Then it
// starts the async records in the background (asyncStart).
func (p *Program) Prelude() string {
	secs := p.timeoutSecs()
	pre := fmt.Sprintf(`OW_ID=; OW_LIKE=
for f in /etc/os-release /usr/lib/os-release; do
  [ -r "$f" ] || continue
  while IFS='=' read -r k v; do
    v=${v#[\"\']}; v=${v%%[\"\']}
    case $k in ID) OW_ID=$v ;; ID_LIKE) OW_LIKE=$v ;; esac
  done < "$f"
  break
done
case $OW_ID in
debian|ubuntu) OW_FAMILY=$OW_ID ;;
%s) OW_FAMILY=rhel ;;
*) case " $OW_LIKE " in *" rhel "*) OW_FAMILY=rhel ;; *) OW_FAMILY=unknown ;; esac ;;
esac
ow_run() {
  S=$(cat)
  exec 4>&1
  rc=$( { { if command -v timeout >/dev/null 2>&1; then timeout -k 2 %d /bin/sh -c "$S" </dev/null; else /bin/sh -c "$S" </dev/null; fi; echo $? >&3; } | head -c "$1" >&4; } 3>&1 )
  return "${rc:-1}"
}`, strings.Join(slices.Sorted(maps.Keys(rhelLike)), "|"), secs)
	if async := p.asyncStart(); async != "" {
		pre += "\n" + async
	}
	return pre
}

// collect records what a check reads.
func collect(r *rule.Rule, c *rule.Check, n *needs) {
	switch p := c.Params.(type) {
	case *rule.ConfigValue:
		n.addConfig(p)
	case *rule.SSHDConfig:
		n.shared[keySSHD] = true
	case *rule.Sysctl:
		n.add(&n.sysctl, p.Key)
	case *rule.PackageState:
		n.add(&n.packages, p.Name)
	case *rule.ServiceState:
		n.add(&n.units, p.Name)
	case *rule.KernelModule:
		n.shared[keyModprobe] = true
	case *rule.MountOption:
		n.shared[keyMounts] = true
	case *rule.FilePermission:
		n.add(&n.paths, p.Path)
	case *rule.FileExists:
		n.add(&n.paths, p.Path)
	case *rule.FileTree:
		n.addTree(p)
	case *rule.FileContent:
		n.addOwn(recordSpec{Key: "file " + p.Path, Command: "[ -f " + shellQuote(p.Path) + " ] || exit 3\ncat -- " + shellQuote(p.Path), Cap: CheckOutputCap, Root: rootPath(p.Path)})
	case *rule.AuditRule:
		n.shared[keyAuditctl] = true
	case *rule.GrubParameter:
		n.shared[keyCmdline] = true
	case *rule.SELinuxState:
		n.shared[keySELinux] = true
	case *rule.AppArmorState:
		n.shared[keyAppArmor] = true
	case *rule.SystemdTarget:
		n.shared[keyTarget] = true
	case *rule.Command:
		var families []string
		for _, pl := range r.Platforms {
			if !slices.Contains(families, pl.Family) {
				families = append(families, pl.Family)
			}
		}
		n.addOwn(recordSpec{Key: commandKey(r, c), Command: p.Script, Cap: CheckOutputCap, Root: p.Root, Families: families})
	}
}

// commandKey names a command check's record by its rule and its position among the
// rule's checks.
func commandKey(r *rule.Rule, target *rule.Check) string {
	i := 0
	for _, im := range r.Implementations {
		found := false
		im.Check.Walk(func(c *rule.Check) {
			if c == target {
				found = true
			}
			if !found {
				i++
			}
		})
		if found {
			break
		}
	}
	return "command " + r.ID + "#" + strconv.Itoa(i)
}

// configScript lists, for each key/value file and the *.conf files of its drop-in
// directory (in name order), whether it exists ("#!file<TAB>PATH<TAB>1", 0 when it does not,
// "unreadable" when it cannot be read) followed by its non-comment lines that set one of
// the keys, prefixed with the file name (grep -H: "PATH:LINE"). One grep per file, however
// many checks read it.
func configScript(groups []*configGroup) string {
	var b strings.Builder
	for _, g := range groups {
		alts := make([]string, len(g.keys))
		for i, k := range g.keys {
			alts[i] = regexp.QuoteMeta(k)
		}
		pattern := "^[[:space:]]*(" + strings.Join(alts, "|") + ")([[:space:]]*=|[[:space:]]|$)"
		files := shellQuote(g.path)
		if g.dropin != "" {
			files += " " + shellQuote(g.dropin) + "/*.conf"
		}
		fmt.Fprintf(&b, "for f in %s; do\n  if [ ! -e \"$f\" ]; then printf '#!file\\t%%s\\t0\\n' \"$f\"\n"+
			"  elif [ ! -r \"$f\" ]; then printf '#!file\\t%%s\\tunreadable\\n' \"$f\"\n"+
			"  else printf '#!file\\t%%s\\t1\\n' \"$f\"; grep -HiE -- %s \"$f\"; fi\ndone\n", files, shellQuote(pattern))
	}
	b.WriteString("true")
	return b.String()
}

// rootPath reports whether reading a file there needs root on common systems.
func rootPath(p string) bool {
	for _, prefix := range []string{"/etc/audit", "/etc/sudoers", "/etc/shadow", "/etc/gshadow", "/var/log/audit", "/etc/security/opasswd", "/boot/grub"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

const osScript = "cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release"

// capabilityScript prints one "name=1" or "name=0" line per capability.
func capabilityScript() string {
	var b strings.Builder
	b.WriteString("c() { if eval \"$2\" >/dev/null 2>&1; then echo \"$1=1\"; else echo \"$1=0\"; fi; }\n")
	for _, name := range rule.Capabilities {
		fmt.Fprintf(&b, "c %s %s\n", name, shellQuote(capabilityTests[name]))
	}
	return b.String()
}

// capabilityTests holds a POSIX sh test per capability; every rule.Capabilities name must
// have one (a test checks).
var capabilityTests = map[string]string{
	"apt":              "command -v apt-get",
	"dnf":              "command -v dnf || command -v yum",
	"sshd_config_d":    "[ -d /etc/ssh/sshd_config.d ] && grep -Eiq '^[[:space:]]*include[[:space:]]+/etc/ssh/sshd_config\\.d/' /etc/ssh/sshd_config",
	"gdm":              "command -v gdm3 || command -v gdm || [ -e /usr/sbin/gdm3 ] || [ -e /usr/sbin/gdm ]",
	"authselect":       "command -v authselect && authselect current",
	"pam_faillock":     "ls /lib/*/security/pam_faillock.so /lib64/security/pam_faillock.so /usr/lib/*/security/pam_faillock.so /usr/lib64/security/pam_faillock.so 2>/dev/null | grep -q .",
	"selinux":          "[ -e /sys/fs/selinux/enforce ]",
	"apparmor":         "[ \"$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)\" = Y ]",
	"firewalld":        "command -v firewall-cmd || command -v firewalld",
	"nftables_active":  "[ -d /run/systemd/system ] && systemctl is-active -q nftables",
	"rsyslog_active":   "[ -d /run/systemd/system ] && systemctl is-active -q rsyslog",
	"sssd":             "command -v sssd || [ -x /usr/sbin/sssd ]",
	"sssd_configured":  "[ -f /etc/sssd/sssd.conf ]",
	"directory_joined": "{ command -v realm && realm list | grep -q .; } || grep -Eqs '^[[:space:]]*domains[[:space:]]*=' /etc/sssd/sssd.conf",
	"systemd":          "[ -d /run/systemd/system ]",
	"journald_remote":  "[ -e /lib/systemd/systemd-journal-remote ] || [ -e /usr/lib/systemd/systemd-journal-remote ]",
	"grub":             "[ -f /etc/default/grub ] || [ -d /boot/grub ] || [ -d /boot/grub2 ]",
}

// packagesScript prints "#!dpkg" or "#!rpm" and then one line per installed package the
// rules name: name, tab, status (dpkg only), tab, version.
func packagesScript(names []string) string {
	q := quoteAll(names)
	return "if command -v dpkg-query >/dev/null 2>&1; then echo '#!dpkg'; dpkg-query -W -f='${Package}\\t${db:Status-Abbrev}\\t${Version}\\n' -- " + q + " 2>/dev/null\n" +
		"elif command -v rpm >/dev/null 2>&1; then echo '#!rpm'; rpm -q --qf '%{NAME}\\tii \\t%{VERSION}-%{RELEASE}\\n' -- " + q + " 2>/dev/null | grep -v 'is not installed'\n" +
		"else echo '#!none'; fi\ntrue"
}

// unitsScript describes the units: with systemd running, one systemctl show for all;
// without it (a container, or another init) "#!offline" and each unit's unit file state
// read from disk (systemctl --root), since nothing is active under a systemd that is not
// running; "#!nosystemd" without systemctl at all.
func unitsScript(units []string) string {
	q := quoteAll(units)
	// Offline, systemctl --root answers for several units at once but stops at the first
	// one it cannot find: ask it only about units with a unit file.
	return "if [ -d /run/systemd/system ]; then systemctl show -p Names -p LoadState -p ActiveState -p UnitFileState -- " + q + "\n" +
		"elif command -v systemctl >/dev/null 2>&1; then echo '#!offline'\n" +
		"  found=\n" +
		"  for u in " + q + "; do\n" +
		"    case $u in *.*) n=$u ;; *) n=$u.service ;; esac\n" +
		"    if [ -e /etc/systemd/system/$n ] || [ -e /run/systemd/system/$n ] || [ -e /lib/systemd/system/$n ] || [ -e /usr/lib/systemd/system/$n ]; then found=\"$found $n\"\n" +
		"    else printf '%s\\tnot-found\\n' \"$n\"; fi\n" +
		"  done\n" +
		"  if [ -n \"$found\" ]; then\n" +
		"    states=$(systemctl --root=/ is-enabled -- $found 2>/dev/null)\n" +
		"    set -- $found\n" +
		"    for st in $states; do printf '%s\\t%s\\n' \"$1\" \"$st\"; shift; done\n" +
		"    for n in \"$@\"; do st=$(systemctl --root=/ is-enabled -- \"$n\" 2>/dev/null | head -n 1); printf '%s\\t%s\\n' \"$n\" \"${st:-not-found}\"; done\n" +
		"  fi\n" +
		"else echo '#!nosystemd'; fi\ntrue"
}

// sysctlDirs are the directories systemd-sysctl reads, highest precedence first; a file
// name in an earlier one hides the same name in later ones. /etc/sysctl.conf comes last.
var sysctlDirs = []string{"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"}

// sysctlFilesScript lists every sysctl configuration file ("#!file\tPATH") and the lines
// in them that set one of the keys (grep -H: "PATH:LINE").
func sysctlFilesScript(keys []string) string {
	alts := make([]string, len(keys))
	for i, k := range keys {
		alts[i] = strings.ReplaceAll(regexp.QuoteMeta(k), `\.`, `[./]`)
	}
	pattern := "^[[:space:]]*-?(" + strings.Join(alts, "|") + ")[[:space:]]*="
	var globs []string
	for _, d := range sysctlDirs {
		globs = append(globs, d+"/*.conf")
	}
	return "for f in " + strings.Join(globs, " ") + " /etc/sysctl.conf; do\n  [ -f \"$f\" ] || continue\n  printf '#!file\\t%s\\n' \"$f\"\n  grep -HE -- " + shellQuote(pattern) + " \"$f\"\ndone\ntrue"
}

// bootConfigScript prints the kernel command lines the boot loader is configured with:
// GRUB's defaults, BootLoaderSpec entries and grubenv, each line prefixed with its file
// ("#!file" lines list the files found).
const bootConfigScript = `for f in /etc/default/grub /etc/default/grub.d/*.cfg /boot/loader/entries/*.conf /boot/grub2/grubenv; do
  [ -f "$f" ] || continue
  printf '#!file\t%s\n' "$f"
  grep -HE '^[[:space:]]*(GRUB_CMDLINE_LINUX(_DEFAULT)?=|options[[:space:]]|kernelopts=)' -- "$f"
done
true`

// shellQuote quotes s as one POSIX sh word: bare when it has only characters the shell
// takes literally, single-quoted otherwise.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@+,=") == "" && !strings.HasPrefix(s, "-") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func quoteAll(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = shellQuote(s)
	}
	return strings.Join(q, " ")
}
