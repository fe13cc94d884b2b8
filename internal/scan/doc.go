// Package scan runs compliance scans of inventory hosts and keeps their results.
//
// A scan is requested for one host (POST /hosts/{id}/scans: the scan row, its River job and
// the audit event commit together; 409 scan.in_progress while the host has one queued or
// running, which a partial unique index guarantees across processes). The worker connects
// through hostssh (credentials, host key trust, learned privilege mode), runs the host's
// rules as one program in one SSH session (package engine), publishes progress on the live
// stream (topic scans) as records arrive, and stores the results in one transaction.
//
// A batch (POST /scan-batches) scans many hosts: its scans, one per selected host, are
// queued with it and wait without a job (dispatched false) until the batch's concurrency
// lets them run. The end of each of its scans, in the transaction that ends the scan and
// under the batch's row lock, dispatches the oldest waiting ones and completes the batch
// with its last scan. Hosts in maintenance, when selected or when their scan starts, are
// not scanned.
//
// Storage is write-on-change:
//   - rule_states holds the current result of each (host, rule); a scan rewrites only the
//     rows whose status, severity or evidence changed;
//   - rule_transitions logs each change (first_seen, state_changed, severity_changed, and
//     evidence_changed, which the seed's change feed leaves out): the history that
//     answers "as of" questions;
//   - evidence is content-addressed (SHA-256 of its canonical JSON, timings excluded), so
//     an unchanged result stores nothing new;
//   - rollups per host and framework (host_compliance, with its history), fleet totals per
//     framework (fleet_compliance, sharded by host so concurrent scans rarely wait on one
//     row) and hosts per rule and status (rule_fleet) change in the same transaction by
//     the scan's differences, so summaries never aggregate states;
//   - the fleet totals over time (fleet_compliance_history), which trends read, are
//     recorded by a periodic job each minute they changed, not by every scan.
//
// Alerts (drift.go, alerts.go), raised in the transaction that ends the scan, after the
// batch's lock: compliance_drift per host and rule going pass → fail; score_drop per host
// and framework whose score fell by alerts.score_drop_points in the scan or is below
// alerts.score_floor_percent; scan_failing per host whose scans failed alerts.scan_failures
// times in a row (resolved by a completed scan). fleet_score_drop per framework is judged
// by the fleet snapshot job against the highest score of alerts.fleet_score_window.
//
// Scheduled scans (schedule.go): a periodic job queues scans of the live, reachable hosts
// out of maintenance when they are due, more often the worse their band (their results of
// every rule), within a rate and a cap of scheduled scans at once; configuration in the
// settings document "scan". Hourly retention (retention.go) deletes old ended scans no
// current result names and old evidence nothing kept uses; results and transitions stay.
//
// Invariants:
//   - Rules not for the host's platform have no result: they are not part of its
//     compliance. Every other rule of the scan has exactly one result.
//   - A scan's results are written once: the write is conditional on the scan still
//     running, in the same transaction; a retried job (a worker killed mid-scan) that
//     finds its scan ended writes nothing.
//   - A scan that cannot reach its host, or whose program fails, ends failed with the
//     reason and writes no result. A cancelled scan writes none either.
//   - One score formula everywhere: passing_fraction = pass / (pass + fail); skipped,
//     error and excepted are counted apart.
//
// Exceptions (package exception): a fail that an approved, unexpired exception covering
// the host accepts is stored as excepted, naming the exception (rule_states and
// rule_transitions.exception_id), and counted as excepted in every rollup. A scan applies
// the exceptions in force when it stores its results; an exception taking effect or
// ending restates the covered hosts' results through ReconcileExceptionsTx, in the
// exception's transaction, with the same writes (the transition keeps the scan that found
// the result), so as_of answers and trends follow.
package scan
