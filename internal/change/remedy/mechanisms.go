package remedy

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/openwatch/openwatch/internal/change"
	"github.com/openwatch/openwatch/internal/rule"
)

// SysctlFile is where sysctl_set persists parameters.
const SysctlFile = "/etc/sysctl.d/99-openwatch.conf"

// AuditRulesFile is where audit_rule_set persists audit rules (before the usual
// 99-finalize.rules, which may lock the configuration).
const AuditRulesFile = "/etc/audit/rules.d/50-openwatch.rules"

// configSet sets a key in a key/value file (path: the check's file or a drop-in).
func configSet(mech string, p *rule.ConfigValue, path string) (change.Action, bool) {
	if strings.ContainsAny(p.Key, " \t=\n#") || strings.Contains(path, "\n") {
		return change.Action{}, false
	}
	line, summary := p.Key, "add "+p.Key+" to "+path
	if p.Expected != "" {
		v, ok := wanted(p.Comparator, p.Expected)
		if !ok || strings.Contains(v, "\n") {
			return change.Action{}, false
		}
		if p.Delimiter == " " {
			line = p.Key + " " + v
		} else {
			line = p.Key + " = " + v
		}
		summary = "set " + line + " in " + path
	}
	e := fileEdit{path: path, mode: "0644", filter: keyValueFilter,
		env: [][2]string{{"OW_KEY", p.Key}, {"OW_LINE", line}, {"OW_DELIM", p.Delimiter}}}
	return e.action(mech, summary, path), true
}

// sshdReload reloads a running sshd so it reads the new configuration.
const sshdReload = `if [ -d /run/systemd/system ]; then systemctl reload ssh 2>/dev/null || systemctl reload sshd 2>/dev/null; fi
true
`

// sshdSet sets an sshd keyword in path, ahead of the other settings of it (sshd takes the
// first value), validated by sshd -t before it stays.
func sshdSet(mech string, p *rule.SSHDConfig, path string) (change.Action, bool) {
	v, ok := wanted(p.Comparator, p.Expected)
	if !ok || strings.ContainsAny(p.Key, " \t=\n#") || strings.Contains(v, "\n") {
		return change.Action{}, false
	}
	line := p.Key + " " + v
	e := fileEdit{path: path, mode: "0600", filter: sshdFilter,
		env:      [][2]string{{"OW_KEY", p.Key}, {"OW_LINE", line}},
		validate: "! command -v sshd >/dev/null 2>&1 || sshd -t", validateWhat: "sshd -t",
		applyMore: sshdReload, restoreMore: sshdReload}
	return e.action(mech, "set "+line+" in "+path, path), true
}

// sysctlSet persists a kernel parameter in SysctlFile and sets it at runtime.
func sysctlSet(p *rule.Sysctl) change.Action {
	value := strings.Join(strings.Fields(p.Expected), " ")
	line := p.Key + " = " + value
	q, qv := change.Quote(p.Key), change.Quote(p.Key+"="+value)
	e := fileEdit{path: SysctlFile, mode: "0644", filter: sysctlFilter,
		env:         [][2]string{{"OW_KEY", p.Key}, {"OW_LINE", line}},
		captureMore: fmt.Sprintf("if v=$(sysctl -n -- %s 2>/dev/null); then printf 'runtime %%s\\n' \"$v\"; else echo 'runtime-absent'; fi\n", q),
		previewMore: fmt.Sprintf("if v=$(sysctl -n -- %[1]s 2>/dev/null); then\n  [ \"$(echo $v)\" = %[2]s ] || printf 'sysctl %%s: %%s -> %%s (runtime)\\n' %[1]s \"$v\" %[2]s\nfi\n", q, change.Quote(value)),
		applyMore:   fmt.Sprintf("if v=$(sysctl -n -- %[1]s 2>/dev/null); then\n  [ \"$(echo $v)\" = %[2]s ] || sysctl -q -w -- %[3]s >/dev/null || exit 1\nfi\n", q, change.Quote(value), qv),
		restoreMore: fmt.Sprintf("v=$(sed -n 's/^runtime //p' \"$OW_PRIOR\" | head -n 1)\nif grep -q '^runtime ' \"$OW_PRIOR\" && [ \"$(sysctl -n -- %[1]s 2>/dev/null)\" != \"$v\" ]; then\n  sysctl -q -w -- %[1]s=\"$v\" >/dev/null || exit 1\nfi\n", q),
	}
	return e.action("sysctl_set", fmt.Sprintf("set %s in %s and at runtime", line, SysctlFile), p.Key)
}

// kernelModule makes modprobe refuse a module (install /bin/false, blacklist) in a file
// of its own and unloads it when it is loaded.
func kernelModule(p *rule.KernelModule) change.Action {
	name := strings.ReplaceAll(p.Name, "/", "_")
	path := "/etc/modprobe.d/openwatch-" + name + ".conf"
	content := fmt.Sprintf("# Written by OpenWatch: %s is not to be loaded.\ninstall %s /bin/false\nblacklist %s\n", p.Name, p.Name, p.Name)
	loaded := fmt.Sprintf("cut -d' ' -f1 /proc/modules 2>/dev/null | tr - _ | grep -qx -- %s", change.Quote(strings.ReplaceAll(p.Name, "-", "_")))
	q := change.Quote(p.Name)
	e := fileEdit{path: path, mode: "0644", filter: contentFilter,
		env:         [][2]string{{"OW_CONTENT", content}},
		captureMore: "if " + loaded + "; then echo 'loaded yes'; else echo 'loaded no'; fi\n",
		previewMore: "if " + loaded + "; then echo \"unload " + p.Name + " (modprobe -r)\"; fi\n",
		applyMore:   "if " + loaded + "; then modprobe -r -- " + q + " || exit 1; fi\n",
		restoreMore: "if grep -qx 'loaded yes' \"$OW_PRIOR\" && ! " + loaded + "; then modprobe -- " + q + " || exit 1; fi\n",
	}
	return e.action("kernel_module_disable", fmt.Sprintf("disable kernel module %s in %s (install /bin/false, blacklist) and unload it", p.Name, path), p.Name)
}

// mountOption adds options to a mount point's /etc/fstab entry and remounts it with them.
// A mount point that is not a separate mount is left alone (the check does not apply).
func mountOption(p *rule.MountOption) change.Action {
	opts := strings.Join(p.Options, ",")
	mp := change.Quote(p.MountPoint)
	current := fmt.Sprintf("awk -v mp=%s '{ gsub(/\\\\040/, \" \", $2) } $2 == mp { o = $4 } END { if (o == \"\") exit 1; print o }' /proc/self/mounts", mp)
	missing := fmt.Sprintf(`ow_missing() {
  cur=$(%s) || return 0
  m=
  for o in $(echo %s | tr , ' '); do
    case ",$cur," in *",$o,"*) ;; *) m="$m,$o" ;; esac
  done
  echo "${m#,}"
}
`, current, change.Quote(opts))
	e := fileEdit{path: "/etc/fstab", mode: "0644", filter: fstabFilter,
		env:         [][2]string{{"OW_MP", p.MountPoint}, {"OW_OPTS", opts}},
		captureMore: "if o=$(" + current + "); then echo \"mount $o\"; else echo 'mount absent'; fi\n",
		previewMore: missing + "m=$(ow_missing)\n[ -z \"$m\" ] || echo \"remount " + p.MountPoint + " with $m\"\n",
		applyMore:   missing + "m=$(ow_missing)\n[ -z \"$m\" ] || mount -o \"remount,$m\" -- " + mp + " || exit 1\n",
		restoreMore: fmt.Sprintf(`prior=$(sed -n 's/^mount //p' "$OW_PRIOR" | head -n 1)
case $prior in ""|absent) exit 0 ;; esac
cur=$(%s) || exit 0
undo=
for o in $(echo "$cur" | tr , ' '); do
  case ",$prior," in *",$o,"*) continue ;; esac
  case $o in nodev) undo="$undo,dev" ;; nosuid) undo="$undo,suid" ;; noexec) undo="$undo,exec" ;; ro) undo="$undo,rw" ;; esac
done
[ -z "$undo" ] || mount -o "remount${undo}" -- %s || exit 1
`, current, mp),
	}
	e.applyMore = "if ! " + current + " >/dev/null; then echo " + change.Quote(p.MountPoint+" is not a separate mount: it is not remounted") + "; exit 0; fi\n" + e.applyMore
	return e.action("mount_option_set", fmt.Sprintf("mount %s with %s in /etc/fstab and remount it", p.MountPoint, opts), p.MountPoint)
}

// auditLoad loads the persisted audit rules into the kernel.
const auditLoad = `if command -v augenrules >/dev/null 2>&1; then augenrules --load >/dev/null || exit 1
elif command -v auditctl >/dev/null 2>&1; then auditctl -R "$f" >/dev/null || exit 1
else echo "auditd is not installed: the rule is persisted but not loaded" >&2; exit 1
fi
`

// auditRule persists an audit rule in AuditRulesFile and loads the rules. A rule that
// names only a key ("-k NAME") says nothing of what to audit: no action.
func auditRule(p *rule.AuditRule) (change.Action, bool) {
	f := strings.Fields(p.Rule)
	if len(f) < 2 || (f[0] != "-a" && f[0] != "-w") {
		return change.Action{}, false
	}
	line := strings.Join(f, " ")
	del := "-d"
	if f[0] == "-w" {
		del = "-W"
	}
	e := fileEdit{path: AuditRulesFile, mode: "0640", filter: appendLineFilter,
		env: [][2]string{{"OW_LINE", line}},
		// Apply loads the rules when the file changed or the kernel does not list the
		// rule as written (auditctl -l may print it in another form: loading again
		// changes nothing then).
		applyMore: "if [ -n \"$ow_changed\" ] || ! auditctl -l 2>/dev/null | tr -s ' \\t' '  ' | grep -qxF -- \"$OW_LINE\"; then\n" + auditLoad + "fi\n",
		restoreMore: "if command -v augenrules >/dev/null 2>&1; then augenrules --load >/dev/null || exit 1\n" +
			"elif command -v auditctl >/dev/null 2>&1 && ! grep -qxF -- \"$OW_LINE\" \"$f\" 2>/dev/null; then auditctl " + del + " " + quoteAll(f[1:]) + " >/dev/null 2>&1\nfi\ntrue\n",
	}
	return e.action("audit_rule_set", fmt.Sprintf("add audit rule %s to %s and load the audit rules", line, AuditRulesFile), line), true
}

// pkgHead defines ow_installed (prints the installed version, fails when absent) and
// ow_pm (apt-get or dnf, whichever the host has).
func pkgHead(name string) string {
	return fmt.Sprintf(`p=%s
ow_installed() {
  if command -v dpkg-query >/dev/null 2>&1; then
    s=$(dpkg-query -W -f='${db:Status-Abbrev}\t${Version}' -- "$p" 2>/dev/null) || return 1
    case $s in ii*|hi*) printf '%%s\n' "${s#*	}" ;; *) return 1 ;; esac
  elif command -v rpm >/dev/null 2>&1; then
    rpm -q --qf '%%{VERSION}-%%{RELEASE}\n' -- "$p" 2>/dev/null | grep -v 'not installed' | head -n 1 | grep .
  else
    return 1
  fi
}
ow_pm() {
  if command -v apt-get >/dev/null 2>&1; then echo apt
  elif command -v dnf >/dev/null 2>&1; then echo dnf
  elif command -v yum >/dev/null 2>&1; then echo yum
  else echo "neither apt-get nor dnf is installed" >&2; return 1
  fi
}
export DEBIAN_FRONTEND=noninteractive
`, change.Quote(name))
}

// ow_install installs $1 (a name, or name=version on apt, name-version on dnf);
// ow_remove removes $p and refuses when that would remove other packages too (Restore
// could not put them back).
const pkgOps = `ow_install() {
  case $(ow_pm) in
  apt)
    # Stale package lists are the usual reason an install fails: refresh them once.
    apt-get install -y -q --allow-downgrades -- "$1" >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null && apt-get install -y -q --allow-downgrades -- "$1" >/dev/null; } ;;
  dnf) dnf -y -q install "$1" >/dev/null || dnf -y -q downgrade "$1" >/dev/null ;;
  yum) yum -y -q install "$1" >/dev/null || yum -y -q downgrade "$1" >/dev/null ;;
  *) return 1 ;;
  esac
}
ow_remove() {
  case $(ow_pm) in
  apt)
    others=$(apt-get -s remove -- "$p" 2>/dev/null | awk '$1 == "Remv" && $2 != ENVIRON["p"] { print $2 }')
    if [ -n "$others" ]; then echo "removing $p would also remove: $(echo $others)" >&2; return 1; fi
    apt-get remove -y -q -- "$p" >/dev/null ;;
  dnf|yum) $(ow_pm) -y -q remove --noautoremove "$p" >/dev/null 2>&1 || $(ow_pm) -y -q remove "$p" >/dev/null ;;
  *) return 1 ;;
  esac
}
`

// packageAction installs (present) or removes a package with the host's package manager.
func packageAction(mech, name string, present bool) change.Action {
	head := pkgHead(name)
	a := change.Action{Kind: mech, Target: name}
	a.Capture = head + "if v=$(ow_installed); then echo \"package installed $v\"; else echo 'package absent'; fi\n"
	if present {
		a.Summary = "install package " + name + " (apt-get or dnf)"
		a.Preview = head + "if ! ow_installed >/dev/null; then echo \"install $p ($(ow_pm))\"; fi\n"
		a.Apply = head + pkgOps + "ow_installed >/dev/null && exit 0\nexport p\now_install \"$p\" || exit 1\now_installed >/dev/null || { echo \"$p is still not installed\" >&2; exit 1; }\n"
	} else {
		a.Summary = "remove package " + name + " (apt-get or dnf)"
		a.Preview = head + "if v=$(ow_installed); then echo \"remove $p $v ($(ow_pm))\"; fi\n"
		a.Apply = head + pkgOps + "ow_installed >/dev/null || exit 0\nexport p\now_remove || exit 1\n! ow_installed >/dev/null || { echo \"$p is still installed\" >&2; exit 1; }\n"
	}
	a.Restore = head + pkgOps + `export p
st=$(sed -n 's/^package //p' "$OW_PRIOR" | head -n 1)
now=$(ow_installed) || now=
case $st in
absent) [ -z "$now" ] || ow_remove || exit 1 ;;
installed\ *)
  v=${st#installed }
  [ "$now" = "$v" ] && exit 0
  case $(ow_pm) in apt) ow_install "$p=$v" ;; *) ow_install "$p-$v" ;; esac || exit 1 ;;
*) echo "the prior state of $p was not captured" >&2; exit 1 ;;
esac
`
	return a
}

// unitHead defines ow_sc (systemctl, on the unit files alone when systemd is not
// running) and ow_state (the unit file state: enabled, disabled, masked, static, ...,
// or not-found).
func unitHead(unit string) string {
	return fmt.Sprintf(`u=%s
ow_live() { [ -d /run/systemd/system ]; }
ow_sc() { if ow_live; then systemctl "$@"; else systemctl --root=/ "$@"; fi; }
ow_state() { s=$(ow_sc is-enabled -- "$u" 2>/dev/null | head -n 1); echo "${s:-not-found}"; }
ow_active() { if ow_live; then systemctl is-active -q -- "$u" && echo active || echo inactive; else echo -; fi; }
command -v systemctl >/dev/null 2>&1 || { echo "systemctl is not installed" >&2; exit 1; }
`, change.Quote(unit))
}

// serviceAction enables (and starts), disables (and stops) or masks a unit, from the
// check's fields; service_masked masks a unit the check wants not enabled.
func serviceAction(mech string, p *rule.ServiceState) (change.Action, bool) {
	unit := p.Name
	if !strings.Contains(unit, ".") {
		unit += ".service"
	}
	is := func(b *bool, v bool) bool { return b != nil && *b == v }
	var verb, want, live string
	switch {
	case is(p.Masked, true) || mech == "service_masked" && (is(p.Enabled, false) || is(p.Active, false)):
		verb, want, live = "mask", "masked", "stop"
	case is(p.Enabled, false) || is(p.Active, false):
		verb, want, live = "disable", "disabled", "stop"
	case is(p.Enabled, true) || is(p.Active, true):
		verb, want, live = "enable", "enabled", "start"
	default:
		return change.Action{}, false // masked: false alone
	}
	head := unitHead(unit)
	a := change.Action{Kind: mech, Target: unit}
	switch verb {
	case "mask":
		a.Summary = "mask " + unit + " (and stop it)"
	case "disable":
		a.Summary = "disable " + unit + " (and stop it)"
	default:
		a.Summary = "enable " + unit + " (and start it)"
	}
	a.Capture = head + "echo \"unit $(ow_state) $(ow_active)\"\n"
	// The unit file state: masked wants "masked"; disabled wants anything that does not
	// start by itself; enabled wants an enabled state.
	done := map[string]string{
		"masked":   `case $(ow_state) in masked*) true ;; *) false ;; esac`,
		"disabled": `case $(ow_state) in enabled*|linked*|alias|masked*) false ;; *) true ;; esac`,
		"enabled":  `case $(ow_state) in enabled*|static|alias|generated|linked*) true ;; *) false ;; esac`,
	}[want]
	liveDone := `[ "$(ow_active)" != active ]`
	if live == "start" {
		liveDone = `[ "$(ow_active)" != inactive ]`
	}
	a.Preview = head + fmt.Sprintf("%s || echo \"%s $u (unit file state $(ow_state))\"\n%s || echo \"%s $u\"\n", done, verb, liveDone, live)
	var apply strings.Builder
	apply.WriteString(head)
	fmt.Fprintf(&apply, "if ! %s; then\n", done)
	if verb == "enable" || verb == "disable" {
		apply.WriteString("  case $(ow_state) in masked*) ow_sc unmask -- \"$u\" >/dev/null 2>&1 || exit 1 ;; esac\n")
	}
	fmt.Fprintf(&apply, "  ow_sc %s -- \"$u\" >/dev/null 2>&1 || { echo \"systemctl %s $u failed\" >&2; exit 1; }\nfi\n", verb, verb)
	fmt.Fprintf(&apply, "if ow_live && ! %s; then systemctl %s -- \"$u\" || exit 1; fi\n", liveDone, live)
	a.Apply = apply.String()
	a.Restore = head + `set -- $(sed -n 's/^unit //p' "$OW_PRIOR" | head -n 1)
[ $# -eq 2 ] || { echo "the prior state of $u was not captured" >&2; exit 1; }
prior=$1 was=$2 now=$(ow_state)
if [ "$now" != "$prior" ]; then
  case $now in masked*) ow_sc unmask -- "$u" >/dev/null 2>&1 || exit 1 ;; esac
  case $prior in
  masked*) ow_sc mask -- "$u" >/dev/null 2>&1 || exit 1 ;;
  enabled*) ow_sc enable -- "$u" >/dev/null 2>&1 || exit 1 ;;
  disabled|indirect) ow_sc disable -- "$u" >/dev/null 2>&1 || exit 1 ;;
  esac
fi
if ow_live && [ "$was" != - ] && [ "$(ow_active)" != "$was" ]; then
  case $was in active) systemctl start -- "$u" ;; inactive) systemctl stop -- "$u" ;; esac || exit 1
fi
`
	return a, true
}

// filePermissions takes away the mode bits beyond the check's mode and sets its owner
// and group. A path that does not exist is left alone (the check does not apply).
func filePermissions(p *rule.FilePermission) change.Action {
	var want []string
	if p.Mode != "" {
		want = append(want, "mode "+fourDigits(p.Mode)+" or stricter")
	}
	if p.Owner != "" {
		want = append(want, "owner "+p.Owner)
	}
	if p.Group != "" {
		want = append(want, "group "+p.Group)
	}
	head := fmt.Sprintf("f=%s\nmask=%s\nowner=%s\ngroup=%s\n", change.Quote(p.Path), change.Quote(p.Mode), change.Quote(p.Owner), change.Quote(p.Group)) + `ow_new_mode() { cur=$(stat -c %a -- "$f") || return 1; if [ -n "$mask" ]; then printf '%o\n' $(( 0$cur & 0$mask )); else printf '%o\n' $(( 0$cur )); fi; }
`
	a := change.Action{Kind: "file_permissions", Target: p.Path,
		Summary: "make " + p.Path + " " + strings.Join(want, ", ")}
	a.Capture = head + `if [ -e "$f" ]; then echo "perm present $(stat -c '%a %u %g' -- "$f")"; else echo 'perm absent'; fi
`
	a.Preview = head + `[ -e "$f" ] || exit 0
m=$(ow_new_mode) || exit 1
cur=$(stat -c %a -- "$f")
[ "$(( 0$m ))" = "$(( 0$cur ))" ] || echo "chmod $m $f (was $cur)"
[ -z "$owner" ] || [ "$(stat -c %U -- "$f")" = "$owner" ] || echo "chown $owner $f (was $(stat -c %U -- "$f"))"
[ -z "$group" ] || [ "$(stat -c %G -- "$f")" = "$group" ] || echo "chgrp $group $f (was $(stat -c %G -- "$f"))"
`
	a.Apply = head + `[ -e "$f" ] || { echo "$f does not exist: nothing to do"; exit 0; }
[ -z "$owner" ] || [ "$(stat -c %U -- "$f")" = "$owner" ] || chown -- "$owner" "$f" || exit 1
[ -z "$group" ] || [ "$(stat -c %G -- "$f")" = "$group" ] || chgrp -- "$group" "$f" || exit 1
m=$(ow_new_mode) || exit 1
cur=$(stat -c %a -- "$f")
[ "$(( 0$m ))" = "$(( 0$cur ))" ] || chmod -- "$m" "$f" || exit 1
`
	a.Restore = head + `set -- $(sed -n 's/^perm //p' "$OW_PRIOR" | head -n 1)
case $1 in
absent) exit 0 ;;
present) [ -e "$f" ] || exit 0; chown -- "$3:$4" "$f" && chmod -- "$2" "$f" || exit 1 ;;
*) echo "the prior state of $f was not captured" >&2; exit 1 ;;
esac
`
	return a
}

func fourDigits(mode string) string {
	for len(mode) < 4 {
		mode = "0" + mode
	}
	return mode
}

func quoteAll(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = change.Quote(w)
	}
	return strings.Join(q, " ")
}

// fileTree takes away the mode bits beyond the check's mode and sets the owner and group
// of every directory or file of the tree that breaks them, walking it as the engine does.
// A largest group id is not a group to set: no action.
func fileTree(p *rule.FileTree) (change.Action, bool) {
	if p.MaxGID != nil {
		return change.Action{}, false
	}
	var conds, want []string
	if p.Owner != "" {
		conds = append(conds, "! -user "+change.Quote(p.Owner))
		want = append(want, "owner "+p.Owner)
	}
	if p.Group != "" {
		conds = append(conds, "! -group "+change.Quote(p.Group))
		want = append(want, "group "+p.Group)
	}
	if p.Mode != "" {
		m, _ := strconv.ParseUint(p.Mode, 8, 32) // validated: an octal mode
		if extra := 0o777 &^ m; extra != 0 {
			conds = append(conds, fmt.Sprintf("-perm /%04o", extra))
		}
		want = append(want, "mode "+fourDigits(p.Mode)+" or stricter")
	}
	if len(conds) == 0 {
		return change.Action{}, false
	}
	broken := "\\( " + strings.Join(conds, " -o ") + " \\)"
	kind := "directory"
	if p.Type == "file" {
		kind = "file"
	}
	a := change.Action{Kind: "file_permissions", Target: strings.Join(p.Roots, " "),
		Summary: fmt.Sprintf("give every %s below %s %s", kind, strings.Join(p.Roots, ", "), strings.Join(want, ", "))}
	// ow_walk COND... ACTION... runs find over the tree with the given expression.
	head := treeWalkFunc(p) + "ow_broken() { ow_walk " + broken + " \"$@\"; }\n"
	a.Capture = head + fmt.Sprintf(`t=$(mktemp) || exit 1
trap 'rm -f "$t"' EXIT
ow_broken -printf 'tree %%m %%U %%G %%p\n' > "$t"
n=$(wc -c < "$t")
[ "$n" -le %d ] || { echo "$(wc -l < "$t") paths break the rule: more than a change can roll back" >&2; exit 3; }
cat "$t"
`, change.MaxPriorBytes-1024)
	a.Preview = head + `ow_broken -printf '%p: mode %m, owner %u, group %g\n'
`
	var apply strings.Builder
	apply.WriteString(head)
	if p.Owner != "" {
		fmt.Fprintf(&apply, "ow_walk ! -user %[1]s -exec chown -- %[1]s {} +\n", change.Quote(p.Owner))
	}
	if p.Group != "" {
		fmt.Fprintf(&apply, "ow_walk ! -group %[1]s -exec chgrp -- %[1]s {} +\n", change.Quote(p.Group))
	}
	if p.Mode != "" {
		m, _ := strconv.ParseUint(p.Mode, 8, 32) // validated: an octal mode
		if extra := 0o777 &^ m; extra != 0 {
			fmt.Fprintf(&apply, "ow_walk -perm /%04o -exec chmod -- %s {} +\n", extra, symbolicRemove(extra))
		}
	}
	// find's status says nothing (a dangling link under -L is an error): what is left
	// broken does.
	apply.WriteString("left=$(ow_broken -print | head -n 5)\n[ -z \"$left\" ] || { echo \"still breaking the rule: $left\" >&2; exit 1; }\n")
	a.Apply = apply.String()
	a.Restore = head + `sed -n 's/^tree //p' "$OW_PRIOR" | {
  rc=0
  while read -r m u g path; do
    [ -e "$path" ] || continue
    chown -- "$u:$g" "$path" && chmod -- "$m" "$path" || rc=1
  done
  exit $rc
}
`
	return a, true
}

// treeWalkFunc defines ow_walk EXPR...: find over the check's roots (those that exist
// and are not links), with its options, type and exclusions, then EXPR.
func treeWalkFunc(p *rule.FileTree) string {
	opts := ""
	if p.SameFilesystem {
		opts += " -xdev"
	}
	if p.MaxDepth > 0 {
		opts += fmt.Sprintf(" -maxdepth %d", p.MaxDepth)
	}
	if p.Type == "directory" {
		opts += " -type d"
	} else {
		opts += " -type f"
	}
	for _, n := range p.ExcludeNames {
		opts += " ! -name " + change.Quote(n)
	}
	// A name with a newline cannot be one line of the prior state: it is left alone.
	opts += ` ! -name "$(printf '*\n*')"`
	follow := ""
	if p.FollowSymlinks {
		follow = "-L "
	}
	// The arguments are the expression: the roots and options go before it.
	return fmt.Sprintf(`ow_walk() {
  n=$# k=0
  for d in %s; do
    if [ -d "$d" ] && [ ! -L "$d" ]; then set -- "$@" "$d"; k=$((k + 1)); fi
  done
  [ "$k" -gt 0 ] || return 0
  set -- "$@"%s
  i=0
  while [ "$i" -lt "$n" ]; do set -- "$@" "$1"; shift; i=$((i + 1)); done
  find %s"$@" 2>/dev/null
  return 0
}
`, quoteAll(p.Roots), opts, follow)
}

// symbolicRemove is chmod's symbolic mode taking away the permission bits of extra.
func symbolicRemove(extra uint64) string {
	var parts []string
	for i, class := range []string{"u", "g", "o"} {
		bits := (extra >> (3 * (2 - i))) & 0o7
		var s string
		for j, letter := range []string{"r", "w", "x"} {
			if bits&(1<<(2-j)) != 0 {
				s += letter
			}
		}
		if s != "" {
			parts = append(parts, class+"-"+s)
		}
	}
	return strings.Join(parts, ",")
}
