package intel

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// The intelligence event codes (the spec's closed IntelligenceEventCode list).
const (
	EvUserCreated             = "user_created"
	EvUserRemoved             = "user_removed"
	EvUserLocked              = "user_locked"
	EvUserUnlocked            = "user_unlocked"
	EvUserShellChanged        = "user_shell_changed"
	EvPrivilegedGroupAdded    = "privileged_group_added"
	EvPrivilegedGroupRemoved  = "privileged_group_removed"
	EvGroupCreated            = "group_created"
	EvGroupRemoved            = "group_removed"
	EvPortOpened              = "port_opened"
	EvPortClosed              = "port_closed"
	EvPackageInstalled        = "package_installed"
	EvPackageUpdated          = "package_updated"
	EvPackageRemoved          = "package_removed"
	EvKernelUpdated           = "kernel_updated"
	EvRebootRequired          = "reboot_required"
	EvRebootCleared           = "reboot_cleared"
	EvConfigFileChanged       = "config_file_changed"
	EvServiceFailed           = "service_failed"
	EvServiceRecovered        = "service_recovered"
	EvServiceEnabled          = "service_enabled"
	EvServiceDisabled         = "service_disabled"
	EvMountAdded              = "mount_added"
	EvMountRemoved            = "mount_removed"
	EvInterfaceAdded          = "interface_added"
	EvInterfaceRemoved        = "interface_removed"
	EvInterfaceAddressChanged = "interface_address_changed"
)

// Severities of intelligence events (the spec's Severity).
const (
	SevInfo     = "info"
	SevLow      = "low"
	SevMedium   = "medium"
	SevHigh     = "high"
	SevCritical = "critical"
)

// EventSeverity is the severity of each event code. config_file_changed is raised to high
// for the files in HighRiskFiles.
var EventSeverity = map[string]string{
	EvUserCreated: SevMedium, EvUserRemoved: SevMedium, EvUserLocked: SevLow, EvUserUnlocked: SevMedium,
	EvUserShellChanged: SevMedium, EvPrivilegedGroupAdded: SevHigh, EvPrivilegedGroupRemoved: SevMedium,
	EvGroupCreated: SevLow, EvGroupRemoved: SevLow, EvPortOpened: SevMedium, EvPortClosed: SevLow,
	EvPackageInstalled: SevInfo, EvPackageUpdated: SevInfo, EvPackageRemoved: SevLow, EvKernelUpdated: SevLow,
	EvRebootRequired: SevMedium, EvRebootCleared: SevInfo, EvConfigFileChanged: SevMedium,
	EvServiceFailed: SevHigh, EvServiceRecovered: SevInfo, EvServiceEnabled: SevLow, EvServiceDisabled: SevLow,
	EvMountAdded: SevLow, EvMountRemoved: SevLow, EvInterfaceAdded: SevLow, EvInterfaceRemoved: SevLow,
	EvInterfaceAddressChanged: SevLow,
}

// HighRiskFiles are the tracked files whose change is a high-severity event.
var HighRiskFiles = []string{"/etc/shadow", "/etc/gshadow", "/etc/sudoers"}

// Change is one difference between two collections of a category.
type Change struct {
	Code     string
	Severity string
	Detail   map[string]any
}

func change(code string, detail map[string]any) Change {
	return Change{Code: code, Severity: EventSeverity[code], Detail: detail}
}

// diffCategory compares the stored JSON value of a category with a newly collected one.
func diffCategory(cat string, oldJSON []byte, newValue any) ([]Change, error) {
	switch v := newValue.(type) {
	case map[string]Package:
		return diffTyped(oldJSON, v, diffPackages)
	case map[string]SystemService:
		return diffTyped(oldJSON, v, diffServices)
	case map[string]Port:
		return diffTyped(oldJSON, v, diffPorts)
	case map[string]User:
		return diffTyped(oldJSON, v, diffUsers)
	case map[string]Group:
		return diffTyped(oldJSON, v, diffGroups)
	case map[string]Mount:
		return diffTyped(oldJSON, v, diffMounts)
	case Kernel:
		return diffTyped(oldJSON, v, diffKernel)
	case Reboot:
		return diffTyped(oldJSON, v, diffReboot)
	case map[string]string:
		return diffTyped(oldJSON, v, diffConfigFiles)
	case map[string]Interface:
		return diffTyped(oldJSON, v, diffInterfaces)
	}
	return nil, fmt.Errorf("intel: no comparison for category %s (%T)", cat, newValue)
}

func diffTyped[T any](oldJSON []byte, newValue T, fn func(old, cur T) []Change) ([]Change, error) {
	var old T
	if err := json.Unmarshal(oldJSON, &old); err != nil {
		return nil, fmt.Errorf("intel: decode stored value: %w", err)
	}
	return fn(old, newValue), nil
}

// sortedKeys returns the keys of m in order, so events come out in a stable order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// added and removed walk the keys present in only one of two maps.
func addedRemoved[V any](old, cur map[string]V, added, removed func(k string)) {
	for _, k := range sortedKeys(cur) {
		if _, ok := old[k]; !ok {
			added(k)
		}
	}
	for _, k := range sortedKeys(old) {
		if _, ok := cur[k]; !ok {
			removed(k)
		}
	}
}

func diffPackages(old, cur map[string]Package) []Change {
	var out []Change
	addedRemoved(old, cur,
		func(k string) {
			out = append(out, change(EvPackageInstalled, map[string]any{"package": k, "version": cur[k].Version}))
		},
		func(k string) {
			out = append(out, change(EvPackageRemoved, map[string]any{"package": k, "version": old[k].Version}))
		})
	for _, k := range sortedKeys(cur) {
		if o, ok := old[k]; ok && o.Version != cur[k].Version {
			out = append(out, change(EvPackageUpdated, map[string]any{"package": k, "from_version": o.Version, "to_version": cur[k].Version}))
		}
	}
	return out
}

func diffServices(old, cur map[string]SystemService) []Change {
	var out []Change
	for _, k := range sortedKeys(cur) {
		o, n := old[k], cur[k]
		switch {
		case n.Active == "failed" && o.Active != "failed":
			out = append(out, change(EvServiceFailed, map[string]any{"service": k, "previous_state": o.Active}))
		case o.Active == "failed" && n.Active != "failed":
			out = append(out, change(EvServiceRecovered, map[string]any{"service": k, "state": n.Active}))
		}
		if _, existed := old[k]; !existed || o.Enabled == n.Enabled {
			continue
		}
		switch {
		case n.Enabled == "enabled" && o.Enabled != "enabled":
			out = append(out, change(EvServiceEnabled, map[string]any{"service": k, "previous": o.Enabled}))
		case o.Enabled == "enabled" && n.Enabled != "enabled":
			out = append(out, change(EvServiceDisabled, map[string]any{"service": k, "state": n.Enabled}))
		}
	}
	return out
}

func portDetail(p Port) map[string]any {
	d := map[string]any{"proto": p.Proto, "address": p.Address, "port": p.Port}
	if p.Process != "" {
		d["process"] = p.Process
	}
	return d
}

func diffPorts(old, cur map[string]Port) []Change {
	var out []Change
	addedRemoved(old, cur,
		func(k string) { out = append(out, change(EvPortOpened, portDetail(cur[k]))) },
		func(k string) { out = append(out, change(EvPortClosed, portDetail(old[k]))) })
	return out
}

func diffUsers(old, cur map[string]User) []Change {
	var out []Change
	addedRemoved(old, cur,
		func(k string) {
			u := cur[k]
			out = append(out, change(EvUserCreated, map[string]any{"user": k, "uid": u.UID, "shell": u.Shell, "home": u.Home}))
		},
		func(k string) { out = append(out, change(EvUserRemoved, map[string]any{"user": k, "uid": old[k].UID})) })
	for _, k := range sortedKeys(cur) {
		o, ok := old[k]
		if !ok {
			continue
		}
		n := cur[k]
		if o.Shell != n.Shell {
			out = append(out, change(EvUserShellChanged, map[string]any{"user": k, "from_shell": o.Shell, "to_shell": n.Shell}))
		}
		if o.Locked != nil && n.Locked != nil && *o.Locked != *n.Locked {
			code := EvUserUnlocked
			if *n.Locked {
				code = EvUserLocked
			}
			out = append(out, change(code, map[string]any{"user": k}))
		}
	}
	return out
}

func diffGroups(old, cur map[string]Group) []Change {
	var out []Change
	addedRemoved(old, cur,
		func(k string) {
			out = append(out, change(EvGroupCreated, map[string]any{"group": k, "gid": cur[k].GID}))
		},
		func(k string) {
			out = append(out, change(EvGroupRemoved, map[string]any{"group": k, "gid": old[k].GID}))
		})
	for _, g := range PrivilegedGroups {
		o, n := old[g].Members, cur[g].Members
		for _, m := range n {
			if !slices.Contains(o, m) {
				out = append(out, change(EvPrivilegedGroupAdded, map[string]any{"group": g, "user": m}))
			}
		}
		for _, m := range o {
			if !slices.Contains(n, m) {
				out = append(out, change(EvPrivilegedGroupRemoved, map[string]any{"group": g, "user": m}))
			}
		}
	}
	return out
}

func diffMounts(old, cur map[string]Mount) []Change {
	var out []Change
	addedRemoved(old, cur,
		func(k string) {
			out = append(out, change(EvMountAdded, map[string]any{"mountpoint": k, "device": cur[k].Device, "fstype": cur[k].FSType}))
		},
		func(k string) {
			out = append(out, change(EvMountRemoved, map[string]any{"mountpoint": k, "device": old[k].Device, "fstype": old[k].FSType}))
		})
	return out
}

func diffKernel(old, cur Kernel) []Change {
	if old.Release == "" || old.Release == cur.Release {
		return nil
	}
	return []Change{change(EvKernelUpdated, map[string]any{"from_release": old.Release, "to_release": cur.Release})}
}

func diffReboot(old, cur Reboot) []Change {
	switch {
	case cur.Required && !old.Required:
		return []Change{change(EvRebootRequired, map[string]any{"source": cur.Source})}
	case old.Required && !cur.Required:
		return []Change{change(EvRebootCleared, map[string]any{"source": cur.Source})}
	}
	return nil
}

// diffConfigFiles reports files whose hash changed; files tracked by name read "absent"
// when missing, and drop-in files (CriticalDirs) that appear or disappear change from or
// to "absent".
func diffConfigFiles(old, cur map[string]string) []Change {
	var out []Change
	report := func(path, from, to string) {
		c := change(EvConfigFileChanged, map[string]any{"path": path, "from_sha256": from, "to_sha256": to})
		if slices.Contains(HighRiskFiles, path) {
			c.Severity = SevHigh
		}
		out = append(out, c)
	}
	for _, k := range sortedKeys(cur) {
		if o, ok := old[k]; ok && o != cur[k] {
			report(k, o, cur[k])
		}
	}
	addedRemoved(old, cur,
		func(k string) { report(k, fileAbsent, cur[k]) },
		func(k string) { report(k, old[k], fileAbsent) })
	return out
}

func diffInterfaces(old, cur map[string]Interface) []Change {
	var out []Change
	addedRemoved(old, cur,
		func(k string) {
			out = append(out, change(EvInterfaceAdded, map[string]any{"interface": k, "addresses": cur[k].Addresses}))
		},
		func(k string) {
			out = append(out, change(EvInterfaceRemoved, map[string]any{"interface": k, "addresses": old[k].Addresses}))
		})
	for _, k := range sortedKeys(cur) {
		o, ok := old[k]
		if ok && !slices.Equal(o.Addresses, cur[k].Addresses) {
			out = append(out, change(EvInterfaceAddressChanged, map[string]any{"interface": k,
				"from_addresses": o.Addresses, "to_addresses": cur[k].Addresses}))
		}
	}
	return out
}
