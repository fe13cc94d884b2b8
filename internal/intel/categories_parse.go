package intel

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/openwatch/openwatch/internal/sshx"
)

// outcome is the result of collecting one category: a value, or why there is none. A
// partial value (some files unreadable) comes with an error too.
type outcome struct {
	value any
	err   error
}

// errNeedsRoot marks what could not be read without root.
var errNeedsRoot = errors.New("not readable without root")

// parseIntel turns a collection batch into one outcome per category. privileged says
// whether the commands ran as root.
func parseIntel(br sshx.BatchResult, privileged bool) map[string]outcome {
	res := map[string]outcome{}
	get := func(name string) ([]byte, error) {
		r, ok := br.Result(name)
		if !ok {
			return nil, errors.New("command did not run")
		}
		if !r.OK() {
			msg := strings.TrimSpace(string(r.Stderr))
			if len(msg) > 300 {
				msg = msg[:300]
			}
			if msg == "" {
				msg = "no output"
			}
			return nil, fmt.Errorf("exit status %d: %s", r.ExitCode, msg)
		}
		return r.Stdout, nil
	}
	parse := func(cat string, fn func([]byte) (any, error)) {
		out, err := get(cat)
		if err != nil {
			res[cat] = outcome{err: err}
			return
		}
		v, err := fn(out)
		res[cat] = outcome{value: v, err: err}
	}
	parse(CatPackages, func(b []byte) (any, error) { return parsePackages(b) })
	parse(CatServices, func(b []byte) (any, error) { return parseServices(b), nil })
	parse(CatPorts, func(b []byte) (any, error) { return parsePorts(b), nil })
	shadow, shadowErr := get("shadow")
	if shadowErr != nil && !privileged {
		shadowErr = fmt.Errorf("/etc/shadow: %w", errNeedsRoot)
	}
	parse(CatUsers, func(b []byte) (any, error) { return parseUsers(b, shadow, shadowErr), nil })
	parse(CatGroups, func(b []byte) (any, error) { return parseGroups(b), nil })
	parse(CatMounts, func(b []byte) (any, error) { return parseMounts(b), nil })
	parse(CatKernel, func(b []byte) (any, error) { return parseKernel(b) })
	parse(CatReboot, func(b []byte) (any, error) { return parseReboot(b) })
	parse(CatConfigFiles, func(b []byte) (any, error) { return parseConfigFiles(b, privileged) })
	parse(CatInterfaces, func(b []byte) (any, error) { return parseInterfaces(b), nil })
	return res
}

// sections splits output into "#name" sections.
func sections(b []byte) map[string][]string {
	out := map[string][]string{}
	cur := ""
	for _, l := range lines(b) {
		if strings.HasPrefix(l, "#") && !strings.Contains(l, " ") {
			cur = strings.TrimPrefix(l, "#")
			out[cur] = out[cur][:0:0]
			continue
		}
		out[cur] = append(out[cur], l)
	}
	return out
}

func parsePackages(b []byte) (map[string]Package, error) {
	sec := sections(b)
	type entry struct{ name, version, arch, source, sourceVersion string }
	var all []entry
	field := func(f []string, i int) string {
		if i < len(f) {
			return f[i]
		}
		return ""
	}
	switch {
	case sec["dpkg"] != nil:
		for _, l := range sec["dpkg"] {
			f := strings.Split(l, "\t")
			if len(f) < 4 || !strings.HasPrefix(f[0], "ii") {
				continue
			}
			all = append(all, entry{f[1], f[2], f[3], field(f, 4), field(f, 5)})
		}
	case sec["rpm"] != nil:
		for _, l := range sec["rpm"] {
			f := strings.Split(l, "\t")
			if len(f) < 3 || f[0] == "gpg-pubkey" {
				continue
			}
			src, srcVersion := sourceRPM(field(f, 3))
			all = append(all, entry{f[0], strings.TrimPrefix(f[1], "0:"), f[2], src, srcVersion})
		}
	case sec["apk"] != nil:
		for _, l := range sec["apk"] {
			// name-version-rN: the version starts at the second-to-last dash.
			i := strings.LastIndexByte(l, '-')
			if i <= 0 {
				continue
			}
			j := strings.LastIndexByte(l[:i], '-')
			if j <= 0 {
				continue
			}
			all = append(all, entry{l[:j], l[j+1:], "", "", ""})
		}
	default:
		return nil, errors.New("unrecognised package list")
	}
	count := map[string]int{}
	for _, e := range all {
		count[e.name]++
	}
	pkgs := make(map[string]Package, len(all))
	for _, e := range all {
		key := e.name
		if count[e.name] > 1 && e.arch != "" {
			key = e.name + ":" + e.arch
		}
		p := Package{Version: e.version, Arch: e.arch}
		if e.source != "" && e.source != e.name {
			p.Source = e.source
		}
		if e.sourceVersion != "" && e.sourceVersion != e.version {
			p.SourceVersion = e.sourceVersion
		}
		pkgs[key] = p
	}
	return pkgs, nil
}

// sourceRPM splits an rpm's SOURCERPM ("openssl-3.0.7-24.el9.src.rpm") into the source
// package name and its version-release; empty for "(none)" or a malformed name.
func sourceRPM(s string) (name, versionRelease string) {
	s = strings.TrimSuffix(strings.TrimSuffix(s, ".rpm"), ".src")
	s = strings.TrimSuffix(s, ".nosrc")
	i := strings.LastIndexByte(s, '-')
	if i <= 0 {
		return "", ""
	}
	j := strings.LastIndexByte(s[:i], '-')
	if j <= 0 {
		return "", ""
	}
	return s[:j], s[j+1:]
}

func parseServices(b []byte) map[string]SystemService {
	sec := sections(b)
	svcs := map[string]SystemService{}
	name := func(unit string) string { return strings.TrimSuffix(unit, ".service") }
	for _, l := range sec["units"] {
		f := strings.Fields(strings.TrimPrefix(l, "● "))
		if len(f) < 4 || !strings.HasSuffix(f[0], ".service") {
			continue
		}
		s := svcs[name(f[0])]
		s.Active, s.Sub = f[2], f[3]
		svcs[name(f[0])] = s
	}
	for _, l := range sec["files"] {
		f := strings.Fields(l)
		if len(f) < 2 || !strings.HasSuffix(f[0], ".service") || strings.Contains(f[0], "@.") {
			continue
		}
		s := svcs[name(f[0])]
		s.Enabled = f[1]
		svcs[name(f[0])] = s
	}
	for _, l := range sec["sysv"] {
		// " [ + ]  ssh" / " [ - ]  cron" / " [ ? ]  hwclock.sh"
		open, close := strings.IndexByte(l, '['), strings.IndexByte(l, ']')
		if open < 0 || close < open {
			continue
		}
		n := strings.TrimSpace(l[close+1:])
		if n == "" {
			continue
		}
		s := svcs[n]
		switch strings.TrimSpace(l[open+1 : close]) {
		case "+":
			s.Active, s.Sub = "active", "running"
		case "-":
			s.Active, s.Sub = "inactive", "dead"
		}
		svcs[n] = s
	}
	return svcs
}

func parsePorts(b []byte) map[string]Port {
	sec := sections(b)
	ports := map[string]Port{}
	add := func(p Port) { ports[p.Proto+" "+net.JoinHostPort(p.Address, strconv.Itoa(p.Port))] = p }
	for _, l := range sec["ss"] {
		// tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=1,fd=3))
		f := strings.Fields(l)
		if len(f) < 5 {
			continue
		}
		addr, port, ok := splitHostPort(f[4])
		if !ok {
			continue
		}
		p := Port{Proto: f[0], Address: addr, Port: port}
		if len(f) > 6 {
			p.Process = ssProcess(f[6])
		}
		add(p)
	}
	for name, ls := range sec {
		if !strings.HasPrefix(name, "/proc/net/") {
			continue
		}
		proto := strings.TrimPrefix(name, "/proc/net/")
		for _, p := range parseProcNet(proto, ls) {
			add(p)
		}
	}
	return ports
}

// splitHostPort reads ss's local address: 0.0.0.0:22, [::]:22, *:22, 127.0.0.53%lo:53.
func splitHostPort(s string) (string, int, bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", 0, false
	}
	port, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return "", 0, false
	}
	host := strings.Trim(s[:i], "[]")
	if j := strings.IndexByte(host, '%'); j >= 0 {
		host = host[:j]
	}
	return host, port, true
}

// ssProcess returns the first process name of users:(("sshd",pid=1,fd=3),...).
func ssProcess(s string) string {
	_, rest, ok := strings.Cut(s, `(("`)
	if !ok {
		return ""
	}
	n, _, _ := strings.Cut(rest, `"`)
	return n
}

// parseProcNet reads /proc/net/{tcp,udp}[6]: listening TCP sockets (state 0A) and bound
// UDP sockets (state 07).
func parseProcNet(proto string, ls []string) []Port {
	want := "0A"
	if strings.HasPrefix(proto, "udp") {
		want = "07"
	}
	var out []Port
	for _, l := range ls {
		f := strings.Fields(l)
		if len(f) < 4 || f[3] != want {
			continue
		}
		h, p, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		port, err := strconv.ParseUint(p, 16, 16)
		if err != nil {
			continue
		}
		ip := procIP(h)
		if ip == nil {
			continue
		}
		out = append(out, Port{Proto: strings.TrimSuffix(proto, "6"), Address: ip.String(), Port: int(port)})
	}
	return out
}

// procIP decodes /proc/net's little-endian-per-word hex address.
func procIP(h string) net.IP {
	if len(h) != 8 && len(h) != 32 {
		return nil
	}
	raw := make([]byte, len(h)/2)
	for i := range raw {
		v, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		if err != nil {
			return nil
		}
		raw[i] = byte(v)
	}
	for w := 0; w < len(raw); w += 4 {
		raw[w], raw[w+1], raw[w+2], raw[w+3] = raw[w+3], raw[w+2], raw[w+1], raw[w]
	}
	return net.IP(raw)
}

func parseUsers(b, shadow []byte, shadowErr error) map[string]User {
	locked := map[string]bool{}
	if shadowErr == nil {
		for _, l := range lines(shadow) {
			n, mark, _ := strings.Cut(l, " ")
			locked[n] = mark != ""
		}
	}
	users := map[string]User{}
	for _, l := range lines(b) {
		f := strings.Split(l, ":")
		if len(f) < 7 || strings.HasPrefix(f[0], "+") || strings.HasPrefix(f[0], "-") {
			continue
		}
		uid, err1 := strconv.Atoi(f[2])
		gid, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil {
			continue
		}
		u := User{UID: uid, GID: gid, Home: f[5], Shell: f[6]}
		if shadowErr == nil {
			if l, ok := locked[f[0]]; ok {
				u.Locked = ptr(l)
			}
		}
		users[f[0]] = u
	}
	return users
}

func parseGroups(b []byte) map[string]Group {
	groups := map[string]Group{}
	for _, l := range lines(b) {
		f := strings.Split(l, ":")
		if len(f) < 4 {
			continue
		}
		gid, err := strconv.Atoi(f[2])
		if err != nil {
			continue
		}
		members := []string{}
		for m := range strings.SplitSeq(f[3], ",") {
			if m = strings.TrimSpace(m); m != "" {
				members = append(members, m)
			}
		}
		slices.Sort(members)
		members = slices.Compact(members)
		groups[f[0]] = Group{GID: gid, Members: members, Privileged: slices.Contains(PrivilegedGroups, f[0])}
	}
	return groups
}

func parseMounts(b []byte) map[string]Mount {
	mounts := map[string]Mount{}
	for _, l := range lines(b) {
		f := strings.Fields(l)
		if len(f) < 4 {
			continue
		}
		mounts[unescapeOctal(f[1])] = Mount{Device: unescapeOctal(f[0]), FSType: f[2], Options: f[3]}
	}
	return mounts
}

// unescapeOctal decodes /proc/mounts' \040-style escapes.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func parseKernel(b []byte) (Kernel, error) {
	ls := lines(b)
	if len(ls) == 0 {
		return Kernel{}, errors.New("uname printed nothing")
	}
	k := Kernel{Release: ls[0]}
	if len(ls) > 1 {
		k.Version = ls[1]
	}
	return k, nil
}

func parseReboot(b []byte) (Reboot, error) {
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return Reboot{}, errors.New("unexpected reboot check output")
	}
	return Reboot{Required: f[0] == "required", Source: f[1]}, nil
}

// parseConfigFiles reads "<sha256|absent|unreadable> <path>" lines. Files that could not
// be read are left out of the value and named in the error (the caller keeps their last
// known hashes).
func parseConfigFiles(b []byte, privileged bool) (map[string]string, error) {
	files := map[string]string{}
	var unreadable []string
	for _, l := range lines(b) {
		sum, path, ok := strings.Cut(l, " ")
		if !ok {
			continue
		}
		if sum == fileUnreadable {
			unreadable = append(unreadable, path)
			continue
		}
		files[path] = sum
	}
	if len(unreadable) == 0 {
		return files, nil
	}
	err := fmt.Errorf("could not read %s", strings.Join(unreadable, ", "))
	if !privileged {
		err = fmt.Errorf("%s: %w", strings.Join(unreadable, ", "), errNeedsRoot)
	}
	return files, &partialError{err: err, missing: unreadable}
}

// partialError says a value was collected except for some keys, whose last known values
// should be kept.
type partialError struct {
	err     error
	missing []string
}

func (e *partialError) Error() string { return e.err.Error() }
func (e *partialError) Unwrap() error { return e.err }

func parseInterfaces(b []byte) map[string]Interface {
	sec := sections(b)
	ifs := map[string]Interface{}
	get := func(n string) Interface {
		i, ok := ifs[n]
		if !ok {
			i.Addresses = []string{}
		}
		return i
	}
	for _, l := range sec["link"] {
		// 2: eth0@if5: <BROADCAST,...> mtu 1500 ... state UP ... link/ether aa:bb:.. brd ..
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		n := ifName(f[1])
		i := get(n)
		for k := 2; k+1 < len(f); k++ {
			switch {
			case f[k] == "state":
				i.State = strings.ToLower(strings.TrimSuffix(f[k+1], `\`))
			case strings.HasPrefix(f[k], "link/") && f[k] != "link/none":
				i.MAC = f[k+1]
			}
		}
		ifs[n] = i
	}
	for _, l := range sec["addr"] {
		// 1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft ...
		f := strings.Fields(l)
		if len(f) < 4 {
			continue
		}
		n := ifName(f[1])
		i := get(n)
		i.Addresses = append(i.Addresses, f[3])
		ifs[n] = i
	}
	for _, l := range sec["sys"] {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		i := get(f[0])
		if len(f) > 1 {
			i.MAC = f[1]
		}
		if len(f) > 2 {
			i.State = f[2]
		}
		ifs[f[0]] = i
	}
	for n, i := range ifs {
		slices.Sort(i.Addresses)
		i.Addresses = slices.Compact(i.Addresses)
		ifs[n] = i
	}
	return ifs
}

// ifName strips ip's "2:"-style suffix colon and the "@peer" part of an interface name.
func ifName(s string) string {
	s = strings.TrimSuffix(s, ":")
	if i := strings.IndexByte(s, '@'); i > 0 {
		s = s[:i]
	}
	return s
}
