package intel

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func codes(t *testing.T, cat string, old, cur any) []string {
	t.Helper()
	raw, err := json.Marshal(old)
	require.NoError(t, err)
	changes, err := diffCategory(cat, raw, cur)
	require.NoError(t, err)
	out := []string{}
	for _, c := range changes {
		require.Equal(t, EventSeverity[c.Code] != "", true, c.Code)
		out = append(out, c.Code+"/"+c.Severity)
	}
	return out
}

func TestDiff(t *testing.T) {
	t.Parallel()
	users := map[string]User{"root": {Shell: "/bin/bash", Locked: ptr(false)}, "bob": {UID: 1001, Shell: "/bin/sh", Locked: ptr(false)}}
	users2 := map[string]User{"root": {Shell: "/bin/zsh", Locked: ptr(true)}, "eve": {UID: 1002, Shell: "/bin/bash"}}
	require.Equal(t, []string{"user_created/medium", "user_removed/medium", "user_shell_changed/medium", "user_locked/low"},
		codes(t, CatUsers, users, users2))
	require.Equal(t, []string{}, codes(t, CatUsers, users, users), "identical values raise nothing")
	unknownLock := map[string]User{"root": {Shell: "/bin/bash"}, "bob": {UID: 1001, Shell: "/bin/sh"}}
	require.Equal(t, []string{}, codes(t, CatUsers, users, unknownLock), "an unknown lock state is no change")

	groups := map[string]Group{"sudo": {GID: 27, Members: []string{"alice"}}, "staff": {GID: 50, Members: []string{}}}
	groups2 := map[string]Group{"sudo": {GID: 27, Members: []string{"bob"}}, "docker": {GID: 999, Members: []string{}}}
	require.Equal(t, []string{"group_created/low", "group_removed/low", "privileged_group_added/high", "privileged_group_removed/medium"},
		codes(t, CatGroups, groups, groups2))

	pkgs := map[string]Package{"a": {Version: "1"}, "b": {Version: "1"}}
	require.Equal(t, []string{"package_installed/info", "package_removed/low", "package_updated/info"},
		codes(t, CatPackages, pkgs, map[string]Package{"a": {Version: "2"}, "c": {Version: "1"}}))

	svcs := map[string]SystemService{"ssh": {Active: "active", Enabled: "enabled"}, "web": {Active: "failed", Enabled: "disabled"}}
	require.Equal(t, []string{"service_failed/high", "service_disabled/low", "service_recovered/info", "service_enabled/low"},
		codes(t, CatServices, svcs, map[string]SystemService{"ssh": {Active: "failed", Enabled: "disabled"}, "web": {Active: "active", Enabled: "enabled"}}))

	ports := map[string]Port{"tcp 0.0.0.0:22": {Proto: "tcp", Address: "0.0.0.0", Port: 22}}
	require.Equal(t, []string{"port_opened/medium", "port_closed/low"},
		codes(t, CatPorts, ports, map[string]Port{"tcp 0.0.0.0:80": {Proto: "tcp", Address: "0.0.0.0", Port: 80}}))

	require.Equal(t, []string{"mount_added/low", "mount_removed/low"},
		codes(t, CatMounts, map[string]Mount{"/a": {}}, map[string]Mount{"/b": {}}))
	require.Equal(t, []string{"kernel_updated/low"}, codes(t, CatKernel, Kernel{Release: "6.1"}, Kernel{Release: "6.2"}))
	require.Equal(t, []string{"reboot_required/medium"}, codes(t, CatReboot, Reboot{}, Reboot{Required: true}))
	require.Equal(t, []string{"reboot_cleared/info"}, codes(t, CatReboot, Reboot{Required: true}, Reboot{}))

	files := map[string]string{"/etc/passwd": "a", "/etc/shadow": "b", "/etc/pam.d/old": "c"}
	require.Equal(t, []string{"config_file_changed/medium", "config_file_changed/high", "config_file_changed/medium", "config_file_changed/medium"},
		codes(t, CatConfigFiles, files, map[string]string{"/etc/passwd": "x", "/etc/shadow": "y", "/etc/pam.d/new": "z"}))

	ifs := map[string]Interface{"eth0": {Addresses: []string{"10.0.0.1/24"}}, "eth1": {Addresses: []string{}}}
	require.Equal(t, []string{"interface_added/low", "interface_removed/low", "interface_address_changed/low"},
		codes(t, CatInterfaces, ifs, map[string]Interface{"eth0": {Addresses: []string{"10.0.0.2/24"}}, "eth2": {Addresses: []string{}}}))
}

// TestEveryEventCodeHasASeverity keeps EventSeverity in step with the code constants.
func TestEveryEventCodeHasASeverity(t *testing.T) {
	t.Parallel()
	require.Len(t, EventSeverity, 27, "the spec's IntelligenceEventCode enum has 27 codes")
}
