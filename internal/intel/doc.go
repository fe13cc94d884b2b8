// Package intel learns what runs on inventory hosts, over SSH.
//
// Naming: the API calls the first job below "discovery" (POST /hosts/{id}/discovery:run,
// /system/discovery/config); in the code it is system info collection, so it cannot be
// confused with network scans for SSH servers (POST /discovery/cidr), which are package
// netscan's.
//
//   - System info collection gathers a host's system information (OS identity from
//     /etc/os-release and its family and platform identifier, kernel, architecture,
//     memory, swap, root disk, hostname and FQDN, SELinux, AppArmor, firewall) and copies
//     the OS fields onto the host. One row per host in host_system_info, rewritten only
//     when a stable fact changed.
//   - Intelligence collection gathers ten categories (packages, services, ports, users,
//     groups, mounts, kernel, reboot, config_files, interfaces) into host_intel_categories,
//     one row per (host, category), written on change. A category whose command fails
//     keeps its last good value with fresh = false and the error; what needs root (the
//     shadow file's lock states, hashes of root-only files) degrades on hosts without root
//     access instead of failing the collection. Differences between the stored and the
//     new value become intelligence_events from the spec's closed list of codes, each also
//     published on the live stream (topic intelligence); a host's first collection is a
//     baseline and raises none.
//
// Invariants:
//   - Every job opens one SSH connection and one session: all commands run as one batch
//     (as root when the host allows it, else as the login user), parsed leniently: a
//     missing command is a null field or a failed category, never a failed job.
//   - One system info and one intelligence collection of a host run at a time in the
//     whole cluster (a session-level PostgreSQL advisory lock, freed when its connection
//     dies; 409 host.busy for an on-demand run, a snoozed job otherwise).
//   - Results are written in one transaction at the end of the run, compared against the
//     stored state inside that transaction: a run killed half-way wrote nothing, and a run
//     repeated after a crash (River's rescuer) finds its own result and writes no event
//     twice.
//   - Scheduled work (River, leader only) enqueues at most rate_limit hosts per minute,
//     skips hosts in maintenance and everything under maintenance_global, and keeps one
//     queued job per host (unique while queued or running).
package intel
