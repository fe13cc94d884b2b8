package intel

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/openwatch/openwatch/internal/sshx"
)

// SystemInfo is what system info collection learns about a host. Every field is optional:
// a command that is missing or fails leaves its fields nil.
type SystemInfo struct {
	OSName             *string `json:"os_name"`
	OSVersion          *string `json:"os_version"`
	OSVersionFull      *string `json:"os_version_full"`
	OSID               *string `json:"os_id"`
	OSIDLike           *string `json:"os_id_like"`
	OSPrettyName       *string `json:"os_pretty_name"`
	PlatformIdentifier *string `json:"platform_identifier"`
	OSFamily           *string `json:"os_family"`
	KernelName         *string `json:"kernel_name"`
	KernelRelease      *string `json:"kernel_release"`
	KernelVersion      *string `json:"kernel_version"`
	Architecture       *string `json:"architecture"`
	MemTotalMB         *int32  `json:"mem_total_mb"`
	SwapTotalMB        *int32  `json:"swap_total_mb"`
	DiskTotalGB        *int32  `json:"disk_total_gb"`
	Hostname           *string `json:"hostname"`
	FQDN               *string `json:"fqdn"`
	SELinuxStatus      *string `json:"selinux_status"`
	AppArmorEnabled    *bool   `json:"apparmor_enabled"`
	FirewallService    *string `json:"firewall_service"`
	FirewallStatus     *string `json:"firewall_status"`

	// Volatile fields change between any two collections; they are not part of Hash.
	MemAvailableMB *int32 `json:"-"`
	DiskUsedGB     *int32 `json:"-"`
	DiskFreeGB     *int32 `json:"-"`
}

// Hash identifies the stable facts (everything but free memory and disk usage), so a
// collection that found nothing new does not rewrite the row.
func (si SystemInfo) Hash() string {
	b, _ := json.Marshal(si) // only strings, numbers and booleans: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// System info command names.
const (
	cmdOSRelease = "os_release"
	cmdUname     = "uname"
	cmdMeminfo   = "meminfo"
	cmdDisk      = "disk"
	cmdHostname  = "hostname"
	cmdFQDN      = "fqdn"
	cmdSELinux   = "selinux"
	cmdAppArmor  = "apparmor"
	cmdFirewall  = "firewall"
)

// systemInfoCommands is the whole system info collection, run as one batch in one SSH
// session.
var systemInfoCommands = []sshx.Command{
	{Name: cmdOSRelease, Script: `cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release`},
	{Name: cmdUname, Script: `printf '%s\n%s\n%s\n%s\n' "$(uname -s)" "$(uname -r)" "$(uname -v)" "$(uname -m)"`},
	{Name: cmdMeminfo, Script: `cat /proc/meminfo`},
	{Name: cmdDisk, Script: `df -P -k / | tail -n 1`},
	{Name: cmdHostname, Script: `hostname 2>/dev/null || cat /proc/sys/kernel/hostname`},
	{Name: cmdFQDN, Script: `hostname -f 2>/dev/null`},
	{Name: cmdSELinux, Script: `if command -v getenforce >/dev/null 2>&1; then getenforce
elif [ -r /sys/fs/selinux/enforce ]; then if [ "$(cat /sys/fs/selinux/enforce)" = 1 ]; then echo Enforcing; else echo Permissive; fi
elif [ -d /sys/fs ]; then echo Disabled
else exit 127; fi`},
	{Name: cmdAppArmor, Script: `if [ -r /sys/module/apparmor/parameters/enabled ]; then cat /sys/module/apparmor/parameters/enabled
elif [ -d /sys/module ]; then echo N
else exit 127; fi`},
	{Name: cmdFirewall, Script: `if command -v firewall-cmd >/dev/null 2>&1; then
  if firewall-cmd --state >/dev/null 2>&1; then echo firewalld active; else echo firewalld inactive; fi
elif command -v ufw >/dev/null 2>&1; then
  s=$(ufw status 2>/dev/null | head -n 1)
  case $s in *inactive*) echo ufw inactive ;; *active*) echo ufw active ;; *) echo ufw unknown ;; esac
elif command -v nft >/dev/null 2>&1; then
  if r=$(nft list ruleset 2>/dev/null); then
    if printf '%s\n' "$r" | grep -q 'chain'; then echo nftables active; else echo nftables inactive; fi
  else echo nftables unknown; fi
elif command -v iptables >/dev/null 2>&1; then
  if r=$(iptables -S 2>/dev/null); then
    if printf '%s\n' "$r" | grep -qv '^-P '; then echo iptables active; else echo iptables inactive; fi
  else echo iptables unknown; fi
else exit 127; fi`},
}
