// Package patch turns patch operations into change actions (change.Action) for apt and
// dnf hosts: all updates, security updates only, or named packages to install, upgrade,
// remove, hold or unhold. One Spec becomes one action, one package-manager transaction.
//
// Its scripts follow the Action contract:
//
//   - Capture refreshes the package index (apt-get update, dnf makecache: caches only,
//     no package changes), works out on the host what Apply would change (apt: a
//     simulation of the same apt-get command, so dependencies pulled in or removed are
//     recorded too; dnf: check-update and the named packages), and prints one record per
//     package: "pkg NAME BEFORE BEFORE_HELD AFTER AFTER_HELD", versions "-" for absent,
//     holds 0 or 1. Security-only on apt means the upgrades whose candidate comes from
//     a suite or codename containing "-security"; on dnf, --security.
//   - Preview prints one line per change from those records ("owtest-app 1.0 → 1.1").
//   - Apply refreshes the index, works the set out again and runs the package manager
//     non-interactively (DEBIAN_FRONTEND=noninteractive, -y, existing configuration
//     files kept, a lock wait of LockWaitSeconds). Apply is idempotent: once the host is
//     up to date there is nothing to do. A held package that a named operation would
//     change fails the action instead of being changed.
//   - Restore reinstalls each recorded package at its captured version (apt: pkg=version
//     with --allow-downgrades from the package sources, or the .deb in
//     /var/cache/apt/archives; dnf: downgrade or install name-version), removes what
//     Apply newly installed and puts holds back (apt-mark, dnf versionlock). A version no
//     longer available is named on stderr and fails the restore, after everything else
//     was restored. Packages Apply changed that Capture did not foresee (the sources
//     changed between the two) are not restored.
//
// RebootRequiredCommand and ParseRebootRequired tell whether the host needs a reboot
// after the change (Debian's /var/run/reboot-required, RHEL's needs-restarting -r).
//
// The package knows nothing of the database, the API or SSH; package
// internal/change/patch/patchtest is its test harness (a local apt repository and
// namespaced targets).
package patch
