// Package retention keeps stored data from growing without bound: a policy of how many
// days each kind of data is kept (one row, retention_policy, changed through
// GET/PUT /admin/retention with admin:retention_policy, audited), and a periodic River job
// (retention_apply, hourly, on the elected leader only) that deletes what is past it.
//
// The kinds (Kinds): events (activity feed items and host intelligence events), scan
// evidence (old results' evidence, never that of a host's current results), monitoring
// history (each host keeps its newest check), jobs (finished River jobs), change jobs
// (finished patch and remediation jobs), reports and notification deliveries.
//
// The audit trail is not a kind and cannot become one: Kinds is the closed list of what
// may be deleted, each with its own fixed statement, and audit_events refuses DELETE by
// trigger. The chain therefore always verifies after a run; a test keeps it so.
//
// Each delete takes at most Options.Batch rows in its own short transaction, so a large
// backlog never holds locks for long. Every run is recorded (retention_runs: rows deleted
// per kind, status, error) and, when it deleted something, audited
// (system.retention_applied).
package retention
