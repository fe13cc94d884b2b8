// Package exception keeps exceptions (risk acceptance): a failing rule, or exposure to a
// vulnerability, accepted on one host, on the hosts of a group or fleet-wide, until an
// expiry, with a reason.
//
// Kinds: a rule exception (the default) names rule_id; a vulnerability exception names
// advisory_id, an imported advisory's id or an alias one has (a CVE id covers each DSA or
// USN record aliasing it), and stores an empty rule_id. A request giving the other kind's
// field is a validation error naming it. Both share the lifecycle, four eyes, expiry,
// permissions and audit actions below; a vulnerability exception restates nothing (the
// vulnerability lists read the exceptions in force) but keeps the vulnerability_critical
// alerts in line: approval resolves those it excepts, revocation and expiry raise them
// again (vuln.ResolveStaleCriticalTx, vuln.ExceptionEndedTx).
//
// Lifecycle, guarded (an illegal move is a conflict naming the current state):
//
//	pending  → approved | rejected (decided by someone else) | expired (never decided)
//	approved → revoked | expired
//	rejected, revoked, expired: terminal
//
// Four eyes: the principal that requested an exception can never approve or reject it,
// whatever its roles (403 with detail.reason four_eyes); approving needs
// exception:approve. At most one pending or approved exception exists per scope and rule
// or advisory id (a partial unique index). The expiry is required, in the future and within
// compliance.exception_max_days.
//
// Effect: while an approved exception is in force, the rule's fail on each host it covers
// is recorded as excepted (naming the exception). Approval, revocation and expiry restate
// the covered hosts' results in their own transaction through scan.ReconcileExceptionsTx,
// the same writes an ingested scan makes (state, transition, host rollups and their
// history, fleet totals, per-rule counts), so scores (pass / (pass + fail): excepted is
// neither), trends and as_of answers follow history; a scan stored while an exception is
// in force records the fail as excepted. A host that joins a group later is excepted by
// its next scan; one that leaves keeps the excepted result until its next scan or the
// exception's end.
//
// A periodic job (expiry_worker.go) expires due exceptions as the system, raising
// exception_expired on each host whose rule fails again, and raises one
// exception_expiring alert per approved exception within compliance.exception_expiring_days
// of its expiry, resolved when the exception is revoked or expires. Every step is audited
// with its reason and published on the live stream (topic scans).
package exception
