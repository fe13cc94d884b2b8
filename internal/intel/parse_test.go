package intel

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openwatch/openwatch/internal/sshx"
)

func result(name, stdout string, code int) sshx.Result {
	return sshx.Result{Name: name, Stdout: []byte(stdout), ExitCode: code}
}

func TestParseSystemInfo(t *testing.T) {
	t.Parallel()
	br := sshx.BatchResult{Results: []sshx.Result{
		result(cmdOSRelease, "NAME=\"Ubuntu\"\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\nID=ubuntu\nID_LIKE=debian\n"+
			"PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nVERSION_ID=\"22.04\"\n# comment\n", 0),
		result(cmdUname, "Linux\n5.15.0-105-generic\n#115-Ubuntu SMP Mon Apr 15 09:52:04 UTC 2024\nx86_64\n", 0),
		result(cmdMeminfo, "MemTotal:       16303268 kB\nMemFree:  100 kB\nMemAvailable:   8151634 kB\nSwapTotal:       2097148 kB\n", 0),
		result(cmdDisk, "/dev/sda1 102626232 52428800 44938424 54% /\n", 0),
		result(cmdHostname, "web01\n", 0),
		result(cmdFQDN, "", 1),
		result(cmdSELinux, "Disabled\n", 0),
		result(cmdAppArmor, "Y\n", 0),
		result(cmdFirewall, "ufw active\n", 0),
	}}
	si := parseSystemInfo(br)
	require.Equal(t, "Ubuntu", *si.OSName)
	require.Equal(t, "22.04", *si.OSVersion)
	require.Equal(t, "22.04.4 LTS (Jammy Jellyfish)", *si.OSVersionFull)
	require.Equal(t, "debian", *si.OSFamily)
	require.Equal(t, "ubuntu22", *si.PlatformIdentifier)
	require.Equal(t, "5.15.0-105-generic", *si.KernelRelease)
	require.Equal(t, "x86_64", *si.Architecture)
	require.Equal(t, int32(15921), *si.MemTotalMB)
	require.Equal(t, int32(7960), *si.MemAvailableMB)
	require.Equal(t, int32(2047), *si.SwapTotalMB)
	require.Equal(t, int32(97), *si.DiskTotalGB)
	require.Equal(t, int32(50), *si.DiskUsedGB)
	require.Equal(t, int32(42), *si.DiskFreeGB)
	require.Equal(t, "web01", *si.Hostname)
	require.Nil(t, si.FQDN, "a failed command leaves its field null")
	require.Equal(t, "disabled", *si.SELinuxStatus)
	require.True(t, *si.AppArmorEnabled)
	require.Equal(t, "ufw", *si.FirewallService)
	require.Equal(t, "active", *si.FirewallStatus)

	empty := parseSystemInfo(sshx.BatchResult{})
	require.Equal(t, SystemInfo{}, empty, "missing commands are nulls, not failures")
	require.NotEqual(t, si.Hash(), empty.Hash())
	si2 := si
	si2.MemAvailableMB, si2.DiskFreeGB = ptr(int32(1)), ptr(int32(2))
	require.Equal(t, si.Hash(), si2.Hash(), "free memory and disk are not part of the hash")
}

func TestOSFamilyAndPlatform(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ id, like, version, family, platform string }{
		{"rhel", "fedora", "9.3", "rhel", "rhel9"},
		{"rocky", "rhel centos fedora", "8.9", "rhel", "rocky8"},
		{"debian", "", "12", "debian", "debian12"},
		{"opensuse-leap", "suse opensuse", "15.5", "suse", "opensuseleap15"},
		{"sles", "suse", "15.5", "suse", "sles15"},
		{"mydistro", "ubuntu debian", "1.0", "debian", "mydistro1"},
		{"weird", "", "", "weird", "weird"},
	} {
		require.Equal(t, c.family, osFamily(c.id, c.like), c.id)
		require.Equal(t, c.platform, platformIdentifier(c.id, c.version), c.id)
	}
}

func TestParseIntel(t *testing.T) {
	t.Parallel()
	br := sshx.BatchResult{Privilege: sshx.PrivSudo, Results: []sshx.Result{
		result(CatPackages, "#dpkg\nii \tadduser\t3.134\tall\nrc \told\t1.0\tamd64\nii \tlibc6\t2.36-9\tamd64\tglibc\t2.36-9\n"+
			"ii \tlibc6\t2.36-9\ti386\tglibc\t2.36-9\nii \tlibssl3\t3.0.11-1~deb12u2+b1\tamd64\topenssl\t3.0.11-1~deb12u2\n", 0),
		result(CatServices, "#units\nssh.service loaded active running OpenBSD Secure Shell server\n"+
			"● nginx.service loaded failed failed nginx\n#files\nssh.service enabled enabled\nnginx.service disabled enabled\ngetty@.service enabled enabled\n", 0),
		result(CatPorts, "#ss\ntcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:((\"sshd\",pid=10,fd=3))\n"+
			"tcp LISTEN 0 128 [::]:22 [::]:*\nudp UNCONN 0 0 127.0.0.53%lo:53 0.0.0.0:*\n", 0),
		result(CatUsers, "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\nbroken\n", 0),
		result("shadow", "root \nalice !\n", 0),
		result(CatGroups, "root:x:0:\nsudo:x:27:alice,bob\nusers:x:100:\n", 0),
		result(CatMounts, "/dev/sda1 / ext4 rw,relatime 0 0\n/dev/sdb1 /mnt/my\\040disk xfs ro 0 0\n", 0),
		result(CatKernel, "6.1.0-18-amd64\n#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1\n", 0),
		result(CatReboot, "required reboot-required\n", 0),
		result(CatConfigFiles, "abc123 /etc/passwd\nabsent /etc/sudoers\ndef456 /etc/shadow\n", 0),
		result(CatInterfaces, "#addr\n1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever\n"+
			"2: eth0    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0\n#link\n"+
			"1: lo: <LOOPBACK,UP> mtu 65536 state UNKNOWN mode DEFAULT\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"+
			"2: eth0@if5: <BROADCAST> mtu 1500 state UP\\    link/ether aa:bb:cc:dd:ee:ff brd ff:ff:ff:ff:ff:ff\n", 0),
	}}
	got := parseIntel(br, true)
	for _, c := range Categories {
		require.NoError(t, got[c].err, c)
	}
	require.Equal(t, map[string]Package{"adduser": {Version: "3.134", Arch: "all"},
		"libc6:amd64": {Version: "2.36-9", Arch: "amd64", Source: "glibc"}, "libc6:i386": {Version: "2.36-9", Arch: "i386", Source: "glibc"},
		"libssl3": {Version: "3.0.11-1~deb12u2+b1", Arch: "amd64", Source: "openssl", SourceVersion: "3.0.11-1~deb12u2"}},
		got[CatPackages].value)
	require.Equal(t, map[string]SystemService{"ssh": {"active", "running", "enabled"}, "nginx": {"failed", "failed", "disabled"}},
		got[CatServices].value)
	require.Equal(t, map[string]Port{
		"tcp 0.0.0.0:22":    {Proto: "tcp", Address: "0.0.0.0", Port: 22, Process: "sshd"},
		"tcp [::]:22":       {Proto: "tcp", Address: "::", Port: 22},
		"udp 127.0.0.53:53": {Proto: "udp", Address: "127.0.0.53", Port: 53},
	}, got[CatPorts].value)
	require.Equal(t, map[string]User{
		"root":  {UID: 0, GID: 0, Home: "/root", Shell: "/bin/bash", Locked: ptr(false)},
		"alice": {UID: 1000, GID: 1000, Home: "/home/alice", Shell: "/bin/bash", Locked: ptr(true)},
	}, got[CatUsers].value)
	require.Equal(t, Group{GID: 27, Members: []string{"alice", "bob"}, Privileged: true}, got[CatGroups].value.(map[string]Group)["sudo"])
	require.Equal(t, Mount{Device: "/dev/sdb1", FSType: "xfs", Options: "ro"}, got[CatMounts].value.(map[string]Mount)["/mnt/my disk"])
	require.Equal(t, Kernel{Release: "6.1.0-18-amd64", Version: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1"}, got[CatKernel].value)
	require.Equal(t, Reboot{Required: true, Source: "reboot-required"}, got[CatReboot].value)
	require.Equal(t, map[string]string{"/etc/passwd": "abc123", "/etc/sudoers": "absent", "/etc/shadow": "def456"}, got[CatConfigFiles].value)
	require.Equal(t, map[string]Interface{
		"lo":   {MAC: "00:00:00:00:00:00", State: "unknown", Addresses: []string{"127.0.0.1/8"}},
		"eth0": {MAC: "aa:bb:cc:dd:ee:ff", State: "up", Addresses: []string{"10.0.0.5/24"}},
	}, got[CatInterfaces].value)
}

func TestParseIntelDegrades(t *testing.T) {
	t.Parallel()
	br := sshx.BatchResult{Privilege: sshx.PrivNone, Results: []sshx.Result{
		{Name: CatPackages, Stderr: []byte("no package manager (dpkg, rpm, apk)"), ExitCode: 127},
		result(CatUsers, "root:x:0:0:root:/root:/bin/bash\n", 0),
		{Name: "shadow", Stderr: []byte("sed: can't read /etc/shadow: Permission denied"), ExitCode: 2},
		result(CatConfigFiles, "abc123 /etc/passwd\nunreadable /etc/shadow\n", 0),
		result(CatPorts, "#proc\n#/proc/net/tcp\n  sl  local_address rem_address   st\n"+
			"   0: 0100007F:B503 00000000:0000 0A 00000000:00000000\n   1: 00000000:07E8 00000000:0000 01 0\n"+
			"#/proc/net/tcp6\n   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 0\n", 0),
	}}
	got := parseIntel(br, false)
	require.ErrorContains(t, got[CatPackages].err, "no package manager")
	require.Nil(t, got[CatPackages].value)
	require.NoError(t, got[CatUsers].err, "users are read without root; only the lock state is unknown")
	require.Nil(t, got[CatUsers].value.(map[string]User)["root"].Locked)
	require.ErrorIs(t, got[CatConfigFiles].err, errNeedsRoot)
	require.Equal(t, map[string]string{"/etc/passwd": "abc123"}, got[CatConfigFiles].value)
	require.Error(t, got[CatKernel].err, "a command missing from the output fails its category only")
	require.Equal(t, map[string]Port{
		"tcp 127.0.0.1:46339": {Proto: "tcp", Address: "127.0.0.1", Port: 46339},
		"tcp [::1]:22":        {Proto: "tcp", Address: "::1", Port: 22},
	}, got[CatPorts].value)
}

// TestParsePackagesSources reads rpm's SOURCERPM into the source name and version, and
// still reads lists collected before the source columns were (old dpkg and rpm lines).
func TestParsePackagesSources(t *testing.T) {
	t.Parallel()
	got, err := parsePackages([]byte("#rpm\nopenssl-libs\t1:3.0.7-24.el9\tx86_64\topenssl-3.0.7-24.el9.src.rpm\n" +
		"bash\t5.1.8-9.el9\tx86_64\tbash-5.1.8-9.el9.src.rpm\ngpg-pubkey\t0:abc-1\t(none)\t(none)\nzlib\t1.2.11-40.el9\tx86_64\n"))
	require.NoError(t, err)
	require.Equal(t, map[string]Package{
		"openssl-libs": {Version: "1:3.0.7-24.el9", Arch: "x86_64", Source: "openssl", SourceVersion: "3.0.7-24.el9"},
		"bash":         {Version: "5.1.8-9.el9", Arch: "x86_64"},
		"zlib":         {Version: "1.2.11-40.el9", Arch: "x86_64"},
	}, got)
	got, err = parsePackages([]byte("#dpkg\nii \tadduser\t3.134\tall\n"))
	require.NoError(t, err)
	require.Equal(t, map[string]Package{"adduser": {Version: "3.134", Arch: "all"}}, got)
}
