package engine

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/openwatch/openwatch/internal/rule"
)

// compare applies a comparator: "=" (the default) and "!=" compare text (optionally
// without case), the others integers. ok is false when a value is not a number.
func compare(actual, comparator, expected string, fold bool) (match, ok bool) {
	switch comparator {
	case "", "=", "!=":
		eq := actual == expected || (fold && strings.EqualFold(actual, expected))
		return eq == (comparator != "!="), true
	}
	a, errA := strconv.ParseInt(strings.TrimSpace(actual), 10, 64)
	e, errE := strconv.ParseInt(strings.TrimSpace(expected), 10, 64)
	if errA != nil || errE != nil {
		return false, false
	}
	switch comparator {
	case "<=":
		return a <= e, true
	case ">=":
		return a >= e, true
	case "<":
		return a < e, true
	case ">":
		return a > e, true
	}
	return false, false
}

func describeExpected(comparator, expected string) string {
	switch comparator {
	case "", "=":
		return expected
	}
	return comparator + " " + expected
}

// --- config_value ---

func evalConfigValue(p *rule.ConfigValue, rs *Records) outcome {
	rec, problem := rs.get(keyConfig)
	if problem != "" {
		return errored(problem)
	}
	dropin := strings.TrimSuffix(p.DropinDir, "/")
	ours := func(file string) bool {
		return file == p.Path || dropin != "" && path.Dir(file) == dropin && strings.HasSuffix(file, ".conf")
	}
	absent, reading := false, ""
	var last, lastFile, lastLine string
	var found []string
	for _, l := range lines(rec.Stdout) {
		if header, ok := strings.CutPrefix(l, "#!file\t"); ok {
			file, state, _ := strings.Cut(header, "\t")
			switch {
			case !ours(file):
				reading = ""
			case state == "unreadable":
				return errored(fmt.Sprintf("%s cannot be read without root, and the host gives none", file))
			case state == "0" && file == p.Path:
				absent, reading = true, ""
			default:
				reading = file
			}
			continue
		}
		file, text, ok := strings.Cut(l, ":")
		if !ok || reading == "" || file != reading {
			continue
		}
		key, value, ok := splitKeyValue(text, p.Delimiter)
		if !ok || !strings.EqualFold(key, p.Key) {
			continue
		}
		found = append(found, l)
		last, lastFile, lastLine = value, file, l
	}
	output := strings.Join(found, "\n")
	expected := describeExpected(p.Comparator, p.Expected)
	if len(found) == 0 {
		where := p.Path
		if p.DropinDir != "" {
			where += " or " + p.DropinDir + "/*.conf"
		}
		reason := fmt.Sprintf("%s is not set in %s", p.Key, where)
		if absent && p.DropinDir == "" {
			reason = fmt.Sprintf("%s does not exist, so %s is not set", p.Path, p.Key)
		}
		if p.Expected == "" {
			expected = p.Key + " present"
		}
		return fail(reason, expected, "not set", output)
	}
	if p.Expected == "" {
		return pass(p.Key+" present", "present in "+lastFile, output)
	}
	match, ok := compare(last, p.Comparator, p.Expected, p.CaseInsensitive)
	if !ok {
		if _, err := strconv.ParseInt(p.Expected, 10, 64); err != nil {
			return errored(fmt.Sprintf("the rule compares %s numerically with %q, which is not a number", p.Key, p.Expected))
		}
		return fail(fmt.Sprintf("%s is %q in %s, not a number", p.Key, last, lastFile), expected, last, output)
	}
	if !match {
		return fail(fmt.Sprintf("%s is %s in %s", p.Key, last, lastFile), expected, last, lastLine)
	}
	return pass(expected, last, output)
}

// splitKeyValue splits "key = value" or "key value" (delimiter "=" or " "; empty: either)
// and strips quotes around the value.
func splitKeyValue(line, delimiter string) (key, value string, ok bool) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return "", "", false
	}
	end := strings.IndexFunc(line, func(r rune) bool { return r == '=' || r == ' ' || r == '\t' })
	if end < 0 {
		return line, "", true // a bare flag
	}
	key, rest := line[:end], strings.TrimSpace(line[end:])
	if delimiter != " " && strings.HasPrefix(rest, "=") {
		rest = strings.TrimSpace(rest[1:])
	} else if delimiter == "=" {
		return "", "", false
	}
	return key, strings.Trim(strings.Join(strings.Fields(rest), " "), `"'`), true
}

// --- sshd_effective_config ---

func evalSSHD(p *rule.SSHDConfig, rs *Records) outcome {
	rec, problem := rs.get(keySSHD)
	if problem != "" {
		return errored(problem)
	}
	out := lines(rec.Stdout)
	if len(out) > 0 && out[0] == "#!absent" {
		return skip("sshd is not installed")
	}
	if rec.Exit != 0 {
		return errored("sshd -T failed: " + firstLine(rec.Stderr))
	}
	var values []string
	var seen []string
	for _, l := range out {
		k, v, _ := strings.Cut(l, " ")
		if k == p.Key {
			values = append(values, v)
			seen = append(seen, l)
		}
	}
	if len(values) == 0 {
		return skip(fmt.Sprintf("this sshd has no keyword %s", p.Key))
	}
	actual := strings.Join(values, ", ")
	expected := describeExpected(p.Comparator, p.Expected)
	match, ok := compare(values[0], p.Comparator, p.Expected, true)
	if !ok {
		return errored(fmt.Sprintf("sshd %s is %q; the rule compares it numerically with %q", p.Key, actual, p.Expected))
	}
	if !match || len(values) > 1 && (p.Comparator == "" || p.Comparator == "=") && !allEqualFold(values, p.Expected) {
		return fail(fmt.Sprintf("sshd %s is %s", p.Key, actual), expected, actual, strings.Join(seen, "\n"))
	}
	return pass(expected, actual, strings.Join(seen, "\n"))
}

func allEqualFold(values []string, want string) bool {
	for _, v := range values {
		if !strings.EqualFold(v, want) {
			return false
		}
	}
	return true
}

// --- sysctl_value ---

func normalizeSysctl(s string) string { return strings.Join(strings.Fields(s), " ") }

func evalSysctl(p *rule.Sysctl, rs *Records) outcome {
	rec, problem := rs.get(keySysctl)
	if problem != "" {
		return errored(problem)
	}
	out := lines(rec.Stdout)
	if len(out) > 0 && out[0] == "#!nosysctl" {
		return errored("sysctl is not installed")
	}
	runtime, runtimeLine, found := "", "", false
	for _, l := range out {
		k, v, ok := strings.Cut(l, "=")
		if ok && strings.TrimSpace(k) == p.Key {
			runtime, runtimeLine, found = normalizeSysctl(v), l, true
		}
	}
	if !found {
		return skip(fmt.Sprintf("the running kernel has no parameter %s", p.Key))
	}
	files, problem := rs.get(keySysctlD)
	if problem != "" {
		return errored(problem)
	}
	persisted, from := persistedSysctl(lines(files.Stdout), p.Key)
	expected := normalizeSysctl(p.Expected)
	output := runtimeLine
	if from != "" {
		output += "\n" + from
	}
	actual := fmt.Sprintf("runtime %s, persisted %s", runtime, orNotSet(persisted))
	switch {
	case runtime != expected:
		return fail(fmt.Sprintf("%s is %s in the running kernel", p.Key, runtime), expected, actual, output)
	case persisted == "":
		return fail(fmt.Sprintf("%s is not set in the sysctl configuration, so a reboot loses it", p.Key), expected, actual, output)
	case persisted != expected:
		return fail(fmt.Sprintf("%s is set to %s in the sysctl configuration", p.Key, persisted), expected, actual, output)
	}
	return pass(expected, actual, output)
}

func orNotSet(s string) string {
	if s == "" {
		return "not set"
	}
	return s
}

// persistedSysctl applies the sysctl configuration as systemd-sysctl does: files by name
// across the directories (a name in an earlier directory hides it in later ones), in name
// order, then /etc/sysctl.conf; the last assignment wins. It returns the value and the
// line that set it.
func persistedSysctl(out []string, key string) (value, from string) {
	chosen := map[string]string{} // base name -> path
	var sysctlConf bool
	assignments := map[string][]string{} // path -> "path:line" lines for the key
	for _, l := range out {
		if f, ok := strings.CutPrefix(l, "#!file\t"); ok {
			if f == "/etc/sysctl.conf" {
				sysctlConf = true
				continue
			}
			base := path.Base(f)
			if prev, ok := chosen[base]; !ok || dirRank(f) < dirRank(prev) {
				chosen[base] = f
			}
			continue
		}
		file, text, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k, _, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(text), "-"), "=")
		if ok && strings.ReplaceAll(strings.TrimSpace(k), "/", ".") == key {
			assignments[file] = append(assignments[file], l)
		}
	}
	bases := make([]string, 0, len(chosen))
	for b := range chosen {
		bases = append(bases, b)
	}
	slices.Sort(bases)
	order := make([]string, 0, len(bases)+1)
	for _, b := range bases {
		order = append(order, chosen[b])
	}
	if sysctlConf {
		order = append(order, "/etc/sysctl.conf")
	}
	for _, f := range order {
		for _, l := range assignments[f] {
			_, text, _ := strings.Cut(l, ":")
			_, v, _ := strings.Cut(text, "=")
			value, from = normalizeSysctl(v), l
		}
	}
	return value, from
}

func dirRank(file string) int {
	if i := slices.Index(sysctlDirs, path.Dir(file)); i >= 0 {
		return i
	}
	return len(sysctlDirs)
}

// --- package_state ---

func evalPackage(p *rule.PackageState, rs *Records) outcome {
	rec, problem := rs.get(keyPackages)
	if problem != "" {
		return errored(problem)
	}
	out := lines(rec.Stdout)
	if len(out) == 0 || out[0] == "#!none" {
		return errored("the host has neither dpkg nor rpm")
	}
	installed, version, line := false, "", ""
	for _, l := range out[1:] {
		f := strings.Split(l, "\t")
		if len(f) < 3 || f[0] != p.Name {
			continue
		}
		line = l
		if st := f[1]; len(st) >= 2 && (st[0] == 'i' || st[0] == 'h') && st[1] == 'i' {
			installed, version = true, f[2]
		}
	}
	actual := "not installed"
	if installed {
		actual = "installed (" + version + ")"
	}
	want := p.State == "present"
	if installed != want {
		return fail(fmt.Sprintf("%s is %s", p.Name, actual), p.Name+" "+p.State, actual, line)
	}
	return pass(p.Name+" "+p.State, actual, line)
}

// --- service_state ---

// unitState is one unit's block of systemctl show.
type unitState struct {
	names                          []string
	load, active, file             string
	enabled, activeNow, masked, ok bool
}

func parseUnits(out []string) []unitState {
	var units []unitState
	cur := unitState{}
	flush := func() {
		if cur.load != "" || len(cur.names) > 0 {
			units = append(units, cur)
		}
		cur = unitState{}
	}
	for _, l := range out {
		if l == "" {
			flush()
			continue
		}
		k, v, _ := strings.Cut(l, "=")
		switch k {
		case "Names":
			cur.names = strings.Fields(v)
		case "LoadState":
			cur.load = v
		case "ActiveState":
			cur.active = v
		case "UnitFileState":
			cur.file = v
		}
	}
	flush()
	return units
}

// enabledStates are the unit file states in which a unit starts without being asked.
var enabledStates = []string{"enabled", "enabled-runtime", "static", "alias", "generated", "linked", "linked-runtime"}

func evalService(p *rule.ServiceState, rs *Records) outcome {
	rec, problem := rs.get(keyUnits)
	if problem != "" {
		return errored(problem)
	}
	out := lines(rec.Stdout)
	if len(out) > 0 && out[0] == "#!nosystemd" {
		return errored("systemd is not the init system, so services cannot be checked")
	}
	name := p.Name
	if !strings.Contains(name, ".") {
		name += ".service"
	}
	var u *unitState
	offline := len(out) > 0 && out[0] == "#!offline"
	if offline {
		for _, l := range out[1:] {
			unit, state, _ := strings.Cut(l, "\t")
			if unit == name {
				u = &unitState{names: []string{name}, load: "loaded", active: "inactive (systemd is not running)", file: state}
				switch state {
				case "not-found":
					u.load, u.file = "not-found", ""
				case "masked", "masked-runtime":
					u.load = "masked"
				}
			}
		}
	} else {
		for _, cand := range parseUnits(out) {
			if slices.Contains(cand.names, name) {
				u = &cand
				break
			}
		}
	}
	if u == nil {
		return errored(fmt.Sprintf("systemctl did not describe %s", name))
	}
	exists := u.load != "not-found"
	masked := u.load == "masked" || strings.HasPrefix(u.file, "masked")
	enabled := exists && !masked && slices.Contains(enabledStates, u.file)
	active := slices.Contains([]string{"active", "reloading", "activating"}, u.active)
	actual := fmt.Sprintf("load %s, unit file %s, %s", u.load, orDash(u.file), u.active)
	if !exists {
		actual = "the unit does not exist"
	}
	output := fmt.Sprintf("%s: LoadState=%s UnitFileState=%s ActiveState=%s", name, u.load, u.file, u.active)
	var want, wrong []string
	check := func(field *bool, have bool, yes, no string) {
		if field == nil {
			return
		}
		if *field {
			want = append(want, yes)
		} else {
			want = append(want, no)
		}
		if have != *field {
			if have {
				wrong = append(wrong, yes)
			} else {
				wrong = append(wrong, no)
			}
		}
	}
	check(p.Enabled, enabled, "enabled", "not enabled")
	check(p.Active, active, "active", "not active")
	check(p.Masked, masked, "masked", "not masked")
	expected := strings.Join(want, ", ")
	if len(wrong) > 0 {
		return fail(fmt.Sprintf("%s is %s", name, strings.Join(wrong, ", ")), expected, actual, output)
	}
	return pass(expected, actual, output)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// --- kernel_module_state ---

func moduleName(s string) string { return strings.ReplaceAll(s, "-", "_") }

func evalKernelModule(p *rule.KernelModule, rs *Records) outcome {
	rec, problem := rs.get(keyModprobe)
	if problem != "" {
		return errored(problem)
	}
	out := lines(rec.Stdout)
	if len(out) > 0 && out[0] == "#!nomodprobe" {
		return errored("modprobe is not installed")
	}
	want := moduleName(p.Name)
	var installCmd, seen []string
	blacklisted, loaded, inLoaded := false, false, false
	for _, l := range out {
		if l == "#!loaded" {
			inLoaded = true
			continue
		}
		f := strings.Fields(l)
		if inLoaded {
			if len(f) > 0 && moduleName(f[0]) == want {
				loaded = true
			}
			continue
		}
		if len(f) < 2 || moduleName(f[1]) != want {
			continue
		}
		seen = append(seen, l)
		switch f[0] {
		case "blacklist":
			blacklisted = true
		case "install":
			installCmd = f[2:]
		}
	}
	disabled := len(installCmd) > 0 && slices.Contains([]string{"/bin/false", "/bin/true", "/usr/bin/false", "/usr/bin/true", "false", "true"}, installCmd[0])
	var have []string
	if disabled {
		have = append(have, "install runs "+installCmd[0])
	} else if len(installCmd) > 0 {
		have = append(have, "install runs "+strings.Join(installCmd, " "))
	} else {
		have = append(have, "no install command")
	}
	if blacklisted {
		have = append(have, "blacklisted")
	} else {
		have = append(have, "not blacklisted")
	}
	if loaded {
		have = append(have, "loaded")
	} else {
		have = append(have, "not loaded")
	}
	actual := strings.Join(have, ", ")
	expected := "install runs /bin/false or /bin/true, not loaded"
	if p.State == "blacklisted" {
		expected = "install runs /bin/false or /bin/true, blacklisted, not loaded"
	}
	output := strings.Join(seen, "\n")
	switch {
	case loaded:
		return fail(p.Name+" is loaded", expected, actual, output)
	case !disabled:
		return fail(p.Name+" can be loaded: modprobe has no install command that refuses it", expected, actual, output)
	case p.State == "blacklisted" && !blacklisted:
		return fail(p.Name+" is not blacklisted", expected, actual, output)
	}
	return pass(expected, actual, output)
}

// --- mount_option ---

func unescapeMount(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

func evalMount(p *rule.MountOption, rs *Records) outcome {
	rec, problem := rs.get(keyMounts)
	if problem != "" {
		return errored(problem)
	}
	var opts []string
	var line string
	for _, l := range lines(rec.Stdout) {
		f := strings.Fields(l)
		if len(f) >= 4 && unescapeMount(f[1]) == p.MountPoint {
			opts, line = strings.Split(f[3], ","), l // the last mount on the point is the visible one
		}
	}
	if line == "" {
		return skip(p.MountPoint + " is not a separate mount")
	}
	var missing []string
	for _, o := range p.Options {
		if !slices.Contains(opts, o) {
			missing = append(missing, o)
		}
	}
	expected := strings.Join(p.Options, ",")
	actual := strings.Join(opts, ",")
	if len(missing) > 0 {
		return fail(fmt.Sprintf("%s is mounted without %s", p.MountPoint, strings.Join(missing, ",")), expected, actual, line)
	}
	return pass(expected, actual, line)
}

// --- file_permission, file_exists ---

type statLine struct {
	mode         uint64
	owner, group string
	kind, line   string
}

// statOf finds a path in the stat record: ok false when the path is absent, found false
// when the record does not mention it (stat failed on it).
func statOf(rs *Records, p string) (st statLine, ok, found bool, problem string) {
	rec, problem := rs.get(keyStat)
	if problem != "" {
		return st, false, false, problem
	}
	for _, l := range lines(rec.Stdout) {
		if l == "#!absent\t"+p {
			return st, false, true, ""
		}
		f := strings.SplitN(l, "\t", 5)
		if len(f) == 5 && f[4] == p {
			mode, err := strconv.ParseUint(f[0], 8, 32)
			if err != nil {
				return st, false, false, fmt.Sprintf("stat printed a mode %q for %s", f[0], p)
			}
			return statLine{mode: mode, owner: f[1], group: f[2], kind: f[3], line: l}, true, true, ""
		}
	}
	return st, false, false, fmt.Sprintf("stat could not read %s: %s", p, firstLine(rs.ByKey[keyStat].Stderr))
}

func evalFilePermission(p *rule.FilePermission, rs *Records) outcome {
	st, ok, found, problem := statOf(rs, p.Path)
	switch {
	case problem != "":
		return errored(problem)
	case found && !ok:
		return skip(p.Path + " does not exist")
	}
	var want, wrong []string
	if p.Mode != "" {
		m, _ := strconv.ParseUint(p.Mode, 8, 32)
		want = append(want, fmt.Sprintf("mode %04o or stricter", m))
		if extra := st.mode &^ m; extra != 0 {
			wrong = append(wrong, fmt.Sprintf("mode %04o allows %04o beyond %04o", st.mode, extra, m))
		}
	}
	if p.Owner != "" {
		want = append(want, "owner "+p.Owner)
		if st.owner != p.Owner {
			wrong = append(wrong, "owner "+st.owner)
		}
	}
	if p.Group != "" {
		want = append(want, "group "+p.Group)
		if st.group != p.Group {
			wrong = append(wrong, "group "+st.group)
		}
	}
	actual := fmt.Sprintf("mode %04o, owner %s, group %s", st.mode, st.owner, st.group)
	expected := strings.Join(want, ", ")
	if len(wrong) > 0 {
		return fail(p.Path+": "+strings.Join(wrong, "; "), expected, actual, st.line)
	}
	return pass(expected, actual, st.line)
}

func evalFileExists(p *rule.FileExists, rs *Records) outcome {
	st, ok, found, problem := statOf(rs, p.Path)
	if problem != "" && !found {
		return errored(problem)
	}
	want := p.Exists == nil || *p.Exists
	expected, actual := "exists", "does not exist"
	if !want {
		expected = "does not exist"
	}
	if ok {
		actual = "exists (" + st.kind + ")"
	}
	if ok != want {
		return fail(p.Path+" "+actual, expected, actual, st.line)
	}
	return pass(expected, actual, st.line)
}

// --- file_content ---

func evalFileContent(p *rule.FileContent, rs *Records) outcome {
	rec, problem := rs.get("file " + p.Path)
	if problem != "" {
		return errored(problem)
	}
	if rec.Exit == 3 {
		return fail(p.Path+" does not exist", orPattern(p), "does not exist", "")
	}
	if rec.Exit != 0 {
		return errored(fmt.Sprintf("reading %s failed: %s", p.Path, firstLine(rec.Stderr)))
	}
	content := strings.ReplaceAll(string(rec.Stdout), "\r\n", "\n")
	if p.Matches != "" {
		re, err := regexp.Compile("(?m)" + p.Matches)
		if err != nil {
			return errored("the rule's pattern does not compile: " + err.Error())
		}
		if !re.MatchString(content) {
			return fail(p.Path+" does not match the pattern", orPattern(p), firstLine([]byte(content)), content)
		}
		return pass(orPattern(p), "matches", content)
	}
	if normalizeText(content) != normalizeText(p.Expected) {
		return fail(p.Path+" differs from the expected text", p.Expected, content, content)
	}
	return pass(p.Expected, content, content)
}

func orPattern(p *rule.FileContent) string {
	if p.Matches != "" {
		return "matches " + p.Matches
	}
	return p.Expected
}

// normalizeText ignores trailing spaces on lines and blank lines at both ends.
func normalizeText(s string) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	for i := range ls {
		ls[i] = strings.TrimRight(ls[i], " \t")
	}
	return strings.Join(ls, "\n")
}

// --- grub_parameter ---

func paramIn(tokens []string, key, expected string) (string, bool) {
	for _, t := range tokens {
		k, v, hasValue := strings.Cut(t, "=")
		if k != key {
			continue
		}
		if expected == "" || (hasValue && v == expected) {
			return t, true
		}
		return t, false
	}
	return "", false
}

func evalGrub(p *rule.GrubParameter, rs *Records) outcome {
	rec, problem := rs.get(keyCmdline)
	if problem != "" {
		return errored(problem)
	}
	want := p.Key
	if p.Expected != "" {
		want += "=" + p.Expected
	}
	cmdline := strings.TrimSpace(string(rec.Stdout))
	have, ok := paramIn(strings.Fields(cmdline), p.Key, p.Expected)
	if !ok {
		return fail(fmt.Sprintf("the running kernel was booted with %s", orText(have, "no "+p.Key)), want, orText(have, "absent"), cmdline)
	}
	boot, problem := rs.get(keyBootConfig)
	if problem != "" {
		return errored(problem)
	}
	files, configured := 0, map[string][]string{}
	for _, l := range lines(boot.Stdout) {
		if _, ok := strings.CutPrefix(l, "#!file\t"); ok {
			files++
			continue
		}
		file, text, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		text = strings.TrimSpace(text)
		switch {
		case strings.HasPrefix(text, "GRUB_CMDLINE_LINUX"):
			_, v, _ := strings.Cut(text, "=")
			configured["grub defaults"] = append(configured["grub defaults"], strings.Fields(strings.Trim(v, `"'`))...)
		case strings.HasPrefix(text, "options"):
			configured[file] = append(configured[file], strings.Fields(strings.TrimPrefix(text, "options"))...)
		case strings.HasPrefix(text, "kernelopts="):
			configured[file] = append(configured[file], strings.Fields(strings.TrimPrefix(text, "kernelopts="))...)
		}
	}
	output := cmdline + "\n" + strings.TrimSpace(string(boot.Stdout))
	if files == 0 {
		return pass(want, have+" (running kernel; no boot loader configuration on the host)", output)
	}
	for where, tokens := range configured {
		if got, ok := paramIn(tokens, p.Key, p.Expected); !ok {
			return fail(fmt.Sprintf("%s is not configured in %s", want, where), want, orText(got, "absent from "+where), output)
		}
	}
	if len(configured) == 0 {
		return fail(want+" is not in the boot loader configuration", want, "no kernel command line configured", output)
	}
	return pass(want, have, output)
}

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// --- selinux_state, apparmor_state, systemd_target ---

func evalSELinux(p *rule.SELinuxState, rs *Records) outcome {
	rec, problem := rs.get(keySELinux)
	if problem != "" {
		return errored(problem)
	}
	mode := strings.TrimSpace(string(rec.Stdout))
	if !strings.EqualFold(mode, p.State) {
		return fail("SELinux is "+mode, p.State, mode, mode)
	}
	return pass(p.State, mode, mode)
}

func evalAppArmor(p *rule.AppArmorState, rs *Records) outcome {
	rec, problem := rs.get(keyAppArmor)
	if problem != "" {
		return errored(problem)
	}
	out := lines(rec.Stdout)
	enabled := len(out) > 0 && out[0] == "Y"
	if !enabled {
		return fail("AppArmor is not enabled in the kernel", "enabled", "disabled", strings.Join(out, "\n"))
	}
	var complain []string
	for _, l := range out[1:] {
		if strings.HasSuffix(l, "(complain)") {
			complain = append(complain, l)
		}
	}
	if p.Enforce && len(complain) > 0 {
		return fail(fmt.Sprintf("%d AppArmor profiles are in complain mode", len(complain)), "enabled, every profile enforcing", "complain: "+strings.Join(complain, "; "), strings.Join(complain, "\n"))
	}
	return pass("enabled", "enabled", "")
}

func evalTarget(p *rule.SystemdTarget, rs *Records) outcome {
	rec, problem := rs.get(keyTarget)
	if problem != "" {
		return errored(problem)
	}
	target := strings.TrimSpace(string(rec.Stdout))
	if target == "#!nosystemd" {
		return errored("systemd is not the init system")
	}
	if p.Expected != "" && target != p.Expected {
		return fail("the default target is "+target, p.Expected, target, target)
	}
	if p.NotExpected != "" && target == p.NotExpected {
		return fail("the default target is "+target, "not "+p.NotExpected, target, target)
	}
	return pass(describeTarget(p), target, target)
}

func describeTarget(p *rule.SystemdTarget) string {
	if p.Expected != "" {
		return p.Expected
	}
	return "not " + p.NotExpected
}

// --- command ---

func evalCommand(p *rule.Command, rs *Records, key string) outcome {
	rec, problem := rs.get(key)
	if problem != "" {
		return errored(problem)
	}
	if strings.TrimSpace(string(rec.Stdout)) == notForPlatform {
		return errored("the program did not run this check: the host's platform family is not one the rule is for")
	}
	if p.SkipStatus != nil && rec.Exit == *p.SkipStatus {
		return skip(firstLine(rec.Stdout))
	}
	out := string(rec.Stdout)
	var want []string
	if p.ExitStatus != nil {
		want = append(want, fmt.Sprintf("exit status %d", *p.ExitStatus))
	}
	if p.Output != "" {
		want = append(want, "output matching "+p.Output)
	}
	expected := strings.Join(want, ", ")
	actual := fmt.Sprintf("exit status %d", rec.Exit)
	if p.ExitStatus != nil && rec.Exit != *p.ExitStatus {
		return fail(actual, expected, actual, out)
	}
	if p.Output != "" {
		re, err := regexp.Compile("(?m)" + p.Output)
		if err != nil {
			return errored("the rule's output pattern does not compile: " + err.Error())
		}
		if !re.MatchString(out) {
			return fail("the output does not match "+p.Output, expected, firstLine(rec.Stdout), out)
		}
	}
	return pass(expected, actual, out)
}
