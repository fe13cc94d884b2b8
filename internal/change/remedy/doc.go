// Package remedy turns a rule's remediation mechanism into change actions
// (change.Action): the scripts that make the rule's check pass on a host, capture what
// they may touch, preview the change and restore the prior state.
//
// Build derives a Plan from an implementation's typed check parameters, with the site
// variables expanded as the engine expands them. The declarative mechanisms are automatic:
// config_set, config_set_dropin and config_append on a key/value check, sysctl_set,
// package_present, package_absent, apt_present and apt_absent (apt-get or dnf, whichever
// the host has), service_enabled and service_masked (enable, disable or mask, from the
// check's fields), file_permissions on a path or a tree (every directory or file of it
// that breaks the check), kernel_module_disable, mount_option_set and audit_rule_set. A composite check gives one action per part when every part is
// declarative. Everything else (command_exec, pam_*, grub_*, crypto_policy_*, dconf_set,
// authselect_*, cron_job, file_content, file_absent, manual, and any check a mechanism
// cannot be derived from) is a manual plan: no actions, and guidance a person can follow.
//
// Invariants of every action:
//   - Capture prints exactly what Apply may touch: one file (content base64, mode and
//     numeric owner, or "absent"; the mode and owner of each path of a tree the action
//     would change), a package's installed version, a unit's enabled state
//     (and active state when systemd runs), a sysctl's runtime value, a mount's options,
//     whether a module is loaded. It exits non-zero, changing nothing, when the file is
//     too large for its prior state to fit change.MaxPriorBytes, or is not a regular file.
//   - Preview prints a unified diff of the file and one line per other change; it
//     changes nothing.
//   - Apply is idempotent: on a host already in the wanted state it changes nothing.
//   - Restore puts back exactly what Capture printed: the same bytes, mode and owner,
//     or no file when Apply created it (nor the directories Apply created for it).
//
// Several actions may edit one file (every sysctl_set writes SysctlFile): restoring them
// in the reverse order of Apply puts the file back whole, whether each was captured just
// before its Apply or all were captured first.
//
// Scripts are POSIX sh (dash); every value from a rule is quoted with change.Quote or
// passed in the environment to awk. Which implementation a host uses is the rule's
// choice (rule.Rule.Select) on the capabilities engine.CapabilityCommand probes.
package remedy
