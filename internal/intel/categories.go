package intel

import (
	"fmt"
	"strings"

	"github.com/openwatch/openwatch/internal/sshx"
)

// The intelligence categories, in collection order.
const (
	CatPackages    = "packages"
	CatServices    = "services"
	CatPorts       = "ports"
	CatUsers       = "users"
	CatGroups      = "groups"
	CatMounts      = "mounts"
	CatKernel      = "kernel"
	CatReboot      = "reboot"
	CatConfigFiles = "config_files"
	CatInterfaces  = "interfaces"
)

// Categories lists every category.
var Categories = []string{CatPackages, CatServices, CatPorts, CatUsers, CatGroups, CatMounts, CatKernel, CatReboot,
	CatConfigFiles, CatInterfaces}

// Package is an installed package. Source and SourceVersion name the source package it
// was built from (dpkg's source:Package and source:Version; for rpm, the name and
// version-release of its source rpm): absent in inventories collected before they were,
// and omitted when they equal the package's own name and version.
type Package struct {
	Version       string `json:"version"`
	Arch          string `json:"arch,omitempty"`
	Source        string `json:"source,omitempty"`
	SourceVersion string `json:"source_version,omitempty"`
}

// SystemService is a system service. Active and Sub are empty when the service manager is not
// running (only unit files could be read).
type SystemService struct {
	Active  string `json:"active,omitempty"`
	Sub     string `json:"sub,omitempty"`
	Enabled string `json:"enabled,omitempty"`
}

// Port is a listening socket.
type Port struct {
	Proto   string `json:"proto"`
	Address string `json:"address"`
	Port    int    `json:"port"`
	Process string `json:"process,omitempty"`
}

// User is a local account. Locked is nil when the shadow file could not be read.
type User struct {
	UID    int    `json:"uid"`
	GID    int    `json:"gid"`
	Home   string `json:"home"`
	Shell  string `json:"shell"`
	Locked *bool  `json:"locked"`
}

// Group is a local group with its supplementary members.
type Group struct {
	GID        int      `json:"gid"`
	Members    []string `json:"members"`
	Privileged bool     `json:"privileged,omitempty"`
}

// Mount is a mounted filesystem.
type Mount struct {
	Device  string `json:"device"`
	FSType  string `json:"fstype"`
	Options string `json:"options"`
}

// Kernel is the running kernel.
type Kernel struct {
	Release string `json:"release"`
	Version string `json:"version"`
}

// Reboot says whether the host asks for a reboot.
type Reboot struct {
	Required bool   `json:"required"`
	Source   string `json:"source"`
}

// Interface is a network interface.
type Interface struct {
	MAC       string   `json:"mac,omitempty"`
	State     string   `json:"state,omitempty"`
	Addresses []string `json:"addresses"`
}

// PrivilegedGroups are the groups whose members can become root.
var PrivilegedGroups = []string{"root", "wheel", "sudo", "admin"}

// CriticalFiles are the files whose SHA-256 is tracked; files under the directories of
// CriticalDirs are tracked too.
var CriticalFiles = []string{"/etc/passwd", "/etc/group", "/etc/shadow", "/etc/gshadow", "/etc/sudoers",
	"/etc/ssh/sshd_config", "/etc/hosts", "/etc/fstab", "/etc/crontab", "/etc/login.defs"}

// CriticalDirs are directories whose regular files are all tracked.
var CriticalDirs = []string{"/etc/sudoers.d", "/etc/pam.d"}

// absent and unreadable mark files that could not be hashed.
const (
	fileAbsent     = "absent"
	fileUnreadable = "unreadable"
)

// intelCommands is the whole collection, run as one privileged batch in one SSH session
// (falling back to the login user when root is not available).
var intelCommands = []sshx.Command{
	{Name: CatPackages, Script: `if command -v dpkg-query >/dev/null 2>&1; then echo '#dpkg'; dpkg-query -W -f='${db:Status-Abbrev}\t${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n'
elif command -v rpm >/dev/null 2>&1; then echo '#rpm'; rpm -qa --qf '%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\n'
elif command -v apk >/dev/null 2>&1; then echo '#apk'; apk info -v 2>/dev/null
else echo 'no package manager (dpkg, rpm, apk)' >&2; exit 127; fi`},
	// Without a running systemd (containers), "systemctl list-unit-files" takes
	// half a second; the same states are read from the unit directories instead.
	{Name: CatServices, Script: `ok=0
if u=$(systemctl list-units --type=service --all --no-legend --plain 2>/dev/null); then
  echo '#units'; printf '%s\n' "$u"; ok=1
  if f=$(systemctl list-unit-files --type=service --no-legend 2>/dev/null); then echo '#files'; printf '%s\n' "$f"; fi
elif [ -d /etc/systemd/system ]; then
  wanted=' '; for w in /etc/systemd/system/*.wants/*.service; do [ -e "$w" ] && wanted="$wanted${w##*/} "; done
  inst=' '; for i in $(grep -l '^\[Install\]' /usr/lib/systemd/system/*.service /lib/systemd/system/*.service /etc/systemd/system/*.service 2>/dev/null); do inst="$inst${i##*/} "; done
  echo '#files'
  for f in /usr/lib/systemd/system/*.service /lib/systemd/system/*.service /etc/systemd/system/*.service; do
    n=${f##*/}
    case $n in *@.service) continue ;; esac
    if [ -L "$f" ]; then case $(readlink "$f") in /dev/null) s=masked ;; *) s=alias ;; esac
    elif [ ! -f "$f" ]; then continue
    else case $wanted in *" $n "*) s=enabled ;; *) case $inst in *" $n "*) s=disabled ;; *) s=static ;; esac ;; esac
    fi
    echo "$n $s"
  done
  ok=1
fi
if [ $ok = 0 ] && command -v service >/dev/null 2>&1; then echo '#sysv'; service --status-all 2>&1; ok=1; fi
[ $ok = 1 ] || { echo 'no service manager (systemctl, service)' >&2; exit 127; }`},
	{Name: CatPorts, Script: `if command -v ss >/dev/null 2>&1; then echo '#ss'; ss -tulnpH 2>/dev/null || ss -tulnp | sed 1d
else echo '#proc'; for f in /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6; do [ -r "$f" ] && { echo "#$f"; cat "$f"; }; done; fi`},
	{Name: CatUsers, Script: `cat /etc/passwd`},
	{Name: "shadow", Script: `sed -n 's/^\([^:]*\):\([!*]\{0,1\}\).*$/\1 \2/p' /etc/shadow`},
	{Name: CatGroups, Script: `cat /etc/group`},
	{Name: CatMounts, Script: `cat /proc/mounts`},
	{Name: CatKernel, Script: `uname -r && uname -v`},
	{Name: CatReboot, Script: `if [ -e /var/run/reboot-required ]; then echo 'required reboot-required'
elif command -v needs-restarting >/dev/null 2>&1; then needs-restarting -r >/dev/null 2>&1; rc=$?
  if [ $rc = 1 ]; then echo 'required needs-restarting'; elif [ $rc = 0 ]; then echo 'not-required needs-restarting'; else exit $rc; fi
else echo 'not-required none'; fi`},
	{Name: CatConfigFiles, Script: configFilesScript()},
	{Name: CatInterfaces, Script: `if command -v ip >/dev/null 2>&1; then echo '#addr'; ip -o addr show; echo '#link'; ip -o link show
else echo '#sys'; for d in /sys/class/net/*; do [ -e "$d" ] || continue; echo "${d##*/} $(cat "$d/address" 2>/dev/null) $(cat "$d/operstate" 2>/dev/null)"; done; fi`},
}

func configFilesScript() string {
	var b strings.Builder
	b.WriteString("h() { if [ ! -e \"$1\" ]; then echo \"absent $1\"; elif s=$(sha256sum < \"$1\" 2>/dev/null); then echo \"${s%% *} $1\"; else echo \"unreadable $1\"; fi; }\n")
	for _, f := range CriticalFiles {
		b.WriteString("h " + f + "\n")
	}
	for _, d := range CriticalDirs {
		fmt.Fprintf(&b, "for f in %s/*; do [ -f \"$f\" ] && h \"$f\"; done\n", d)
	}
	b.WriteString("command -v sha256sum >/dev/null 2>&1 || { echo 'sha256sum not found' >&2; exit 127; }\n")
	return b.String()
}
