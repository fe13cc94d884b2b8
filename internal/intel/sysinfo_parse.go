package intel

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"

	"github.com/openwatch/openwatch/internal/sshx"
)

// parseSystemInfo reads a system info batch. Missing or failed commands leave nils.
func parseSystemInfo(br sshx.BatchResult) SystemInfo {
	var si SystemInfo
	out := func(name string) (string, bool) {
		r, ok := br.Result(name)
		if !ok || !r.OK() {
			return "", false
		}
		return string(r.Stdout), true
	}
	if s, ok := out(cmdOSRelease); ok {
		applyOSRelease(&si, parseKeyValues(s))
	}
	if s, ok := out(cmdUname); ok {
		lines := strings.Split(s, "\n")
		field := func(i int) *string {
			if i < len(lines) {
				return nonEmpty(lines[i])
			}
			return nil
		}
		si.KernelName, si.KernelRelease, si.KernelVersion, si.Architecture = field(0), field(1), field(2), field(3)
	}
	if s, ok := out(cmdMeminfo); ok {
		mem := parseMeminfo(s)
		si.MemTotalMB, si.MemAvailableMB, si.SwapTotalMB = mem["MemTotal"], mem["MemAvailable"], mem["SwapTotal"]
	}
	if s, ok := out(cmdDisk); ok {
		si.DiskTotalGB, si.DiskUsedGB, si.DiskFreeGB = parseDF(s)
	}
	if s, ok := out(cmdHostname); ok {
		si.Hostname = nonEmpty(s)
	}
	if s, ok := out(cmdFQDN); ok {
		si.FQDN = nonEmpty(s)
	}
	if s, ok := out(cmdSELinux); ok {
		if v := nonEmpty(strings.ToLower(s)); v != nil {
			si.SELinuxStatus = v
		}
	}
	if s, ok := out(cmdAppArmor); ok {
		switch strings.TrimSpace(s) {
		case "Y", "y", "1":
			si.AppArmorEnabled = ptr(true)
		case "N", "n", "0":
			si.AppArmorEnabled = ptr(false)
		}
	}
	if s, ok := out(cmdFirewall); ok {
		if f := strings.Fields(s); len(f) == 2 {
			si.FirewallService, si.FirewallStatus = ptr(f[0]), ptr(f[1])
		}
	}
	return si
}

// applyOSRelease fills the OS identity from /etc/os-release.
func applyOSRelease(si *SystemInfo, kv map[string]string) {
	get := func(k string) *string { return nonEmpty(kv[k]) }
	si.OSName, si.OSVersionFull, si.OSVersion = get("NAME"), get("VERSION"), get("VERSION_ID")
	si.OSID, si.OSIDLike, si.OSPrettyName = get("ID"), get("ID_LIKE"), get("PRETTY_NAME")
	if si.OSVersion == nil && si.OSVersionFull != nil {
		si.OSVersion = si.OSVersionFull
	}
	si.OSFamily = nonEmpty(osFamily(kv["ID"], kv["ID_LIKE"]))
	si.PlatformIdentifier = nonEmpty(platformIdentifier(kv["ID"], kv["VERSION_ID"]))
}

// families maps distribution ids (ID or an ID_LIKE word) to the OS family.
var families = map[string]string{
	"rhel": "rhel", "centos": "rhel", "fedora": "rhel", "rocky": "rhel", "almalinux": "rhel", "ol": "rhel",
	"amzn": "rhel", "scientific": "rhel", "eurolinux": "rhel", "cloudlinux": "rhel",
	"debian": "debian", "ubuntu": "debian", "linuxmint": "debian", "raspbian": "debian", "kali": "debian", "pop": "debian",
	"suse": "suse", "sles": "suse", "sled": "suse", "opensuse": "suse", "opensuse-leap": "suse", "opensuse-tumbleweed": "suse",
	"arch": "arch", "manjaro": "arch", "alpine": "alpine", "gentoo": "gentoo",
}

// osFamily names the family of a distribution from its ID, else from ID_LIKE, else the
// ID itself.
func osFamily(id, idLike string) string {
	id = strings.ToLower(strings.TrimSpace(id))
	if f, ok := families[id]; ok {
		return f
	}
	for _, w := range strings.Fields(strings.ToLower(idLike)) {
		if f, ok := families[w]; ok {
			return f
		}
	}
	return id
}

// platformIdentifier is the distribution id and major version, such as "ubuntu22",
// "rhel9" or "debian12".
func platformIdentifier(id, versionID string) string {
	id = strings.ToLower(strings.TrimSpace(id))
	if id == "" {
		return ""
	}
	id = strings.NewReplacer("-", "", "_", "", " ", "").Replace(id)
	major, _, _ := strings.Cut(strings.TrimSpace(versionID), ".")
	return id + major
}

// parseKeyValues reads KEY=value lines (os-release syntax: optional single or double
// quotes, backslash escapes inside double quotes).
func parseKeyValues(s string) map[string]string {
	kv := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		kv[strings.TrimSpace(k)] = unquote(strings.TrimSpace(v))
	}
	return kv
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		inner := v[1 : len(v)-1]
		if v[0] == '"' {
			r := strings.NewReplacer(`\"`, `"`, `\\`, `\`, "\\`", "`", `\$`, `$`)
			inner = r.Replace(inner)
		}
		return inner
	}
	return v
}

// parseMeminfo returns /proc/meminfo's kB values in MB.
func parseMeminfo(s string) map[string]*int32 {
	out := map[string]*int32{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		k, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			continue
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		out[k] = ptr(int32(kb / 1024))
	}
	return out
}

// parseDF reads the data line of `df -P -k`: total, used and available, in GB.
func parseDF(s string) (total, used, free *int32) {
	f := strings.Fields(lastLine(s))
	if len(f) < 4 {
		return nil, nil, nil
	}
	gb := func(v string) *int32 {
		kb, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil
		}
		return ptr(int32(kb / (1024 * 1024)))
	}
	return gb(f[1]), gb(f[2]), gb(f[3])
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// nonEmpty returns the trimmed string, or nil when it is empty.
func nonEmpty(s string) *string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	return &s
}

func ptr[T any](v T) *T { return &v }

// lines splits output into non-empty trimmed lines.
func lines(b []byte) []string {
	var out []string
	for l := range bytes.SplitSeq(b, []byte("\n")) {
		if t := strings.TrimSpace(string(l)); t != "" {
			out = append(out, t)
		}
	}
	return out
}
