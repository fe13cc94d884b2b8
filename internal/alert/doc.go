// Package alert keeps the alerts raised by the server's sources (the liveness poller's
// host_unreachable; from scans compliance_drift, score_drop, fleet_score_drop and
// scan_failing; audit_chain_broken from this package's periodic check of the audit chain)
// and their lifecycle.
//
// Sources call RaiseTx and AutoResolveTx inside their own transaction. An alert is keyed by
// its dedup key: at most one alert per key is live (active, acknowledged or silenced), so
// raising a key again counts one more occurrence of the live alert instead of opening
// another. The state machine is guarded:
//
//	active       → acknowledged, silenced, resolved, dismissed
//	acknowledged → silenced, resolved, dismissed
//	silenced     → resolved, dismissed; back to active when its silence runs out (a
//	               periodic job) — acknowledging a silenced alert is refused
//	resolved, dismissed: terminal
//
// An illegal move is a conflict naming the current state. Every transition is audited in
// its transaction, published on the live stream (topic alerts) and recorded in
// alert_transitions with who made it and why: that row is both the alert's history
// (History) and the outbox the notification dispatcher (internal/notify) drains after a
// NOTIFY on openwatch_alert_transitions, so alerting never waits for a channel. An alert
// raised while its host is in maintenance is recorded with suppressed set: notifiers skip
// it.
//
// Score alerts (score.go) share one rule, JudgeScoreTx: a score (pass / (pass + fail))
// raises when it falls at least a number of points below a baseline or under a floor; the
// live alert keeps the baseline it was raised with in its tags, counts an occurrence only
// when the score falls further, and resolves once the score is back at or above the floor
// and within the drop threshold of that baseline. The audit chain check (chain_worker.go)
// runs Writer.Verify every alerts.audit_verify_interval: a broken chain raises the one
// critical audit_chain_broken alert with the verdict in its tags, an intact one resolves
// it, and the verdict is recorded as the chain's last check (GET /audit/integrity) in the
// same transaction, and as the job's output. The thresholds live in the settings document
// alerts (config.go, GET/PUT /system/alerts/config); the configuration file's [alerts]
// keys are their defaults.
package alert
