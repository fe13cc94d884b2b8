// Package change is the one machinery behind remediation and patching: a change job
// targets hosts, is ordered into waves, and changes each host in its own River job, over
// SSH, agentless.
//
// A host's change runs these phases, each recorded as steps (command, capped output, exit
// status, timing) and published live on the event stream (topic jobs):
//
//  1. The host's maintenance window: unless the job was started with an audited override,
//     the host waits (its River job snoozes) until one of its windows is open. A window
//     that closes while a host is being changed lets that host finish; the hosts after it
//     wait for the next opening.
//  2. Pre-checks: the job's health checks must pass before anything changes; a host that
//     is unhealthy already is not changed (and counts as failed).
//  3. Capture: the actions (Action) are planned for the host and the prior state of
//     everything they may touch is captured and stored before any change.
//  4. Apply: the actions run in order in one SSH session; the first failure stops the rest.
//  5. Reboot, as the job's policy says (never, if required, always).
//  6. Post-checks: the health checks again. A failed action or post-check restores the
//     captured state at once (the applied actions, last first) and checks health again.
//
// Waves: the canary wave (a count, or a percentage of the hosts) runs first; each later
// wave is growth times the size of the one before. A wave starts when every host of the
// previous one is done. The failure budget (a number of hosts, or a percentage) halts the
// rollout when spent: hosts in flight finish, nothing later starts. A halted rollout can
// be resumed (the budget counts again from then) or rolled back.
//
// Approval: a remediation, or a patch job touching an environment listed in the change
// settings, waits for a second person's approval (four eyes: the requester cannot approve).
// Cancel stops before the next host. Rollback of a finished, halted or cancelled job
// restores every host it changed, from the stored prior state.
//
// From an advisory (advisory.go): AdvisoryPlan works out, for an advisory id or a CVE
// alias, the live hosts with an open exposure whose fix is installable and that no
// vulnerability exception covers (Deps.VulnExcepted), and the installed binary packages of
// the affected source packages; CreateFromAdvisory creates that patch job through Create
// (mode packages, one upgrade to the newest available version per binary package; a host
// upgrades those it has installed), so approval, windows and waves apply as to any patch
// job, with the advisory ids in its reason and audit event.
//
// Invariants: the prior state is committed before Apply runs, so a worker that dies mid-
// change leaves a host that can still be restored (the retry of that host's River job does
// it); a host row's status moves only forward under its row lock, and a host being changed
// belongs to the River job that claimed it, so a duplicate job never changes or restores a
// host another job is changing.
package change
